import JobqRedis

/// Firing schedules: part of every maintenance pass (workers, `jobq coordinator`), leaderless.
///
/// Each tick T of a schedule goes through two atomic steps of schedule.lua keyed by (name, T):
/// `claim` records the decision (fire, skip for overlap, missed for catch-up; the first decision
/// wins and every later caller follows it), and `advance` moves the next fire time on, only
/// while it is still T. Between them, a fire submits the tick's run with a run id and an
/// idempotency key derived from (name, T): a second process firing the same tick gets the same
/// run back (`created: false`), and a process that dies between submit and advance leaves T
/// claimed, so whoever comes next submits the same run again and advances.
extension Maintenance {
    /// Ticks decided per pass at most, over all schedules (each is a submit and two small
    /// script calls); the next pass goes on with the rest.
    package static let ticksPerPass = 50
    /// How soon a schedule that could not fire is looked at again.
    package static let retryBroken: Duration = .seconds(60)
    /// How soon a tick buffered behind a running run is looked at again (ms): about every pass.
    static let bufferRecheck: Int64 = 1000

    /// Decides the due ticks of due schedules, at most `budget` of them. Returns the runs
    /// submitted (or found submitted by another process) by this pass.
    @discardableResult
    package func fireDueSchedules(budget: Int = Maintenance.ticksPerPass) async throws(JobqError) -> [String] {
        try await fireDueSchedulesReporting(budget: budget).runs
    }

    /// How late a tick may be and still count as on time (catch-up `none`): a pass runs about
    /// once per maintenance `interval`, so never less than two of them.
    package static func onTimeGrace(interval: Duration) -> Duration {
        max(Schedule.onTimeGrace, interval * 2)
    }

    /// ``fireDueSchedules(budget:)``, with the schedules that failed: a schedule whose record or
    /// submission fails stays due but is looked at again only after ``retryBroken`` (so broken
    /// schedules, oldest in the index, never crowd out the others), and the others go on; its
    /// error (message prefixed with its name) is for the caller to report.
    package func fireDueSchedulesReporting(
        budget: Int = Maintenance.ticksPerPass, grace: Duration = Schedule.onTimeGrace
    ) async throws(JobqError) -> (runs: [String], failures: [JobqError]) {
        let now = try await runner.now()
        let names = try await runner.send(
            RedisCommand("ZRANGEBYSCORE", [RedisArgument(runner.keys.schedules), "-inf", RedisArgument(Int(now)), "WITHSCORES", "LIMIT", "0", RedisArgument(budget)]),
            doing: "due schedules"
        ).array?.compactMap(\.string) ?? []
        var left = budget
        var runs: [String] = []
        var failures: [JobqError] = []
        for index in stride(from: 0, to: names.count - 1, by: 2) where left > 0 {
            let name = names[index]
            do {
                runs += try await fireDue(name, now: now, grace: grace, budget: &left)
            } catch where error.code == .redisUnavailable || error.code == .cancelled {
                throw error
            } catch {
                failures.append(error.with(message: "schedule \(name): \(error.message)"))
                let later = ScheduleCall(name: name, action: .later(seen: names[index + 1], recheck: now + Self.retryBroken.jobqMilliseconds))
                _ = try? await runner.run(later)
            }
        }
        return (runs, failures)
    }

