import JobqCore
import JobqTestSupport
import Testing

@testable import JobqWorker

/// Weighted selection across queues (``QueueOrder``): pure logic, with a seeded generator.
@Suite("queue order: strict and weighted")
struct QueueOrderTests {
    @Test func withoutWeightsEveryClaimGetsTheConfiguredOrder() {
        let order = QueueOrder(queues: ["critical", "default", "low"], weights: [:])
        var generator = SeededGenerator(state: 1)
        for _ in 0..<100 { #expect(order.next(using: &generator) == ["critical", "default", "low"]) }
    }

    @Test func theFirstQueueIsDrawnByWeightWithinATolerance() {
        let order = QueueOrder(queues: ["critical", "default", "low"], weights: ["critical": 6, "default": 3, "low": 1])
        var generator = SeededGenerator(state: 42)
        var first: [String: Int] = [:]
        let draws = 100_000
        for _ in 0..<draws {
            let drawn = order.next(using: &generator)
            #expect(drawn.count == 3 && Set(drawn) == ["critical", "default", "low"], "every queue, once: \(drawn)")
            first[drawn[0], default: 0] += 1
        }
        for (queue, share) in [("critical", 0.6), ("default", 0.3), ("low", 0.1)] {
            let seen = Double(first[queue] ?? 0) / Double(draws)
            #expect(abs(seen - share) < 0.01, "\(queue) first in \(seen) of the claims; its weight gives \(share)")
        }
    }

    @Test func theSecondPlaceIsDrawnAmongTheRest() {
        // critical first (6/10), then default before low 3 times in 4
        let order = QueueOrder(queues: ["critical", "default", "low"], weights: ["critical": 6, "default": 3, "low": 1])
        var generator = SeededGenerator(state: 7)
        var afterCritical = 0
        var defaultSecond = 0
        for _ in 0..<50_000 {
            let drawn = order.next(using: &generator)
            guard drawn[0] == "critical" else { continue }
            afterCritical += 1
            if drawn[1] == "default" { defaultSecond += 1 }
        }
        let seen = Double(defaultSecond) / Double(afterCritical)
        #expect(abs(seen - 0.75) < 0.015, "default second after critical in \(seen) of those claims; expected 0.75")
    }

    @Test func theSameSeedGivesTheSameOrders() {
        let order = QueueOrder(queues: ["a", "b", "c", "d"], weights: ["a": 1, "b": 2, "c": 3, "d": 4])
        var one = SeededGenerator(state: 99)
        var two = SeededGenerator(state: 99)
        let first = (0..<50).map { _ in order.next(using: &one) }
        let second = (0..<50).map { _ in order.next(using: &two) }
        #expect(first == second)
        #expect(Set(first.map { $0[0] }).count > 1, "the order varies between claims")
    }

    @Test func parsingNamesWeightsAndRefusals() throws {
        let strict = try QueueOrder.parse(["critical", "default"])
        #expect(strict.queues == ["critical", "default"] && strict.weights.isEmpty)
        let weighted = try QueueOrder.parse(["critical=6", "default = 3", "low=1"])
        #expect(weighted.queues == ["critical", "default", "low"])
        #expect(weighted.weights == ["critical": 6, "default": 3, "low": 1])
        for bad in [["a=6", "b"], ["a=0"], ["a=1001"], ["a=x"], ["a=1.5"], ["a=2", "a=3"], ["a:b=1"]] {
            let error = #expect(throws: JobqError.self, "\(bad)") { try QueueOrder.parse(bad) }
            #expect(error?.code == (bad == ["a:b=1"] ? .invalidName : .invalidOption), "\(bad): \(String(describing: error))")
        }
    }

    @Test func theConfigurationRefusesWeightsThatDoNotMatchItsQueues() {
        var configuration = WorkerConfiguration(queues: ["a", "b"], concurrency: 1)
        configuration.queueWeights = ["a": 2, "b": 1]
        #expect(throws: Never.self) { try configuration.validate() }
        configuration.queueWeights = ["a": 2]
        #expect(throws: JobqError.self) { try configuration.validate() }
        configuration.queueWeights = ["a": 2, "b": 0]
        #expect(throws: JobqError.self) { try configuration.validate() }
    }
}
