import Foundation
import Jobq
import JobqWorker

/// The demo and test handlers, in a module of their own so that the `JobqWorker` library users
/// link does not carry them: only the `jobq-worker` executable (`--enable-test-handlers`) and
/// jobq's own tests link this.
extension HandlerRegistry {
    /// Test and demo handlers (`jobq-worker --enable-test-handlers`), for trying jobq out and for
    /// fault tests. Never enable them on a production fleet: `jobq.crash` kills the worker.
    ///
    /// | name | payload | does |
    /// |---|---|---|
    /// | `jobq.noop` | anything | nothing; result `null` |
    /// | `jobq.echo` | anything | result = payload |
    /// | `jobq.sleep` | `{"seconds": 1.5}` | sleeps (cancellable); result `{"slept": 1.5}` |
    /// | `jobq.fail` | `{"times": 2, "final": false}` | fails attempts 1…times, then succeeds; `final` fails permanently instead |
    /// | `jobq.crash` | `{"exit_code": 3}` (optional) | kills the worker process (SIGKILL, or exit with the code) |
    /// | `jobq.progress` | `{"steps": 5, "interval_ms": 100}` | reports progress (overall and per step) and logs each step |
    /// | `jobq.ratelimited` | `{"retry_after_ms": 500}` | the first run of each task reports backpressure (``HandlerError/rateLimited(retryAfter:_:)``, remembered in a checkpoint); the next run succeeds |
    /// | `jobq.whoami` | anything | result `{"task": id, "run": run, "payload": payload, "results": {key: result(of: key)}}` |
    /// | `jobq.snooze` | `{"times": 2, "ms": 50}` | snoozes its first `times` runs for `ms` each (counted in a checkpoint), then succeeds; result `{"snoozed": times}` |
    /// | `jobq.wait` | `{"signal": "go", "timeout_ms": 5000}` (timeout optional) | waits for the signal (``HandlerContext/waitForSignal(_:timeout:)``), holding no slot; result: the signal's payload |
    ///
    /// With `JOBQ_TEST_JOURNAL=/path` in the environment, every run of these handlers appends a
    /// start line and an end line to that file (see ``TestJournal``): the independent record the
    /// fault tests check jobq against.
    public mutating func registerTestHandlers() {
        register("jobq.noop", raw: { _, context in
            try await TestJournal.run(context) { Array("null".utf8) }
        })
        register("jobq.echo", raw: { payload, context in
            try await TestJournal.run(context) { payload }
        })
        register("jobq.sleep") { (input: SleepInput, context: HandlerContext) async throws -> SleepInput in
            try await TestJournal.run(context) {
                guard input.seconds.isFinite, input.seconds >= 0 else {
                    throw HandlerError.permanent("seconds must be a non-negative number", reason: "bad_payload")
                }
                try await Task.sleep(for: .milliseconds(Int64(input.seconds * 1000)))
                return SleepInput(slept: input.seconds)
            }
        }
        register("jobq.fail") { (input: FailInput, context: HandlerContext) async throws -> FailOutput in
            try await TestJournal.run(context) {
                if input.final == true {
                    throw HandlerError.permanent("jobq.fail: failing permanently as asked", reason: "test_failure")
                }
                if context.attempt <= (input.times ?? 1) {
                    throw HandlerError.retry("jobq.fail: attempt \(context.attempt) fails as asked (times=\(input.times ?? 1))", after: input.delayMilliseconds.map { .milliseconds($0) }, reason: "test_failure")
                }
                return FailOutput(attempt: context.attempt)
            }
        }
        register("jobq.ratelimited", raw: { payload, context in
            try await TestJournal.run(context) {
                if (try context.checkpoint(as: Bool.self)) == nil {
                    let input = try? PayloadCoding.decode(RateLimitedInput.self, from: payload)
                    try await context.checkpoint(true)
                    throw HandlerError.rateLimited(retryAfter: .milliseconds(input?.retryAfterMs ?? 500), "jobq.ratelimited: 429 as asked")
                }
                return Array("null".utf8)
            }
        })
        // Snoozes (uses no attempt) a given number of times: the fault suite's source of
        // snoozed/resumed transitions under load. The count survives in the checkpoint.
        register("jobq.snooze") { (input: SnoozeInput, context: HandlerContext) async throws -> SnoozeOutput in
            try await TestJournal.run(context) {
                let done = (try context.checkpoint(as: Int.self)) ?? 0
                if done < (input.times ?? 1) {
                    try await context.checkpoint(done + 1)
                    throw HandlerError.snooze(for: .milliseconds(max(1, input.ms ?? 50)), "jobq.snooze: \(done + 1) of \(input.times ?? 1)")
                }
                return SnoozeOutput(snoozed: done)
            }
        }
        // Waits for a signal (holding no slot), then returns its payload: the fault suite's
        // source of waiting/signalled transitions under load.
        register("jobq.wait", raw: { payload, context in
            try await TestJournal.run(context) {
                let input = try? PayloadCoding.decode(WaitInput.self, from: payload)
                return try await context.waitForSignal(input?.signal ?? "go", timeout: input?.timeoutMs.map { .milliseconds($0) })
            }
        })
        register("jobq.crash", raw: { payload, context in
            try await TestJournal.run(context) {
                let input = try? PayloadCoding.decode(CrashInput.self, from: payload)
                context.logger.critical("jobq.crash: killing this worker process as asked")
                if let code = input?.exitCode {
                    exit(code)
                }
                kill(getpid(), SIGKILL)
                return Array("null".utf8)
            }
        })
        // Says who ran and what it was given (the payload after `$retval` substitution, and each
        // prerequisite's result as `result(of: key)` reads it), so a test can prove that no task
        // of a run read another run's results.
        register("jobq.whoami", raw: { payload, context in
            try await TestJournal.run(context) {
                var out = Array(#"{"task":"#.utf8) + jsonString(context.taskID)
                out += Array(#","run":"#.utf8) + (context.runID.map(jsonString) ?? Array("null".utf8))
                out += Array(#","payload":"#.utf8) + (payload.isEmpty ? Array("null".utf8) : payload)
                out += Array(#","results":{"#.utf8)
                for (index, prerequisite) in context.prerequisites.enumerated() {
                    let key = RunScope.key(of: prerequisite.id)
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out += jsonString(key) + [UInt8(ascii: ":")] + (context.rawResult(of: key) ?? Array("null".utf8))
                }
                return out + Array("}}".utf8)
            }
        })
        register("jobq.progress") { (input: ProgressInput, context: HandlerContext) async throws -> ProgressInput in
            try await TestJournal.run(context) {
                let steps = max(0, min(input.steps ?? 5, 10_000))
                for step in 1...max(steps, 1) where steps > 0 {
                    try Task.checkCancellation()
                    context.progress(["steps"], current: step, total: steps, status: "step \(step) of \(steps)")
                    context.progress(percent: Double(step) * 100 / Double(steps), status: "working")
                    context.logger.info("jobq.progress: step \(step) of \(steps)")
                    if let interval = input.intervalMilliseconds, interval > 0 {
                        try await Task.sleep(for: .milliseconds(interval))
                    }
                }
                return ProgressInput(steps: steps, intervalMilliseconds: input.intervalMilliseconds)
            }
        }
    }

}

/// `text` as a JSON string literal.
private func jsonString(_ text: String) -> [UInt8] {
    Array((try? JSONEncoder().encode(text)) ?? Data(#""""#.utf8))
}

struct SleepInput: Codable, Sendable {
    var seconds: Double = 0
    var slept: Double?

    init(slept: Double) {
        self.slept = slept
    }

    private enum CodingKeys: String, CodingKey {
        case seconds, slept
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        seconds = try container.decode(Double.self, forKey: .seconds)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(slept ?? seconds, forKey: .slept)
    }
}

struct FailInput: Decodable, Sendable {
    var times: Int?
    var final: Bool?
    var delayMilliseconds: Int64?

    private enum CodingKeys: String, CodingKey {
        case times, final
        case delayMilliseconds = "delay_ms"
    }
}

struct FailOutput: Encodable, Sendable {
    var attempt: Int
}

struct CrashInput: Decodable, Sendable {
    var exitCode: Int32?

    private enum CodingKeys: String, CodingKey {
        case exitCode = "exit_code"
    }
}

struct ProgressInput: Codable, Sendable {
    var steps: Int?
    var intervalMilliseconds: Int64?

    private enum CodingKeys: String, CodingKey {
        case steps
        case intervalMilliseconds = "interval_ms"
    }
}


struct RateLimitedInput: Decodable {
    var retryAfterMs: Int64?

    enum CodingKeys: String, CodingKey {
        case retryAfterMs = "retry_after_ms"
    }
}

struct SnoozeInput: Decodable, Sendable {
    var times: Int?
    var ms: Int64?
}

struct SnoozeOutput: Encodable, Sendable {
    var snoozed: Int
}

struct WaitInput: Decodable, Sendable {
    var signal: String?
    var timeoutMs: Int64?

    private enum CodingKeys: String, CodingKey {
        case signal, timeoutMs = "timeout_ms"
    }
}
