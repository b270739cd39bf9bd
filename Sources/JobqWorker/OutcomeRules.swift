import JobqCore

/// What the worker records for one run.
enum RunOutcome: Sendable, Equatable {
    case completion(Completion)
    case failure(Failure)
}

/// How a run's end becomes an outcome: complete, retry after the backoff, fail for good,
/// cancelled, handed back, or nothing (a lost lease). Pure functions of the claimed task and
/// what happened, so every rule is unit-tested without a handler or a store.
enum OutcomeRules {
    /// The task names a handler this worker does not have: retrying here cannot help.
    static func unknownHandler(_ claimed: ClaimedTask, workerID: String, known: [String]) -> RunOutcome {
        let names = known.joined(separator: ", ")
        return .failure(Failure(
            lease: claimed.lease, mode: .final, reason: "unknown_handler",
            message: "no handler named \(claimed.handler) on worker \(workerID) (it has: \(names.isEmpty ? "none" : names)); register it, or submit to a queue whose workers have it, then retry the task"
        ))
    }

    /// The prerequisites' results could not be read (Redis trouble): a failed attempt.
    static func prerequisitesUnreadable(_ claimed: ClaimedTask, _ error: JobqError) -> RunOutcome {
        .failure(Failure(
            lease: claimed.lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)),
            reason: "error", message: "cannot read the prerequisites' results: \(error.message)"
        ))
    }

    /// The handler returned `result`: DONE, unless the result is over the limit (final).
    static func returned(_ result: [UInt8], _ claimed: ClaimedTask, maxResultBytes: Int) -> RunOutcome {
        guard result.count <= maxResultBytes else {
            return .failure(Failure(
                lease: claimed.lease, mode: .final, reason: "result_too_large",
                message: "result is \(result.count) bytes; the limit is \(maxResultBytes) — store large results elsewhere and return a reference"
            ))
        }
        return .completion(Completion(lease: claimed.lease, result: result))
    }

    /// What a batch handler reported for one task (``BatchOutcome``): a result, or an error
    /// meaning what it would mean thrown by a single-task handler.
    static func batch(_ outcome: BatchOutcome<[UInt8]>, _ claimed: ClaimedTask, maxResultBytes: Int) -> RunOutcome {
        switch outcome {
        case .done(let result): returned(result.isEmpty ? Array("null".utf8) : result, claimed, maxResultBytes: maxResultBytes)
        case .failed(let error): threw(error, claimed)
        }
    }

    /// A batch ended without an outcome for this task (left out, or its process crashed or
    /// exited first): a failed attempt, retried per the task's backoff.
    static func batchNoOutcome(_ claimed: ClaimedTask, _ why: String) -> RunOutcome {
        .failure(Failure(
            lease: claimed.lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)), reason: "batch_no_outcome",
            message: "the batch handler reported no outcome for this task: \(why)"
        ))
    }

    /// The handler threw `error`: skip, permanent, retry-after, a bad payload, or any other
    /// error (a failed attempt retried per the task's backoff).
    static func threw(_ error: any Error, _ claimed: ClaimedTask) -> RunOutcome {
        let lease = claimed.lease
        let backoff = claimed.backoff.delay(afterAttempt: claimed.attempt)
        if let failure = error as? PayloadDecodingFailure {
            return .failure(Failure(lease: lease, mode: .final, reason: "bad_payload", message: failure.message))
        }
        if let error = error as? HandlerError {
            switch error.kind {
            case .skip:
                return .completion(Completion(lease: lease, result: error.result ?? Array("null".utf8), skipped: true))
            case .permanent:
                return .failure(Failure(lease: lease, mode: .final, reason: error.reason, message: error.message))
            case .snooze:
                return snoozed(error.snoozeFor, message: error.message, claimed)
            case .rateLimited:
                return snoozed(error.snoozeFor, message: error.message, claimed, rateLimited: true)
            case .wait:
                if let wait = error.signalWait { return waiting(wait, claimed) }
                if error.waitsForChildren {
                    return .failure(Failure(lease: lease, mode: .children, reason: "waiting_children", message: error.message))
                }
                return .failure(Failure(lease: lease, mode: .retry(delay: backoff), reason: "error", message: error.message))
            default:
                return .failure(Failure(lease: lease, mode: .retry(delay: error.retryAfter ?? backoff), reason: error.reason, message: error.message))
            }
        }
        return .failure(Failure(lease: lease, mode: .retry(delay: backoff), reason: "error", message: describe(error)))
    }

    /// A snooze for `delay`: back to PENDING without using the attempt; a delay out of range
    /// (or none) is the handler's mistake, a failed attempt with reason `bad_snooze`.
    /// `rateLimited`: the handler's backpressure, which also pauses the task's rate key.
    static func snoozed(_ delay: Duration?, message: String, _ claimed: ClaimedTask, rateLimited: Bool = false) -> RunOutcome {
        let backoff = claimed.backoff.delay(afterAttempt: claimed.attempt)
        guard let delay, Limits.snoozeDelay.contains(delay) else {
            let given = delay.map { DurationText.format($0) } ?? "none"
            return .failure(Failure(
                lease: claimed.lease, mode: .retry(delay: backoff), reason: "bad_snooze",
                message: "the handler snoozed for \(given); a snooze must be between 1ms and 366d"
            ))
        }
        if rateLimited {
            return .failure(Failure(lease: claimed.lease, mode: .rateLimited(delay: delay, retryDelay: backoff), reason: "rate_limited", message: message))
        }
        return .failure(Failure(lease: claimed.lease, mode: .snooze(delay: delay, retryDelay: backoff), reason: "snoozed", message: message))
    }

    /// A wait for a signal (or an answer): back to PENDING in no queue without using the attempt.
    static func waiting(_ wait: SignalWait, _ claimed: ClaimedTask) -> RunOutcome {
        .failure(Failure(lease: claimed.lease, mode: .wait(name: wait.name, timeout: wait.timeout, question: wait.question),
                         reason: "waiting", message: "waits for the signal \(wait.name)"))
    }

    /// The outcome a stop decision stands for; `nil` for a lost lease (the task belongs to
    /// another run now: nothing is recorded).
    static func stopped(_ reason: StopReason, _ claimed: ClaimedTask, timeout: Duration, workerID: String) -> RunOutcome? {
        let lease = claimed.lease
        switch reason {
        case .timeout:
            return .failure(Failure(
                lease: lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)), reason: "timeout",
                message: "timed out after \(DurationText.format(timeout)) (attempt \(claimed.attempt) of \(claimed.maxAttempts)); raise the task's timeout if it needs longer"
            ))
        case .cancelled:
            return .failure(Failure(lease: lease, mode: .cancelled, reason: "cancelled", message: "cancelled while running on worker \(workerID)"))
        case .shutdown:
            return .failure(Failure(lease: lease, mode: .handBack, reason: "shutdown", message: "handed back: worker \(workerID) shut down"))
        case .leaseLost:
            return nil
        }
    }

    /// A claim that arrived after an immediate stop: back to the queue, attempt not charged.
    static func handedBackUnstarted(_ claimed: ClaimedTask, workerID: String) -> RunOutcome {
        .failure(Failure(lease: claimed.lease, mode: .handBack, reason: "shutdown", message: "handed back unstarted: worker \(workerID) is shutting down"))
    }

    /// What a heartbeat's answer for one held task means: a stop to decide, or nothing.
    /// A refusal for a task whose outcome is already being recorded is not a loss (the write
    /// that settles it may have landed first).
    static func heartbeatAnswer(_ answer: LeaseWriteOutcome, settled: Bool) -> StopReason? {
        switch answer {
        case .cancelRequested: .cancelled
        case .refused: settled ? nil : .leaseLost
        default: nil
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        let type = String(describing: Swift.type(of: error))
        return text.hasPrefix(type) ? text : "\(type): \(text)"
    }
}
