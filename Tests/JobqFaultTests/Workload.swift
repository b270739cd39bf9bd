import Foundation
import JobqCore

/// The mixed workload: mostly short sleeps, plus chains, fan-ins, a permanent failure with a
/// dependent (which must end CANCELLED, never run) and a task that fails once then succeeds.
enum Workload {
    /// One batch of `size` specs (ids prefixed `b<batch>-`) and what the checker expects of each.
    static func batch(_ batch: Int, size: Int) -> [(TaskSpec, expectedRuns: Int, expectedState: TaskState?)] {
        let prefix = "b\(batch)-"
        var items: [(TaskSpec, Int, TaskState?)] = []
        // 10 chains of 4.
        for chain in 0..<10 {
            var previous: [String] = []
            for step in 0..<4 {
                let id = "\(prefix)c\(chain)-\(step)"
                items.append((spec(id, after: previous), 1, .done))
                previous = [id]
            }
        }
        // 5 fan-ins: 7 leaves and a sink.
        for fan in 0..<5 {
            let leaves = (0..<7).map { "\(prefix)f\(fan)-\($0)" }
            for leaf in leaves { items.append((spec(leaf), 1, .done)) }
            items.append((spec("\(prefix)f\(fan)-sink", "jobq.echo", payload: "\(fan)", after: leaves), 1, .done))
        }
        // A permanent failure and its dependent chain (CANCELLED, never started).
        items.append((spec("\(prefix)bad", "jobq.fail", payload: #"{"final": true}"#), 1, .failed))
        items.append((spec("\(prefix)bad-child", after: ["\(prefix)bad"]), 0, .cancelled))
        items.append((spec("\(prefix)bad-grandchild", after: ["\(prefix)bad-child"]), 0, .cancelled))
        // Fails once, then succeeds.
        items.append((spec("\(prefix)flaky", "jobq.fail", payload: #"{"times": 1, "delay_ms": 50}"#), 2, .done))
        // The rest: independent short sleeps, 1–5 ms.
        var index = 0
        while items.count < size {
            let seconds = Double(1 + index % 5) / 1000
            items.append((spec("\(prefix)s\(index)", payload: "{\"seconds\": \(seconds)}"), 1, .done))
            index += 1
        }
        return items
    }
}
