import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import Synchronization
import Testing

/// Real processes, real faults: a private redis-server, `jobq-worker` processes (lease 3 s,
/// heartbeat 0.5 s) writing the test handlers' journal, workloads submitted through the library.
/// Each scenario prints one `FAULT <name>: …` line with its figures (quoted in
/// docs/guarantees.md) and fails on any violated invariant. See docs/testing.md.
@Suite("Fault tests", .enabled(if: redisAvailable), .serialized)
struct FaultScenarioTests {
    /// Submits `batches` batches of the mixed workload; returns what was acknowledged.
    static func submitWorkload(_ fleet: Fleet, batches: Int, size: Int = 500) async throws -> [SubmittedTask] {
        var acknowledged: [SubmittedTask] = []
        for batch in 0..<batches {
            let items = Workload.batch(batch, size: size)
            let result = try await fleet.coordinator.tasks.submit(items.map(\.0))
            for (item, task) in zip(items, result.tasks) {
                acknowledged.append(SubmittedTask(item.0, id: task.id, expectedRuns: item.expectedRuns, expectedState: item.expectedState))
            }
        }
        return acknowledged
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    // MARK: a. Repeated SIGKILL under load

    @Test func repeatedSigkillUnderLoad() async throws {
        try await withFleet { fleet in
            for _ in 0..<3 { try fleet.startWorker(concurrency: 8) }
            let stop = Mutex(false)
            let killer = Task { () -> [Kill] in
                var kills: [Kill] = []
                let started = ContinuousClock.now
                while !stop.withLock({ $0 }), kills.count < 30, ContinuousClock.now - started < .seconds(60) {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 500...1500)))
                    if stop.withLock({ $0 }) { break }
                    guard let victim = fleet.running.randomElement() else { continue }
                    victim.send(SIGKILL)
                    kills.append(Kill(pid: victim.pid, time: unixMilliseconds()))
                    _ = await victim.waitForExit(timeout: .seconds(5))
                    _ = try? fleet.startWorker(concurrency: 8)
                }
                return kills
            }
            let start = ContinuousClock.now
            let submitted: [SubmittedTask]
            do {
                submitted = try await Self.submitWorkload(fleet, batches: 40)
            } catch {
                stop.withLock { $0 = true }
                _ = await killer.value
                throw error
            }
            let drained = await fleet.awaitDrained(total: submitted.count, timeout: .seconds(240))
            let elapsed = Self.seconds(since: start)
            stop.withLock { $0 = true }
            let kills = await killer.value
            #expect(drained, "the workload did not drain within 240 s")
            let result = try await fleet.check(submitted, kills: kills, faults: true)
            report("repeated-sigkill", result, extra: String(format: "throughput=%.0f/s elapsed=%.1fs", Double(submitted.count) / elapsed, elapsed))
            #expect(submitted.count == 20_000)
            #expect(kills.count >= 5, "too few kills to mean anything: \(kills.count)")
            // Every kill: its tasks ran again within the bound, behind whatever was queued.
            if let rerun = result.worstRerunAfterKill { #expect(rerun < Fleet.recoveryBound, "re-run \(rerun) s after a kill") }
        }
    }

    // MARK: b. SIGKILL once mid-task

    @Test func sigkillOnceMidTask() async throws {
        try await withFleet { fleet in
            let first = try fleet.startWorker(concurrency: 2)
            let long = spec("long", payload: #"{"seconds": 2}"#, maxAttempts: 3)
            _ = try await fleet.coordinator.tasks.submit([long])
            try await fleet.awaitJournal { $0.contains { $0.task == "long" && $0.isStart && $0.pid == first.pid } }
            let second = try fleet.startWorker(concurrency: 2)
            first.send(SIGKILL)
            let kill = Kill(pid: first.pid, time: unixMilliseconds())
            let info = try await fleet.client.wait(for: "long", timeout: .seconds(30))
            #expect(info.state == .done)
            let result = try await fleet.check([SubmittedTask(long, id: "long")], kills: [kill], faults: true)
            report("sigkill-once", result)
            let runs = fleet.journal().entries.filter { $0.task == "long" }
            #expect(runs.filter(\.isStart).map(\.pid) == [first.pid, second.pid], "\(runs)")
            #expect(runs.filter(\.isStart).map(\.attempt) == [1, 1], "a death beside nothing proven is not charged")
            #expect(runs.filter(\.isSuccessfulEnd).map(\.pid) == [second.pid])
            #expect(try await fleet.events().done["long"] == 1)
            if let rerun = result.worstRerunAfterKill { #expect(rerun < Fleet.recoveryBound, "re-run \(rerun) s after the kill") }
        }
    }

    // MARK: c. SIGTERM

    @Test func sigtermFinishesShortTasksAndHandsBackLongOnes() async throws {
        try await withFleet { fleet in
            let first = try fleet.startWorker(concurrency: 8, grace: "2s")
            let short = (0..<4).map { spec("short\($0)", payload: #"{"seconds": 0.8}"#, maxAttempts: 1) }
            let long = (0..<4).map { spec("long\($0)", payload: #"{"seconds": 6}"#, maxAttempts: 1) }
            _ = try await fleet.coordinator.tasks.submit(short + long)
            try await fleet.awaitJournal { entries in Set(entries.filter { $0.isStart && $0.pid == first.pid }.map(\.task)).count == 8 }
            let sent = ContinuousClock.now
            first.send(SIGTERM)
            let status = await first.waitForExit(timeout: .seconds(15))
            let exitAfter = Self.seconds(since: sent)
            #expect(status == 0, "exit status \(String(describing: status)); log:\n\(first.log)")
            #expect(exitAfter < 12, "exited \(exitAfter) s after SIGTERM with a 2 s grace")
            let second = try fleet.startWorker(concurrency: 8)
            let ids = (short + long).compactMap(\.id)
            #expect(await fleet.awaitDrained(total: 8, timeout: .seconds(40)))
            let submitted = (short + long).map { SubmittedTask($0, id: $0.id!, expectedState: .done) }
            let result = try await fleet.check(submitted, faults: false)
            let events = try await fleet.events()
            let entries = fleet.journal().entries
            for id in ids where id.hasPrefix("short") {
                #expect(entries.filter { $0.task == id }.map(\.pid) == [first.pid, first.pid], "\(id) ran on the first worker only")
            }
            for id in ids where id.hasPrefix("long") {
                let starts = entries.filter { $0.task == id && $0.isStart }
                #expect(starts.map(\.pid) == [first.pid, second.pid], "\(id): \(starts)")
                #expect(starts.map(\.attempt) == [1, 1], "\(id): the hand-back charged an attempt: \(starts)")
                #expect(entries.contains { $0.task == id && $0.pid == first.pid && $0.kind == .end("cancelled") })
                #expect(events.handBacks[id] == 1)
            }
            report("sigterm", result, extra: String(format: "exitAfterSigterm=%.1fs handedBack=%d", exitAfter, events.handBacks.values.reduce(0, +)))
        }
    }

    // MARK: d. SIGSTOP past the lease

    @Test func sigstopPastTheLeaseThenSigcont() async throws {
        try await withFleet { fleet in
            let stopped = try fleet.startWorker(concurrency: 4)
            // 4 s: longer than the time to notice the expired lease and start the re-run, so the
            // stalled run's completion arrives while the re-run is still RUNNING (stale token).
            let tasks = (0..<2).map { spec("stalled\($0)", payload: #"{"seconds": 4}"#, maxAttempts: 3) }
            _ = try await fleet.coordinator.tasks.submit(tasks)
            try await fleet.awaitJournal { entries in entries.filter { $0.isStart && $0.pid == stopped.pid }.count == 2 }
            let other = try fleet.startWorker(concurrency: 4)
            stopped.send(SIGSTOP)
            let stoppedAt = unixMilliseconds()
            try await Task.sleep(for: .seconds(6))  // twice the lease
            stopped.send(SIGCONT)
            for task in tasks { _ = try await fleet.client.wait(for: task.id!, timeout: .seconds(30)) }
            // Give the resumed worker time to send its late outcome and have it refused.
            try await Task.sleep(for: .seconds(2))

            // It recovers and keeps working: alone now.
            other.send(SIGTERM)
            _ = await other.waitForExit(timeout: .seconds(15))
            let after = (0..<10).map { spec("after\($0)", "jobq.noop", payload: "null") }
            _ = try await fleet.coordinator.tasks.submit(after)
            #expect(await fleet.awaitDrained(total: 12, timeout: .seconds(30)))

            let submitted = tasks.map { SubmittedTask($0, id: $0.id!, expectedState: .done) } + after.map { SubmittedTask($0, id: $0.id!, expectedState: .done) }
            let result = try await fleet.check(submitted, kills: [Kill(pid: stopped.pid, time: stoppedAt)], faults: true)
            let events = try await fleet.events()
            let entries = fleet.journal().entries
            for task in tasks {
                let id = task.id!
                let starts = entries.filter { $0.task == id && $0.isStart }
                #expect(starts.map(\.pid) == [stopped.pid, other.pid], "\(id): \(starts)")
                #expect(events.done[id] == 1)
                // The stopped worker's run is not charged (it ran beside others), so both runs are
                // attempt 1; the record says which claim its DONE came from.
                #expect(events.doneAttempt[id] == 1)
                let info = try #require(try await fleet.coordinator.tasks.task(id))
                #expect(info.worker == other.name && info.workerDeaths == 1, "\(id): the DONE must be the re-run's, not the stale run's (worker \(info.worker ?? "-"))")
                #expect(entries.contains { $0.task == id && $0.pid == other.pid && $0.isSuccessfulEnd })
            }
            let lateOutcomes = entries.filter { $0.pid == stopped.pid && !$0.isStart && $0.task.hasPrefix("stalled") }.map { "\($0.kind)" }
            let log = stopped.log
            let refused = log.components(separatedBy: "no longer holds its lease").count - 1
            let lostLease = log.components(separatedBy: "lost the lease").count - 1
            #expect(refused + lostLease >= 1, "the resumed worker never noticed it lost its leases:\n\(log)")
            let refusals = log.split(separator: "\n").compactMap { line -> String? in
                guard let range = line.range(of: "refusal=") else { return nil }
                return String(line[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," })
            }
            #expect(refusals.allSatisfy { $0.contains("stale_token") || $0.contains("invalid_state") }, "\(refusals)")
            #expect(after.allSatisfy { task in entries.contains { $0.task == task.id! && $0.pid == stopped.pid && $0.isSuccessfulEnd } },
                    "the resumed worker did not run the later tasks")
            #expect(stopped.isRunning)
            if let rerun = result.worstRerunAfterKill { #expect(rerun < 30, "re-run \(rerun) s after the stop") }
            report("sigstop", result, extra: "staleOutcomesRefused=\(refused) leaseLostNoticed=\(lostLease) refusals=\(refusals) lateRunEnds=\(lateOutcomes)")
        }
    }

    // MARK: e. Redis SIGKILL + restart

    @Test func redisKilledAndRestartedWithAlwaysFsync() async throws {
        try await withFleet(extraConfig: ["appendonly yes", "appendfsync always"]) { fleet in
            for _ in 0..<2 { try fleet.startWorker(concurrency: 8) }
            let outage = Task { () -> Double in
                try? await Task.sleep(for: .seconds(1))
                await fleet.server.kill()
                let down = ContinuousClock.now
                // Longer than the producer's reconnect window (2 s): submits fail and are retried.
                try? await Task.sleep(for: .seconds(3))
                try? await fleet.server.launch()
                return Self.seconds(since: down)
            }
            // Four producers submitting back to back, so that some submits are in flight when
            // Redis dies (outcome unknown) and others find it down; each retries with its key.
            let start = ContinuousClock.now
            let outcomes = try await withThrowingTaskGroup(of: ([SubmittedTask], Int, Int).self) { group in
                for producer in 0..<4 {
                    group.addTask {
                        var submitted: [SubmittedTask] = []
                        var errors = 0
                        var replays = 0
                        let stopAt = ContinuousClock.now + .seconds(6)
                        var batch = 0
                        while ContinuousClock.now < stopAt, batch < 200 {
                            let specs = (0..<25).map { _ in spec(nil, payload: #"{"seconds": 0.005}"#) }
                            let deadline = ContinuousClock.now + .seconds(30)
                            while true {
                                do {
                                    let result = try await fleet.coordinator.tasks.submit(specs, idempotencyKey: "p\(producer)-\(batch)")
                                    if !result.created { replays += 1 }
                                    submitted += zip(specs, result.tasks).map { SubmittedTask($0, id: $1.id) }
                                    break
                                } catch {
                                    errors += 1
                                    guard ContinuousClock.now < deadline else { throw error }
                                    try await Task.sleep(for: .milliseconds(100))
                                }
                            }
                            batch += 1
                        }
                        return (submitted, errors, replays)
                    }
                }
                var all: [([SubmittedTask], Int, Int)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let submitted = outcomes.flatMap(\.0)
            let errors = outcomes.map(\.1).reduce(0, +)
            let repeatedKeys = outcomes.map(\.2).reduce(0, +)
            let downFor = await outage.value
            let drained = await fleet.awaitDrained(total: submitted.count, timeout: .seconds(90))
            let elapsed = Self.seconds(since: start)
            #expect(drained)
            #expect(errors > 0, "no submit saw the outage: the test did not test anything")
            let result = try await fleet.check(submitted, faults: true)
            #expect(Set(submitted.map(\.id)).count == submitted.count)
            #expect(fleet.running.count == 2, "a worker did not survive the Redis restart")
            report("redis-restart", result, extra: String(format: "submitErrors=%d keyReplays=%d redisDown=%.1fs elapsed=%.1fs", errors, repeatedKeys, downFor, elapsed))
        }
    }

    // MARK: f. Redis stalled below the lease

    @Test func redisStalledBelowTheLease() async throws {
        try await withFleet(extraConfig: ["enable-debug-command yes"]) { fleet in
            for _ in 0..<3 { try fleet.startWorker(concurrency: 8) }
            let submitted = try await Self.submitWorkload(fleet, batches: 10)
            let staller = fleet.server.makeClient { $0.commandTimeout = .seconds(10) }
            var stalls = 0
            let start = ContinuousClock.now
            while stalls < 4, ContinuousClock.now - start < .seconds(30) {
                _ = try await staller.send(RedisCommand("DEBUG", ["SLEEP", "1"]))
                stalls += 1
                try await Task.sleep(for: .milliseconds(700))
            }
            await staller.close()
            #expect(await fleet.awaitDrained(total: submitted.count, timeout: .seconds(120)))
            let result = try await fleet.check(submitted, faults: false)
            #expect(result.extraExecutions == 0, "a 1 s stall with a 3 s lease caused re-runs")
            report("redis-stall", result, extra: "stalls=\(stalls)x1s")
        }
    }

    // MARK: g. FUNCTION FLUSH / SCRIPT FLUSH under load

    @Test func scriptFlushUnderLoad() async throws {
        try await withFleet { fleet in
            for _ in 0..<2 { try fleet.startWorker(concurrency: 8) }
            let flusher = Task { () -> Int in
                let redis = fleet.server.makeClient()
                var flushes = 0
                while flushes < 100, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    // the scripts run as a Functions library: losing it is what a flush does now
                    let command = flushes % 2 == 0 ? RedisCommand("FUNCTION", ["FLUSH"]) : RedisCommand("SCRIPT", ["FLUSH"])
                    if (try? await redis.send(command)) != nil { flushes += 1 }
                }
                await redis.close()
                return flushes
            }
            let submitted = try await Self.submitWorkload(fleet, batches: 20)
            let drained = await fleet.awaitDrained(total: submitted.count, timeout: .seconds(120))
            flusher.cancel()
            let flushes = await flusher.value
            #expect(drained)
            let result = try await fleet.check(submitted, faults: false)
            let failedLogs = fleet.running.map(\.log).joined().components(separatedBy: "NOSCRIPT").count - 1
            report("script-flush", result, extra: "flushes=\(flushes) noscriptInLogs=\(failedLogs)")
        }
    }

    // MARK: h. maxmemory with noeviction

    @Test func maxmemoryNoevictionRefusesSubmitsCleanly() async throws {
        try await withFleet(extraConfig: ["maxmemory-policy noeviction"]) { fleet in
            let admin = fleet.server.makeClient()
            let info = try await admin.send(RedisCommand("INFO", ["memory"])).string ?? ""
            let used = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }
                .flatMap { Int($0.dropFirst("used_memory:".count)) } ?? 0
            _ = try await admin.send(RedisCommand("CONFIG", ["SET", "maxmemory", RedisArgument(used + 3_000_000)]))

            let filler = "\"" + String(repeating: "x", count: 10_000) + "\""
            var submitted: [SubmittedTask] = []
            var refused: (JobqError, [TaskSpec])?
            for batch in 0..<100 {
                let specs = (0..<50).map { spec("m\(batch)-\($0)", "jobq.echo", payload: filler) }
                do {
                    let result = try await fleet.coordinator.tasks.submit(specs, idempotencyKey: "mem\(batch)")
                    submitted += zip(specs, result.tasks).map { SubmittedTask($0, id: $1.id, expectedState: .done) }
                } catch let error as JobqError {
                    refused = (error, specs)
                    break
                }
            }
            guard let (error, specs) = refused else {
                Issue.record("maxmemory never refused a submit")
                return
            }
            let text = "\(error.code.rawValue): \(error.message)"
            #expect(error.code == .redisOutOfMemory, "unclear error: \(text)")
            #expect(text.contains("out of memory"), "unclear error: \(text)")
            // Nothing half-written: none of the refused batch's tasks, no idempotency key.
            let ids = specs.map(\.id!)
            let found = try await fleet.coordinator.tasks.tasks(ids)
            #expect(found.allSatisfy { $0 == nil }, "a refused submit left \(found.compactMap { $0 }.count) tasks behind")
            #expect(try await fleet.taskCount() == submitted.count)

            _ = try await admin.send(RedisCommand("CONFIG", ["SET", "maxmemory", "0"]))
            await admin.close()
            let retried = try await fleet.coordinator.tasks.submit(specs, idempotencyKey: "mem-retry")
            #expect(retried.created)
            submitted += zip(specs, retried.tasks).map { SubmittedTask($0, id: $1.id, expectedState: .done) }
            for _ in 0..<2 { try fleet.startWorker(concurrency: 8) }
            #expect(await fleet.awaitDrained(total: submitted.count, timeout: .seconds(60)))
            let result = try await fleet.check(submitted, faults: false)
            report("maxmemory", result, extra: "acceptedBeforeRefusal=\(submitted.count - specs.count) error=\"\(text.prefix(120))\"")
        }
    }
}
