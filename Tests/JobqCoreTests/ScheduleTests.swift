import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Schedules against Redis: one run per tick however many passes race for it, a pass that died
/// between submit and advance, catch-up after an hour without passes, overlap with a run still
/// going, and the record's controls. The fixture's manual clock drives the ticks.
@Suite("schedules: firing, catch-up, overlap", .enabled(if: redisAvailable))
struct ScheduleTests {
    static let noop = ScheduledSubmission(handler: "noop", definition: "tick")

    static func add(_ engine: EngineFixture, _ name: String, every interval: Duration = .seconds(60), overlap: Schedule.Overlap = .allow,
                    catchUp: Schedule.CatchUp = .latest) async throws -> Schedule {
        try await engine.coordinator.tasks.addSchedule(name, rule: .every(interval), submission: noop, overlap: overlap, catchUp: catchUp)
    }

    static func schedule(_ engine: EngineFixture, _ name: String) async throws -> Schedule {
        try #require(try await engine.coordinator.tasks.schedule(name))
    }

    /// Moves the fixture's clock to `time` (ms).
    static func move(_ engine: EngineFixture, to time: Int64) {
        engine.clock.advance(by: .milliseconds(time - engine.clock.now))
    }

    static func runCount(_ engine: EngineFixture) async throws -> Int {
        try await engine.zsetMembers(engine.keys.runs).count
    }

