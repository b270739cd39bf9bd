import JobqCore
import Testing

/// The checker must be able to fail: hand-made records that break each invariant.
@Suite("Fault checker")
struct CheckerTests {
    static let journal = """
        S a 1 100 1000
        E a 1 100 1010 ok
        S b 1 101 1020
        E b 1 101 1030 ok

        """

    func record(journal: String = CheckerTests.journal, states: [String: TaskState?] = ["a": .done, "b": .done], done: [String: Int] = ["a": 1, "b": 1], faults: Bool = false) -> RunRecord {
        let parsed = JournalEntry.parse(journal)
        var events = EventCounts()
        events.done = done
        return RunRecord(
            submitted: [SubmittedTask(id: "a", prerequisites: [], maxAttempts: 2), SubmittedTask(id: "b", prerequisites: ["a"], maxAttempts: 2)],
            journal: parsed.entries, unparsableJournalLines: parsed.unparsable, finalStates: states, events: events,
            tasksInNamespace: 2, faultsInjected: faults
        )
    }

    @Test func aCleanRunPasses() {
        let report = Checker.check(record())
        #expect(report.violations.isEmpty, "\(report.violations)")
    }

    @Test func aStartBeforeThePrerequisiteEndedIsFlagged() {
        let journal = "S a 1 100 1000\nS b 1 101 1005\nE a 1 100 1010 ok\nE b 1 101 1030 ok\n"
        let report = Checker.check(record(journal: journal))
        #expect(report.orderViolations == 1)
    }

    @Test func aDependentThatRanAfterItsPrerequisiteFailedIsFlagged() {
        let journal = "S a 1 100 1000\nE a 1 100 1010 error\nS b 1 101 1020\nE b 1 101 1030 ok\n"
        let report = Checker.check(record(journal: journal, states: ["a": .failed, "b": .done], done: ["b": 1]))
        #expect(report.orderViolations >= 2)  // started without a DONE prerequisite, and did not end CANCELLED
    }

    @Test func lostLeftRunningAndDuplicatedDoneAreFlagged() {
        #expect(Checker.check(record(states: ["a": .done, "b": nil])).lost == 1)
        #expect(Checker.check(record(states: ["a": .done, "b": .running])).notTerminal == 1)
        #expect(Checker.check(record(done: ["a": 2, "b": 1])).duplicatedDone == 1)
    }

    @Test func tooManyStartsAndUnexplainedReRunsAreFlagged() {
        let journal = CheckerTests.journal + "S b 2 102 1040\nS b 3 102 1050\n"
        let report = Checker.check(record(journal: journal))
        #expect(report.attemptViolations >= 1)
        #expect(report.extraExecutions == 2)
        #expect(report.violations.contains { $0.contains("without any fault") })
    }

    @Test func rerunDelayAfterAKillIsMeasured() {
        let journal = "S a 1 100 1000\nS a 2 200 4500\nE a 2 200 4510 ok\nS b 1 101 4520\nE b 1 101 4530 ok\n"
        var run = record(journal: journal, faults: true)
        run.kills = [Kill(pid: 100, time: 1200)]
        let report = Checker.check(run)
        #expect(report.violations.isEmpty, "\(report.violations)")
        #expect(report.worstRerunAfterKill == 3.3)
        #expect(report.extraExecutions == 1)
    }

    @Test func garbledJournalLinesAreFlagged() {
        let report = Checker.check(record(journal: CheckerTests.journal + "S a 1 10\n"))
        #expect(report.violations.contains { $0.contains("unparsable") })
    }
}
