import Foundation
import JobqCore

/// How a ``Worker`` runs: which queues, how many tasks at once, and its timings.
///
/// Defaults suit most deployments. ``validate()`` (called by ``Worker/init(store:registry:configuration:logger:)``)
/// rejects combinations that cannot work, such as a heartbeat too slow to keep the lease alive.
public struct WorkerConfiguration: Sendable, Hashable {
    /// Queues to claim from, in priority order: a queue is drained before the next is looked at
    /// (strict order), unless ``queueWeights`` are given.
    public var queues: [String]
    /// Weighted selection across ``queues`` (asynq-style, `["critical": 6, "default": 3, "low": 1]`):
    /// each claim draws the queue order at random, a queue first with probability weight / total,
    /// so every queue gets a share under a backlog. Empty (the default): strict order. When
    /// given, every queue needs a weight from 1 to 1000.
    public var queueWeights: [String: Int] = [:]
    /// Most handlers running at once (slots).
    public var concurrency: Int
    /// How long a claim is valid without a heartbeat. A worker that dies loses its tasks to the
    /// retry path this long after its last heartbeat.
    public var lease: Duration = .seconds(30)
    /// How often held leases are extended (one `heartbeat` call for all), cancellations learned
    /// and the worker's registration refreshed. At most `lease / 3`.
    public var heartbeat: Duration = .seconds(10)
    /// On shutdown, how long running tasks may go on before they are handed back.
    public var shutdownGrace: Duration = .seconds(30)
    /// How long a handler that was told to stop (cancel, timeout, shutdown) may take to return
    /// before its outcome is reported anyway. Its slot stays busy until it does return.
    public var stopTimeout: Duration = .seconds(5)
    /// How often the maintenance pass (reap expired leases, promote due delayed tasks) runs;
    /// a lock in Redis makes one worker of the fleet do it per interval.
    public var maintenanceInterval: Duration = .seconds(1)
    /// The longest an idle worker blocks waiting for a wake-up before it looks again anyway.
    public var idleWait: Duration = .seconds(5)
    /// Most tasks taken per claim call; `nil` means `concurrency`.
    public var claimBatch: Int?
    /// Progress and log lines of a task are sent at most this often (and before its outcome).
    public var reportInterval: Duration = .milliseconds(250)
    /// Most log lines buffered per task between two flushes; older ones are dropped (and counted).
    public var maxBufferedLogLines: Int = 1000
    /// Drain mode: return once the queues are empty, nothing runs in the namespace and no
    /// delayed task is due within ``drainHorizon``.
    public var exitWhenDrained = false
    /// In drain mode, delayed tasks (retries) due within this are waited for.
    public var drainHorizon: Duration = .seconds(5)
    /// The id under which the worker claims and registers; unique per process.
    public var workerID: String

    /// Slots when none are configured: 10, for handlers that mostly wait on I/O (other
    /// systems, programs, the network), the common case; peers pick 5–10 (Sidekiq 5 threads,
    /// Dramatiq 8 per process). The claim batch is the free slot count, so too few slots also
    /// costs throughput: see docs/worker.md. CPU-bound handlers want the number of cores.
    public static let defaultConcurrency = 10

    public init(queues: [String] = [TaskSpec.defaultQueue], concurrency: Int = WorkerConfiguration.defaultConcurrency, workerID: String? = nil) {
        self.queues = queues
        self.concurrency = concurrency
        self.workerID = workerID ?? Self.generateWorkerID()
    }

    /// `host-pid-xxxx`, sanitised into the name grammar.
    public static func generateWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.prefix(60).map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "-" || character == "_")
                ? character : "-"
        }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return "\(String(host).isEmpty ? "worker" : String(host))-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }

    /// The effective claim batch.
    var effectiveClaimBatch: Int { max(1, min(claimBatch ?? concurrency, concurrency)) }

    /// Throws `invalid_option` (or `invalid_name`) naming the first setting that cannot work.
    public func validate() throws(JobqError) {
        guard !queues.isEmpty else { throw JobqError(.invalidOption, "no queues given: name at least one queue to claim from") }
        var seen = Set<String>()
        for queue in queues {
            try Validation.check(name: queue, as: .queue)
            guard seen.insert(queue).inserted else { throw JobqError(.invalidOption, "queue \(queue) is listed twice") }
        }
        if !queueWeights.isEmpty {
            guard Set(queueWeights.keys) == Set(queues) else {
                throw JobqError(.invalidOption, "queue weights must name exactly the worker's queues (\(queues.joined(separator: ",")))")
            }
            for (queue, weight) in queueWeights where !QueueOrder.weightRange.contains(weight) {
                throw JobqError(.invalidOption, "queue weight of \(queue) must be from \(QueueOrder.weightRange.lowerBound) to \(QueueOrder.weightRange.upperBound); got \(weight)")
            }
        }
        try Validation.check(name: workerID, as: .workerID)
        try Self.check(concurrency, in: 1...10_000, "concurrency")
        if let claimBatch { try Self.check(claimBatch, in: 1...10_000, "claim batch") }
        try Self.check(lease, in: .seconds(1)...(.seconds(24 * 3600)), "lease")
        try Self.check(heartbeat, in: .milliseconds(50)...(.seconds(8 * 3600)), "heartbeat")
        guard heartbeat * 3 <= lease else {
            throw JobqError(
                .invalidOption,
                "heartbeat \(DurationText.format(heartbeat)) is too slow for lease \(DurationText.format(lease)): it must be at most lease/3 (\(DurationText.format(lease / 3))) so that one lost heartbeat does not lose the task — lower the heartbeat or raise the lease"
            )
        }
        try Self.check(shutdownGrace, in: .zero...(.seconds(24 * 3600)), "shutdown grace")
        try Self.check(stopTimeout, in: .zero...(.seconds(3600)), "stop timeout")
        try Self.check(maintenanceInterval, in: .milliseconds(50)...(.seconds(3600)), "maintenance interval")
        try Self.check(idleWait, in: .milliseconds(10)...(.seconds(3600)), "idle wait")
        try Self.check(reportInterval, in: .milliseconds(1)...(.seconds(60)), "report interval")
        try Self.check(maxBufferedLogLines, in: 1...100_000, "max buffered log lines")
        try Self.check(drainHorizon, in: .zero...(.seconds(3600)), "drain horizon")
    }

    private static func check<T: Comparable>(_ value: T, in range: ClosedRange<T>, _ what: String) throws(JobqError) {
        guard range.contains(value) else {
            throw JobqError(.invalidOption, "\(what) must be between \(describe(range.lowerBound)) and \(describe(range.upperBound)); got \(describe(value))")
        }
    }

    private static func describe<T>(_ value: T) -> String {
        if let duration = value as? Duration { return DurationText.format(duration) }
        return "\(value)"
    }
}
