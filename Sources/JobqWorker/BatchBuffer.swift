/// Claimed tasks of batch handlers waiting for their batch, as a value type without I/O.
///
/// Claims are by queue, not by handler, so a batch fills across claims: each claimed task of a
/// batch handler joins the open group of its (handler, key); a group that reaches its `max`
/// starts at once, and the first task of a new group arms a timer for the handler's `wait`,
/// after which the group starts with whatever it holds. Generations tell a timer of a group
/// that already started (full) from the group that took its place. The ``Worker`` keeps it
/// inside a `Mutex`, runs the timers and starts the batches it returns.
struct BatchBuffer<Member> {
    struct GroupKey: Hashable, Sendable {
        var handler: String
        /// The expanded key template; `nil` without a key or when the payload lacks a field.
        var key: String?
    }

    private struct Group {
        var members: [Member]
        var generation: Int
    }

    private var groups: [GroupKey: Group] = [:]
    private var nextGeneration = 0

    /// Tasks waiting in every group.
    var waiting: Int { groups.values.reduce(0) { $0 + $1.members.count } }

    enum AddAction {
        /// The group is full: start these now.
        case start([Member])
        /// The member opened a new group: start it after the wait unless it fills first.
        case armTimer(GroupKey, generation: Int)
        /// It joined an open group.
        case none
    }

    mutating func add(_ member: Member, to key: GroupKey, max: Int) -> AddAction {
        var group = groups[key] ?? {
            nextGeneration += 1
            return Group(members: [], generation: nextGeneration)
        }()
        group.members.append(member)
        if group.members.count >= max {
            groups[key] = nil
            return .start(group.members)
        }
        let opened = group.members.count == 1
        groups[key] = group
        return opened ? .armTimer(key, generation: group.generation) : .none
    }

    /// The wait of the group opened as `generation` is over: its members, unless it already
    /// started (full, or flushed at shutdown).
    mutating func timerFired(_ key: GroupKey, generation: Int) -> [Member]? {
        guard let group = groups[key], group.generation == generation else { return nil }
        groups[key] = nil
        return group.members
    }

    /// Every open group, emptied (the worker is stopping: waiting tasks run now, within the grace).
    mutating func takeAll() -> [(GroupKey, [Member])] {
        defer { groups = [:] }
        return groups.map { ($0.key, $0.value.members) }
    }
}
