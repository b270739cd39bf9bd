import Jobq
import JobqCore

/// One task of a batch: its decoded input and its own ``HandlerContext`` (progress, logs,
/// prerequisites, attempt, and its own stop flag: ``isStopRequested``).
public struct BatchItem<Input: Sendable>: Sendable {
    public let input: Input
    public let context: HandlerContext

    /// The task's id: the key of its outcome in what the handler returns.
    public var id: String { context.taskID }

    /// Whether this task was cancelled, timed out or is being handed back while the batch runs.
    /// Its outcome is then the stop's, whatever the handler reports for it: skip its work if
    /// you can. (The batch's Swift `Task` itself is cancelled only once every task of the batch
    /// was told to stop.)
    public var isStopRequested: Bool { context.stopReason != nil }
}

/// What a batch handler reports for one task.
public enum BatchOutcome<Output: Sendable>: Sendable {
    /// DONE with this result.
    case done(Output)
    /// Whatever throwing this error from a single-task handler means: a failed attempt retried
    /// per the task's backoff, or a `HandlerError` (`.permanent`, `.retry(after:)`, `.snooze`,
    /// `.skip`, …) with its own meaning.
    case failed(any Error)
}

extension HandlerRegistry {
    /// Registers a handler that takes up to `max` tasks at once.
    ///
    /// The worker gathers claimed tasks of `name` (grouped by `key`, a template such as
    /// `tenant-{payload.tenant}`) until `max` are there or `wait` has passed since the first, then
    /// calls `handler` once with all of them. The handler returns one outcome per task, keyed by
    /// task id; a task it leaves out fails (a retried attempt, reason `batch_no_outcome`), and a
    /// throw fails every task of the batch as that error would fail one task. A payload that does
    /// not decode as `Input` fails that task (`bad_payload`) and is not passed to the handler.
    /// Each task's outcome is recorded under its own lease (fenced), as for any handler.
    ///
    /// Settings are checked when the worker is created (`invalid_option`: `max` from 1 to 1000,
    /// `wait` from 0 to 60s, a `key` naming a `{payload.FIELD}`).
    public mutating func register<Input: Decodable & Sendable & SendableMetatype, Output: Encodable & Sendable & SendableMetatype>(
        batch name: String, max: Int, wait: Duration = .milliseconds(200), key: String? = nil,
        _ handler: @escaping @Sendable ([BatchItem<Input>]) async throws -> [String: BatchOutcome<Output>]
    ) {
        let settings = BatchSettings(max: max, wait: wait, key: key)
        set(batch: AnyBatchHandler(name: name, settings: settings) { contexts in
            var items: [BatchItem<Input>] = []
            var outcomes: [String: BatchOutcome<[UInt8]>] = [:]
            for context in contexts {
                do throws(JobqError) {
                    items.append(BatchItem(input: try PayloadCoding.decode(Input.self, from: context.payload), context: context))
                } catch {
                    outcomes[context.taskID] = .failed(PayloadDecodingFailure(message: "payload does not decode as \(Input.self): \(error.message)"))
                }
            }
            guard !items.isEmpty else { return outcomes }
            for (id, outcome) in try await handler(items) where outcomes[id] == nil {
                switch outcome {
                case .done(let output):
                    do throws(JobqError) {
                        outcomes[id] = .done(try PayloadCoding.encode(output))
                    } catch {
                        outcomes[id] = .failed(HandlerError.permanent("result of type \(Output.self) does not encode as JSON: \(error.message)", reason: "bad_result"))
                    }
                case .failed(let error):
                    outcomes[id] = .failed(error)
                }
            }
            return outcomes
        })
    }

    /// Registers a batch handler on JSON bytes: each context's ``HandlerContext/payload`` in,
    /// results as JSON bytes out (empty means `null`), for proxies and command runners.
    public mutating func register(
        batch name: String, settings: BatchSettings,
        raw handler: @escaping @Sendable (_ contexts: [HandlerContext]) async throws -> [String: BatchOutcome<[UInt8]>]
    ) {
        set(batch: AnyBatchHandler(name: name, settings: settings, body: handler))
    }
}

/// A registered batch handler with its types erased: contexts in, one outcome per task id out.
struct AnyBatchHandler: Sendable {
    let name: String
    let settings: BatchSettings
    /// `settings.key` parsed (`nil` without a key, or when it does not parse: the worker refuses
    /// to start then, ``BatchSettings/validate(handler:)``).
    let keyTemplate: BatchKeyTemplate?
    let body: @Sendable (_ contexts: [HandlerContext]) async throws -> [String: BatchOutcome<[UInt8]>]

    init(name: String, settings: BatchSettings, body: @escaping @Sendable (_ contexts: [HandlerContext]) async throws -> [String: BatchOutcome<[UInt8]>]) {
        self.name = name
        self.settings = settings
        self.keyTemplate = settings.key.flatMap { try? BatchKeyTemplate($0) }
        self.body = body
    }
}