    /// The due ticks of one schedule, in order, until it is not due or the budget is spent.
    private func fireDue(_ name: String, now: Int64, grace: Duration, budget: inout Int) async throws(JobqError) -> [String] {
        let store = TaskStore(runner: runner)
        guard var schedule = try await store.schedule(name), !schedule.paused else { return [] }
        var runs: [String] = []
        while budget > 0, let tick = schedule.nextFire, tick <= now {
            budget -= 1
            let plan = Self.plan(schedule, tick: tick, now: now, grace: grace)
            var decision = plan.decision
            var overlapping: String?
            if decision == .fire, let previous = schedule.lastRun, previous != Schedule.runID(name: name, tick: tick),
                schedule.overlap != .allow, try await isGoing(previous) {
                overlapping = previous
                if schedule.overlap == .skip { decision = .skip }
                if schedule.overlap == .buffer {
                    // undecided: the tick stays next, looked at again by a later pass
                    _ = try await runner.run(ScheduleCall(name: name, action: .wait(tick: tick, recheck: now + Self.bufferRecheck)))
                    break
                }
            }
            guard case .done(let inForce?) = try await runner.run(ScheduleCall(name: name, action: .claim(tick: tick, decision: decision))) else { break }
            if inForce == .fire, schedule.overlap == .cancel, let overlapping {
                // the ordinary run cancellation; a run that ended meanwhile is no error
                _ = try? await store.cancel(workflow: overlapping, message: "cancelled by schedule \(name): its next tick came (overlap cancel)")
            }
            var run: String?
            var next = schedule.timing.nextFire(after: tick) ?? Schedule.never
            let outcome: TickOutcome
            switch inForce {
            case .fire, .fired:
                run = try await submitTick(schedule, tick: tick)
                outcome = .fired
            case .skip:
                outcome = .skip
            case .missed, .triggered:
                outcome = .missed
                // the missed ticks end where this process would fire again (or after now)
                if inForce == decision { next = plan.resumeAt }
            }
            guard try await runner.run(ScheduleCall(name: name, action: .advance(tick: tick, next: next, run: run, outcome: outcome))) != .unchanged else {
                if let run { runs.append(run) }
                break  // another process advanced it: it goes on from there
            }
            if let run { runs.append(run) }
            schedule.nextFire = next
            schedule.lastRun = run ?? schedule.lastRun
        }
        return runs
    }

    /// What to do with the tick `tick` the record says is next, at `now`: fire it, or mark it
    /// (and every tick before `resumeAt`) missed, by the catch-up policy.
    static func plan(_ schedule: Schedule, tick: Int64, now: Int64, grace: Duration) -> (decision: TickOutcome, resumeAt: Int64) {
        // a tick buffered (overlap `buffer`) waited on purpose: the latest tick fires, whatever
        // the catch-up policy says about late ones
        let catchUp = schedule.buffered != nil ? .latest : schedule.catchUp
        let keep = catchUp == .all ? Schedule.maxCatchUp : 1
        let due = schedule.timing.lastFires(after: tick - 1, through: now, count: keep)
        let target: Int64?
        switch catchUp {
        case .all: target = due.first
        case .latest: target = due.last
        case .none: target = due.last.flatMap { now - $0 <= grace.jobqMilliseconds ? $0 : nil }
        }
        if target == tick { return (.fire, tick) }
        return (.missed, target ?? schedule.timing.nextFire(after: now) ?? Schedule.never)
    }

    /// Submits tick `tick`'s run; a second submission (another process, or this one after a
    /// crash) returns the first one's run.
    package func submitTick(_ schedule: Schedule, tick: Int64) async throws(JobqError) -> String {
        let runID = Schedule.runID(name: schedule.name, tick: tick)
        var options = schedule.submission.run
        options.id = runID
        do {
            _ = try await TaskStore(runner: runner).submit(schedule.submission.tasks, run: options, idempotencyKey: "sched.\(schedule.name).\(tick)")
        } catch where error.code == .runExists || error.code == .idempotencyConflict {
            // submitted before: past the idempotency window, or by an earlier version of the
            // schedule (replaced since); the tick has its run either way
        }
        return runID
    }

    /// Whether run `id` is still PENDING or RUNNING (a run whose retention expired is not).
    private func isGoing(_ id: String) async throws(JobqError) -> Bool {
        let state = try await runner.send(RedisCommand("HGET", [RedisArgument(runner.keys.workflow(id)), "state"]), doing: "read run state")
        return state.string.flatMap(RunState.init(rawValue:)).map { !$0.isTerminal } ?? false
    }
}
