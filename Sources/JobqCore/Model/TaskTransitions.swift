/// The one table of allowed state changes.
///
/// Every Lua script receives this table (rendered by ``luaSource``) in its prelude and refuses
/// any change it does not list, so the Swift model and the scripts cannot drift apart.
public enum TaskTransitions {
    public struct Transition: Sendable, Hashable {
        /// `nil` means "the task does not exist yet".
        public let from: TaskState?
        public let event: TaskEvent
        public let to: TaskState
    }

    public static let table: [Transition] = [
        .init(from: nil, event: .submit, to: .pending),
        .init(from: nil, event: .submitDoomed, to: .cancelled),
        .init(from: nil, event: .submitSkipped, to: .skipped),
        .init(from: .pending, event: .claim, to: .running),
        .init(from: .running, event: .complete, to: .done),
        .init(from: .running, event: .skip, to: .skipped),
        .init(from: .running, event: .retryLater, to: .pending),
        .init(from: .running, event: .failFinal, to: .failed),
        .init(from: .running, event: .leaseExpired, to: .pending),
        .init(from: .running, event: .leaseExpiredFinal, to: .failed),
        .init(from: .running, event: .handBack, to: .pending),
        .init(from: .running, event: .snooze, to: .pending),
        .init(from: .running, event: .cancel, to: .cancelled),
        .init(from: .pending, event: .cancel, to: .cancelled),
        .init(from: .pending, event: .expire, to: .cancelled),
        .init(from: .pending, event: .dependencyFailed, to: .cancelled),
        .init(from: .pending, event: .conditionUnmet, to: .skipped),
        .init(from: .pending, event: .precondition, to: .skipped),
        .init(from: .pending, event: .cached, to: .done),
        .init(from: .failed, event: .reopen, to: .pending),
        .init(from: .cancelled, event: .reopen, to: .pending),
        .init(from: .skipped, event: .reopen, to: .pending),
        .init(from: .running, event: .awaitRun, to: .pending),
        .init(from: .pending, event: .childDone, to: .done),
        .init(from: .pending, event: .childFailed, to: .failed),
        .init(from: .done, event: .rerun, to: .pending),
        .init(from: .running, event: .awaitSignal, to: .pending),
        .init(from: .pending, event: .signal, to: .pending),
        .init(from: .pending, event: .signalTimeout, to: .failed),
        .init(from: .pending, event: .waitSkipped, to: .skipped),
        .init(from: .pending, event: .corrupt, to: .failed),
        .init(from: .running, event: .awaitChildren, to: .pending),
        .init(from: .pending, event: .childrenDone, to: .pending),
        .init(from: .running, event: .corrupt, to: .failed),
        .init(from: .running, event: .serviceStop, to: .done),
    ]

    private static let index: [Key: TaskState] = {
        var index: [Key: TaskState] = [:]
        for transition in table {
            let key = Key(from: transition.from, event: transition.event)
            precondition(index[key] == nil, "ambiguous transition \(key)")
            index[key] = transition.to
        }
        return index
    }()

    private struct Key: Hashable {
        let from: TaskState?
        let event: TaskEvent
    }

    /// The state `event` leads to from `state`, or `nil` when the table forbids it.
    public static func target(from state: TaskState?, on event: TaskEvent) -> TaskState? {
        index[Key(from: state, event: event)]
    }

    /// Whether `from --event--> to` is allowed.
    public static func allows(from state: TaskState?, on event: TaskEvent, to target: TaskState) -> Bool {
        self.target(from: state, on: event) == target
    }

    /// The table as a Lua table literal, `["FROM>event"] = "TO"`, with `"-"` for "no task yet".
    static var luaSource: String {
        let entries = table.map { transition in
            "[\"\(transition.from?.rawValue ?? "-")>\(transition.event.rawValue)\"]=\"\(transition.to.rawValue)\""
        }
        return "local TRANSITIONS = {" + entries.joined(separator: ",") + "}\n"
    }
}
