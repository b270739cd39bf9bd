import Foundation
import Testing

@testable import JobqCore

@Suite("state table")
struct TaskTransitionsTests {
    @Test func terminalStatesOnlyLeaveThroughReopen() {
        for transition in TaskTransitions.table where transition.from?.isTerminal == true {
            // DONE leaves only by `rerun` (rerun --outdated); the others by `reopen` (retry).
            #expect(transition.event == (transition.from == .done ? .rerun : .reopen), "\(transition)")
            #expect(transition.to == .pending)
        }
    }

    @Test func nothingButSubmitCreatesATask() {
        let creating = TaskTransitions.table.filter { $0.from == nil }.map(\.event)
        #expect(Set(creating) == [.submit, .submitDoomed, .submitSkipped])
    }

    @Test func onlyAClaimStartsATask() {
        let starting = TaskTransitions.table.filter { $0.to == .running }
        #expect(starting.map(\.event) == [.claim])
        #expect(starting.map(\.from) == [.pending])
    }

    /// DONE comes from a handler that succeeded, from the cache, from a child run that ended
    /// DONE (a sub-workflow task), or from a running service task stopped because its run is
    /// over — never from anything else.
    @Test func doneIsReachedByCompleteFromTheCacheOrByAChildRun() {
        let done = TaskTransitions.table.filter { $0.to == .done }
        #expect(Set(done.map(\.event)) == [.complete, .cached, .childDone, .serviceStop])
        #expect(done.allSatisfy {
            ($0.from == .running && ($0.event == .complete || $0.event == .serviceStop))
                || ($0.from == .pending && ($0.event == .cached || $0.event == .childDone))
        })
    }

    @Test func skippedIsReachedOnlyByASkipAndLeftOnlyByReopen() {
        let skipped = TaskTransitions.table.filter { $0.to == .skipped }
        #expect(Set(skipped.map(\.event)) == [.skip, .submitSkipped, .conditionUnmet, .precondition, .waitSkipped])
        #expect(skipped.allSatisfy { $0.from == nil || $0.from == .pending || ($0.from == .running && $0.event == .skip) })
        #expect(TaskTransitions.target(from: .skipped, on: .reopen) == .pending)
        #expect(TaskTransitions.target(from: .done, on: .reopen) == nil)
    }

    @Test(arguments: TaskState.allCases)
    func forbiddenTransitionsAreRefused(state: TaskState) {
        for event in TaskEvent.allCases {
            let listed = TaskTransitions.table.first { $0.from == state && $0.event == event }
            #expect(TaskTransitions.target(from: state, on: event) == listed?.to)
        }
        #expect(TaskTransitions.target(from: .done, on: .claim) == nil)
        #expect(TaskTransitions.target(from: .cancelled, on: .complete) == nil)
        #expect(!TaskTransitions.allows(from: .failed, on: .reopen, to: .running))
    }

    @Test func luaRenderingListsEveryTransition() {
        let lua = TaskTransitions.luaSource
        for transition in TaskTransitions.table {
            #expect(lua.contains("[\"\(transition.from?.rawValue ?? "-")>\(transition.event.rawValue)\"]=\"\(transition.to.rawValue)\""))
        }
    }

    @Test func everyScriptUsesOnlyEventsTheTableKnows() throws {
        let events = Set(TaskEvent.allCases.map(\.rawValue))
        var checked = 0
        for script in Scripts.all {
            // set_state/finish(id, from, 'event', ...) and may(from, 'event'): the event argument.
            for (pattern, position) in [("set_state(", 2), ("finish(", 2), ("may(", 1)] {
                var rest = Substring(script.source)
                while let range = rest.range(of: pattern) {
                    rest = rest[range.upperBound...]
                    let arguments = rest.prefix { $0 != ")" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    guard arguments.count > position, arguments[position].hasPrefix("'") else { continue }
                    let event = arguments[position].trimmingCharacters(in: CharacterSet(charactersIn: "'"))
                    #expect(events.contains(event), "\(script.name): unknown event \(event)")
                    checked += 1
                }
            }
        }
        #expect(checked > 20)
    }
}
