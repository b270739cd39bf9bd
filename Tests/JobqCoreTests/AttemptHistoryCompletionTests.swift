import Testing

@testable import JobqCore

/// The attempt that made a task DONE is not stored (complete.lua); the history read adds it from
/// the record (`AttemptHistory.completed(byRecord:…)`), once, and only for a task that ran.
@Suite("attempt history completed from the record")
struct AttemptHistoryCompletionTests {
    static func entry(_ attempt: Int, _ outcome: AttemptOutcome, worker: String = "w1", at started: Int64 = 100) -> TaskAttempt {
        TaskAttempt(attempt: attempt, worker: worker, started: started, ended: started + 5, outcome: outcome, reason: outcome == .done ? "" : "error", error: "")
    }
    static let done = TaskAttempt(attempt: 2, worker: "w9", started: 500, ended: 900, outcome: .done, reason: "", error: "")

    @Test func aTaskThatSucceededAtOnceGetsItsOneEntry() {
        let history = AttemptHistory().completed(byRecord: .done, attempts: 1, worker: "w1", started: 10, finished: 30)
        #expect(history.attempts == [TaskAttempt(attempt: 1, worker: "w1", started: 10, ended: 30, outcome: .done, reason: "", error: "")])
    }

    @Test func earlierAttemptsStayAndTheLastComesAfterThem() {
        let stored = AttemptHistory(attempts: [Self.entry(1, .retried)])
        #expect(stored.completed(byRecord: .done, attempts: 2, worker: "w9", started: 500, finished: 900).attempts == [Self.entry(1, .retried), Self.done])
        // a refunded attempt repeats its number: a snooze of attempt 1, then attempt 1 succeeds
        let snoozed = AttemptHistory(attempts: [Self.entry(1, .snoozed)])
        #expect(snoozed.completed(byRecord: .done, attempts: 1, worker: "w1", started: 200, finished: 250).attempts.map(\.outcome) == [.snoozed, .done])
    }

    @Test func aStoredDoneEntryIsNotAddedTwice() {
        // written by a version before this one, or by a task that started a child run
        let stored = AttemptHistory(attempts: [Self.entry(1, .retried), Self.done])
        #expect(stored.completed(byRecord: .done, attempts: 2, worker: "w9", started: 500, finished: 900) == stored)
        // a rerun numbers from 1 again: its attempt 2 started later is another attempt
        let rerun = stored.completed(byRecord: .done, attempts: 2, worker: "w9", started: 1_500, finished: 1_700)
        #expect(rerun.attempts.count == 3 && rerun.attempts.last?.started == 1_500)
    }

    @Test func nothingIsAddedForTasksThatDidNotEndDoneByARun() {
        let stored = AttemptHistory(attempts: [Self.entry(1, .failed)])
        #expect(stored.completed(byRecord: .failed, attempts: 1, worker: "w1", started: 100, finished: 105) == stored)
        #expect(stored.completed(byRecord: .skipped, attempts: 1, worker: "w1", started: 100, finished: 105) == stored)
        // DONE from the cache without running (no worker), or a record already deleted
        #expect(AttemptHistory().completed(byRecord: .done, attempts: 0, worker: nil, started: nil, finished: 40) == AttemptHistory())
        #expect(AttemptHistory().completed(byRecord: nil, attempts: nil, worker: nil, started: nil, finished: nil) == AttemptHistory())
    }

    @Test func theBoundKeepsTheFirstAndTheLatest() {
        let full = (1...(TaskAttempt.keptAfterFirst + 1)).map { Self.entry($0, .retried, at: Int64($0) * 10) }
        let history = AttemptHistory(attempts: full).completed(byRecord: .done, attempts: 22, worker: "w9", started: 500, finished: 900)
        #expect(history.attempts.count == TaskAttempt.keptAfterFirst + 1)
        #expect(history.attempts.first == full[0])
        #expect(history.attempts[1] == full[2])  // the second stored one went, as the script drops it
        #expect(history.attempts.last?.attempt == 22 && history.attempts.last?.outcome == .done)
    }
}
