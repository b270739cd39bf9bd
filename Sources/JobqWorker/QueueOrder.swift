import Foundation
import JobqCore

/// The order a worker offers its queues to one claim.
///
/// Without weights: the configured order, every claim (strict: a queue is drained before the
/// next is looked at). With weights (`critical=6,default=3,low=1`, as asynq's): each claim draws
/// its order at random, a queue first with probability weight / total, then the next among the
/// rest the same way (weighted sampling without replacement). So under a backlog on every queue,
/// `critical` heads about 60% of the claims, `default` 30%, `low` 10%: a low queue always gets a
/// share, where strict order starves it. The claim still goes on to the next queues when the
/// first has less than the batch, so no slot stays idle while any queue has work.
package struct QueueOrder: Sendable, Hashable {
    package let queues: [String]
    /// Parallel to ``queues``; empty for strict order.
    package let weights: [Int]

    package init(queues: [String], weights: [String: Int]) {
        self.queues = queues
        self.weights = weights.isEmpty ? [] : queues.map { weights[$0] ?? 1 }
    }

    /// Weights allowed per queue.
    package static let weightRange = 1...1000

    /// The order for one claim.
    package func next(using generator: inout some RandomNumberGenerator) -> [String] {
        guard !weights.isEmpty, queues.count > 1 else { return queues }
        var remaining = Array(zip(queues, weights))
        var total = weights.reduce(0, +)
        var order: [String] = []
        order.reserveCapacity(queues.count)
        while remaining.count > 1 {
            var draw = Int.random(in: 0..<total, using: &generator)
            var index = 0
            while draw >= remaining[index].1 {
                draw -= remaining[index].1
                index += 1
            }
            let (queue, weight) = remaining.remove(at: index)
            order.append(queue)
            total -= weight
        }
        order.append(remaining[0].0)
        return order
    }

    /// Reads the queue list of `--queues` / `worker.queues`: names (strict order) or all of them
    /// `name=weight` (weighted); a mix, a weight that is not a whole number from 1 to 1000, or a
    /// name twice is `invalid_option`.
    package static func parse(_ items: [String]) throws(JobqError) -> (queues: [String], weights: [String: Int]) {
        var queues: [String] = []
        var weights: [String: Int] = [:]
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
            try Validation.check(name: name, as: .queue)
            guard !queues.contains(name) else { throw JobqError(.invalidOption, "queue \(name) is listed twice") }
            queues.append(name)
            if parts.count == 2 {
                let text = String(parts[1]).trimmingCharacters(in: .whitespaces)
                guard let weight = Int(text), weightRange.contains(weight) else {
                    throw JobqError(.invalidOption, "queue weight \"\(text)\" of \(name) must be a whole number from \(weightRange.lowerBound) to \(weightRange.upperBound)")
                }
                weights[name] = weight
            }
        }
        guard weights.isEmpty || weights.count == queues.count else {
            throw JobqError(.invalidOption, "give every queue a weight (critical=6,default=3,low=1) or none (strict order)")
        }
        return (queues, weights)
    }
}