    @Test func aDueScheduleFiresOnce() async throws {
        try await withEngine { engine in
            let added = try await Self.add(engine, "minutely")
            let tick = try #require(added.nextFire)
            #expect(tick == (engine.clock.now / 60_000 + 1) * 60_000)  // the next whole minute
            engine.clock.advance(by: .milliseconds(tick - engine.clock.now - 1))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)  // not due yet
            engine.clock.advance(by: .milliseconds(1))
            let runs = try await engine.coordinator.maintenance.fireDueSchedules()
            #expect(runs == [Schedule.runID(name: "minutely", tick: tick)])
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)
            #expect(try await Self.runCount(engine) == 1)
            let after = try await Self.schedule(engine, "minutely")
            #expect(after.nextFire == tick + 60_000 && after.lastRun == runs.first && after.lastOutcome == "fired" && after.counts["fired"] == 1)
            let run = try #require(try await engine.coordinator.tasks.run(runs[0]))
            #expect(run.definition == "tick" && run.total == 1)
            #expect(try await engine.state(runs[0] + "/task") == .pending)
            #expect(try await engine.events(of: "@sched:minutely") == ["->:added", "->:fired:\(runs[0])"])
            // the whole pass fires it too
            engine.clock.advance(by: .seconds(60))
            let pass = try #require(try await engine.coordinator.maintenance.pass(owner: "t", interval: .milliseconds(1)))
            #expect(pass.scheduledRuns == [Schedule.runID(name: "minutely", tick: tick + 60_000)])
        }
    }

    /// Three coordinators (separate connections) race for the same tick: one run.
    @Test func racingPassesMakeOneRunPerTick() async throws {
        try await withEngine { engine in
            _ = try await Self.add(engine, "race", every: .seconds(10))
            let server = try await RedisServerFixture.shared()
            let clients = (0..<3).map { _ in server.makeClient() }
            let others = try clients.map { try Coordinator(redis: $0, namespace: engine.keys.namespace, clock: .manual(engine.clock)) }
            for round in 1...5 {
                engine.clock.advance(by: .seconds(10))
                let fired = try await withThrowingTaskGroup(of: [String].self) { group in
                    for other in others { group.addTask { try await other.maintenance.fireDueSchedules() } }
                    return try await group.reduce(into: Set<String>()) { $0.formUnion($1) }
                }
                #expect(fired.count == 1, "round \(round): \(fired)")
                #expect(try await Self.runCount(engine) == round)
            }
            #expect(try await Self.schedule(engine, "race").counts["fired"] == 5)
            for client in clients { await client.close() }
        }
    }

    /// A pass that died after submitting the tick's run and before advancing: the next pass
    /// finds the claim, submits the same run (gets it back) and advances; no second run.
    @Test func aPassKilledBetweenSubmitAndAdvanceMakesNoSecondRun() async throws {
        try await withEngine { engine in
            let tick = try #require(try await Self.add(engine, "crash").nextFire)
            engine.clock.advance(by: .seconds(60))
            let schedule = try await Self.schedule(engine, "crash")
            let call = ScheduleCall(name: "crash", action: .claim(tick: tick, decision: .fire))
            #expect(try await engine.coordinator.runner.run(call) == .done(decision: .fire))
            let run = try await engine.coordinator.maintenance.submitTick(schedule, tick: tick)
            // …killed here: no advance
            #expect(try await Self.schedule(engine, "crash").nextFire == tick)
            #expect(try await engine.coordinator.maintenance.fireDueSchedules() == [run])
            #expect(try await Self.runCount(engine) == 1)
            #expect(try await Self.schedule(engine, "crash").nextFire == tick + 60_000)
            // a late claim of the old tick changes nothing
            #expect(try await engine.coordinator.runner.run(call) == .unchanged)
        }
    }

    /// A claim's decision binds whoever comes next: a tick claimed as skipped is not fired by
    /// a process that would have fired it.
    @Test func theFirstDecisionOfATickWins() async throws {
        try await withEngine { engine in
            let tick = try #require(try await Self.add(engine, "decided").nextFire)
            engine.clock.advance(by: .seconds(60))
            let runner = engine.coordinator.runner
            #expect(try await runner.run(ScheduleCall(name: "decided", action: .claim(tick: tick, decision: .skip))) == .done(decision: .skip))
            #expect(try await runner.run(ScheduleCall(name: "decided", action: .claim(tick: tick, decision: .fire))) == .done(decision: .skip))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)
            let after = try await Self.schedule(engine, "decided")
            #expect(after.lastOutcome == "skip" && after.nextFire == tick + 60_000 && after.lastRun == nil)
        }
    }

    /// A schedule whose record is broken stays due and is reported; the others fire.
    @Test func aBrokenScheduleStopsNeitherTheOthersNorThePass() async throws {
        try await withEngine { engine in
            let tick = try #require(try await Self.add(engine, "broken").nextFire)
            _ = try await Self.add(engine, "fine")
            _ = try await engine.redis.send("HSET", RedisArgument(engine.keys.schedule("broken")), "sub", "{not json")
            Self.move(engine, to: tick)
            let pass = try #require(try await engine.coordinator.maintenance.pass(owner: "t", interval: .milliseconds(1)))
            #expect(pass.scheduledRuns == [Schedule.runID(name: "fine", tick: tick)])
            #expect(pass.scheduleErrors.map(\.code) == [.corruptRecord])
            #expect(pass.scheduleErrors.first?.message.hasPrefix("schedule broken: ") == true)
            // still due, looked at again a minute later: it does not crowd out the others
            let score = try await engine.redis.send("ZSCORE", RedisArgument(engine.keys.schedules), "broken").string
            #expect(score == String(tick + Maintenance.retryBroken.jobqMilliseconds))
            engine.clock.advance(by: .seconds(59))
            #expect(try await engine.coordinator.maintenance.fireDueSchedulesReporting().failures.isEmpty)
            engine.clock.advance(by: .seconds(1))
            #expect(try await engine.coordinator.maintenance.fireDueSchedulesReporting().failures.count == 1)
        }
    }

    /// Every 10 minutes, then no pass for 1h05m: six ticks passed, the latest 5 minutes late.
    @Test func catchUpAfterAnHourDown() async throws {
        try await withEngine { engine in
            var first: Int64 = 0
            for policy in Schedule.CatchUp.allCases {
                first = try #require(try await Self.add(engine, "c-\(policy.rawValue)", every: .seconds(600), catchUp: policy).nextFire)
            }
            let start = first - 600_000
            Self.move(engine, to: first + 5 * 600_000 + 300_000)  // six ticks passed, the last 5 minutes ago
            let runs = try await engine.coordinator.maintenance.fireDueSchedules()
            let ticks = (1...6).map { start + Int64($0) * 600_000 }
            #expect(runs.filter { $0.hasPrefix("c-none-") }.isEmpty)
            #expect(runs.filter { $0.hasPrefix("c-latest-") } == [Schedule.runID(name: "c-latest", tick: ticks[5])])
            #expect(runs.filter { $0.hasPrefix("c-all-") } == ticks.map { Schedule.runID(name: "c-all", tick: $0) })
            for policy in Schedule.CatchUp.allCases {
                #expect(try await Self.schedule(engine, "c-\(policy.rawValue)").nextFire == start + 7 * 600_000, "\(policy)")
            }
            let none = try await Self.schedule(engine, "c-none")
            #expect(none.lastOutcome == "missed" && none.counts["missed"] == 1)
            #expect(try await Self.schedule(engine, "c-latest").counts == ["missed": 1, "fired": 1])
            // catch-up none still fires a tick that is on time
            engine.clock.advance(by: .seconds(300 + 5))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().filter { $0.hasPrefix("c-none-") } == [Schedule.runID(name: "c-none", tick: start + 7 * 600_000)])
        }
    }

    /// Catch-up `none` counts a tick as on time for two maintenance intervals when that is
    /// longer than a minute: a fleet that passes every 5 minutes still fires it.
    @Test func onTimeFollowsTheMaintenanceInterval() async throws {
        try await withEngine { engine in
            let tick = try #require(try await Self.add(engine, "slow", every: .seconds(3600), catchUp: .none).nextFire)
            Self.move(engine, to: tick + 290_000)
            let pass = try #require(try await engine.coordinator.maintenance.pass(owner: "t", interval: .seconds(300)))
            #expect(pass.scheduledRuns == [Schedule.runID(name: "slow", tick: tick)])
            #expect(Maintenance.onTimeGrace(interval: .seconds(1)) == .seconds(60))
        }
    }

    @Test func catchUpAllIsBounded() async throws {
        try await withEngine { engine in
            _ = try await Self.add(engine, "many", every: .seconds(1), catchUp: .all)
            engine.clock.advance(by: .seconds(3600))
            var fired = 0
            for _ in 0..<4 { fired += try await engine.coordinator.maintenance.fireDueSchedules(budget: 50).count }
            #expect(fired == Schedule.maxCatchUp)  // 3,500 ticks marked missed at once, then the last 100 fired, ≤ 50 per pass
            #expect(try await Self.runCount(engine) == Schedule.maxCatchUp)
        }
    }

    /// The first tick's run is still PENDING at the second tick.
    @Test func overlapSkipAllowCancel() async throws {
        try await withEngine { engine in
            var first: Int64 = 0
            for policy in [Schedule.Overlap.skip, .allow, .cancel] {
                first = try #require(try await Self.add(engine, "o-\(policy.rawValue)", overlap: policy).nextFire)
            }
            let start = first - 60_000
            Self.move(engine, to: first)
            let initial = try await engine.coordinator.maintenance.fireDueSchedules()
            #expect(initial.count == 3)
            engine.clock.advance(by: .seconds(60))
            let second = try await engine.coordinator.maintenance.fireDueSchedules()
            let tick2 = start + 120_000
            #expect(Set(second) == [Schedule.runID(name: "o-allow", tick: tick2), Schedule.runID(name: "o-cancel", tick: tick2)])
            let skip = try await Self.schedule(engine, "o-skip")
            #expect(skip.lastOutcome == "skip" && skip.lastRun == Schedule.runID(name: "o-skip", tick: start + 60_000))
            #expect(try await engine.coordinator.tasks.run(Schedule.runID(name: "o-allow", tick: start + 60_000))?.state == .pending)
            #expect(try await engine.coordinator.tasks.run(Schedule.runID(name: "o-cancel", tick: start + 60_000))?.state == .cancelled)
            #expect(try await engine.coordinator.tasks.run(Schedule.runID(name: "o-cancel", tick: tick2))?.state == .pending)
            // once the previous run ended, skip fires again
            _ = try await engine.drain()
            engine.clock.advance(by: .seconds(60))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().contains(Schedule.runID(name: "o-skip", tick: start + 180_000)))
        }
    }

    /// Overlap `buffer`: ticks while the previous run is going wait (the latest one), and it
    /// fires at the first pass after that run ended.
    @Test func overlapBufferFiresTheLatestTickOnceThePreviousRunEnded() async throws {
        try await withEngine { engine in
            let tick1 = try #require(try await Self.add(engine, "b", overlap: .buffer, catchUp: .none).nextFire)
            Self.move(engine, to: tick1)
            let run1 = try await engine.coordinator.maintenance.fireDueSchedules()
            #expect(run1 == [Schedule.runID(name: "b", tick: tick1)])
            engine.clock.advance(by: .seconds(60))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)
            #expect(try await Self.schedule(engine, "b").buffered == tick1 + 60_000)
            engine.clock.advance(by: .seconds(60))  // a third tick while the first run still goes
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)
            let waiting = try await Self.schedule(engine, "b")
            #expect(waiting.buffered == tick1 + 120_000 && waiting.nextFire == tick1 + 120_000 && waiting.counts["missed"] == 1)
            _ = try await engine.drain()  // the first run ends
            engine.clock.advance(by: .seconds(1))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules() == [Schedule.runID(name: "b", tick: tick1 + 120_000)])
            let after = try await Self.schedule(engine, "b")
            #expect(after.buffered == nil && after.nextFire == tick1 + 180_000 && after.counts == ["fired": 2, "missed": 1])
            #expect(try await engine.events(of: "@sched:b").filter { $0.hasPrefix("->:buffered:") } == ["->:buffered:\(tick1 + 60_000)", "->:buffered:\(tick1 + 120_000)"])
        }
    }

    @Test func pauseResumeRemoveTrigger() async throws {
        try await withEngine { engine in
            let store = engine.coordinator.tasks
            _ = try await Self.add(engine, "ctl")
            #expect(try await store.pauseSchedule("ctl"))
            #expect(try await store.pauseSchedule("ctl") == false)
            engine.clock.advance(by: .seconds(150))
            #expect(try await engine.coordinator.maintenance.fireDueSchedules().isEmpty)
            let paused = try await Self.schedule(engine, "ctl")
            #expect(paused.paused && paused.nextFire == nil)
            #expect(try await store.schedules().map(\.name) == ["ctl"])
            // resumed: from the next tick after now, the paused ones are not owed
            #expect(try await store.resumeSchedule("ctl"))
            #expect(try await store.resumeSchedule("ctl") == false)
            let next = (engine.clock.now / 60_000 + 1) * 60_000
            #expect(try await Self.schedule(engine, "ctl").nextFire == next)
            // trigger: a run now, with an id of its own; the ticks are unchanged
            let triggered = try await store.triggerSchedule("ctl")
            let run = try #require(triggered.run)
            #expect(run.hasPrefix("ctl-") && run != Schedule.runID(name: "ctl", tick: next))
            let after = try await Self.schedule(engine, "ctl")
            #expect(after.lastRun == run && after.lastOutcome == "triggered" && after.nextFire == next)
            let listed = try await store.schedules()
            #expect(listed.count == 1 && listed[0].lastRunState == .pending)
            try await store.removeSchedule("ctl")
            #expect(try await store.schedule("ctl") == nil)
            #expect(try await store.schedules().isEmpty)
            for attempt in [{ try await store.removeSchedule("ctl") }, { _ = try await store.pauseSchedule("ctl") },
                            { _ = try await store.resumeSchedule("ctl") }, { _ = try await store.triggerSchedule("ctl") }] {
                let error = await #expect(throws: JobqError.self) { try await attempt() }
                #expect(error?.code == .notFound)
            }
            #expect(try await engine.coordinator.tasks.run(run) != nil)  // its runs stay
        }
    }

    @Test func badSchedulesWriteNothing() async throws {
        try await withEngine { engine in
            let store = engine.coordinator.tasks
            let cases: [(String, Schedule.Rule, ScheduledSubmission, JobqError.Code)] = [
                ("a", .cron("0 0 30 2 *"), Self.noop, .invalidSchedule),
                ("a", .cron("not cron"), Self.noop, .invalidSchedule),
                ("a", .cron("@daily", timeZone: "Nowhere/City"), Self.noop, .invalidSchedule),
                ("a", .every(.zero), Self.noop, .invalidSchedule),
                ("a", .every(.milliseconds(500)), Self.noop, .invalidSchedule),
                ("bad name", .every(.seconds(1)), Self.noop, .invalidName),
                (String(repeating: "n", count: 101), .every(.seconds(1)), Self.noop, .invalidName),
                ("a", .every(.seconds(1)), ScheduledSubmission(handler: "bad handler", definition: "d"), .invalidName),
            ]
            for (name, rule, submission, code) in cases {
                let error = await #expect(throws: JobqError.self, "\(rule)") { _ = try await store.addSchedule(name, rule: rule, submission: submission) }
                #expect(error?.code == code, "\(rule)")
            }
            #expect(try await engine.keySnapshot().isEmpty)
            _ = try await store.addSchedule("a", rule: .cron("0 2 * * *", timeZone: "Europe/Paris"), submission: Self.noop)
            let exists = await #expect(throws: JobqError.self) { _ = try await store.addSchedule("a", rule: .every(.seconds(5)), submission: Self.noop) }
            #expect(exists?.code == .scheduleExists)
            let replaced = try await store.addSchedule("a", rule: .every(.seconds(5)), submission: Self.noop, replace: true)
            #expect(replaced.specText == "every 5s")
            #expect(try await Self.schedule(engine, "a").specText == "every 5s")
        }
    }

    /// What a workflow file gives a schedule survives the record: keys, edges, options.
    @Test func aStoredSubmissionDecodesAsGiven() throws {
        var run = RunOptions(definition: "nightly", window: 2, deadline: .after(.seconds(1800)), failFast: true, critical: ["b"], output: "b")
        run.id = nil
        let submission = ScheduledSubmission(
            tasks: [TaskSpec(id: "a", handler: "h", queue: "q", payload: Array(#"{"x":1}"#.utf8), maxAttempts: 5, title: "first",
                             concurrency: ConcurrencyLimit(key: "x-{payload.x}", limit: 2)),
                    TaskSpec(id: "b", handler: "h", prerequisites: [Prerequisite("a", policy: .always)], delay: .seconds(3))],
            run: run
        )
        let decoded = try ScheduledSubmission(encoded: submission.encoded, schedule: "s")
        #expect(decoded == submission)
    }
}
