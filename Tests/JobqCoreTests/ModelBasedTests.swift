import JobqRedis
import JobqTestSupport
import Testing

@testable import JobqCore

/// Random operation sequences applied to the real scripts and to ``ReferenceModel``; after every
/// step, every task's state and attempt count must agree. The first test's operations include a
/// handler waiting for a signal (with or without a timeout) and signals sent to any task, before
/// or after its wait.
@Suite("model-based", .enabled(if: redisAvailable))
struct ModelBasedTests {
    @Test(arguments: Array(1...16) as [UInt64])
    func scriptsAgreeWithTheReferenceModel(seed: UInt64) async throws {
        try await withEngine { engine in
            var random = SeededGenerator(state: seed)
            var model = ReferenceModel(now: engine.clock.now)
            var running: [String: TaskLease] = [:]
            let lease: Int64 = 10_000
            var ids: [String] = []

            for step in 0..<300 {
                let roll = Int.random(in: 0..<112, using: &random)
                var operation = ""
                switch roll {
                case 0..<25: // submit with random prerequisites among existing tasks
                    let id = "t\(ids.count)"
                    var prerequisites: [(String, DependencyPolicy)] = []
                    for candidate in ids.shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)) {
                        prerequisites.append((candidate, Int.random(in: 0..<4, using: &random) == 0 ? .always : .success))
                    }
                    let attempts = Int.random(in: 1...3, using: &random)
                    // a quarter expire, 2-20 s after their submission
                    let expiresIn: Int64? = Int.random(in: 0..<4, using: &random) == 0 ? Int64.random(in: 2_000...20_000, using: &random) : nil
                    operation = "submit \(id) after \(prerequisites.map { "\($0.0)/\($0.1)" })" + (expiresIn.map { " expires in \($0)ms" } ?? "")
                    let snoozes = ids.count % 3 // a small snooze budget, so that the limit is reached
                    // priorities in turn (not drawn: the seeds' sequences stay as they were)
                    let priority = [0, 2, 0, -1, 5][ids.count % 5]
                    _ = try await engine.coordinator.tasks.submit([TaskSpec(
                        id: id, handler: "h", prerequisites: prerequisites.map { Prerequisite($0.0, policy: $0.1) },
                        maxAttempts: attempts, backoff: .fixed(delay: .zero), expires: expiresIn.map { .after(.milliseconds($0)) },
                        maxSnoozes: snoozes, priority: priority)])
                    model.submit(id, maxAttempts: attempts, prerequisites: prerequisites, expiresAt: expiresIn.map { engine.clock.now + $0 }, priority: priority)
                    model.tasks[id]?.maxSnoozes = snoozes
                    ids.append(id)
                case 25..<45: // claim one (as an idle or a busy worker): exactly what the model's lanes yield
                    let idle = Int.random(in: 0..<3, using: &random) == 0
                    let expected = model.nextClaim(idle: idle)
                    let batch = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 1, lease: .milliseconds(lease), worker: "w", idle: idle)
                    let claimed = batch.tasks
                    operation = "claim\(idle ? " idle" : "") -> \(claimed.map(\.id)) \(batch.mode), model \(expected.id ?? "none") \(expected.mode)"
                    #expect(claimed.first?.id == expected.id, "step \(step): \(operation)")
                    #expect(batch.mode == expected.mode, "step \(step): \(operation)")
                    if let task = claimed.first {
                        model.claim(task.id, token: task.lease.token, lease: lease, alone: batch.mode == .alone)
                        running[task.id] = task.lease
                    }
                case 45..<62: // complete, sometimes with a stale token
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    let stale = Int.random(in: 0..<5, using: &random) == 0
                    let token = stale ? held.token - 1 : held.token
                    operation = "complete \(id) token \(token)\(stale ? " (stale)" : "")"
                    let outcome = try await engine.coordinator.leases.complete([Completion(lease: TaskLease(id: id, token: token), result: [])])
                    let accepted = model.complete(id, token: token)
                    #expect((outcome == [.done]) == accepted, "step \(step): \(operation) -> \(outcome)")
                    if accepted || model.tasks[id]?.state != .running { running[id] = nil }
                case 62..<74: // fail
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    let delay: Int64 = Int.random(in: 0..<2, using: &random) == 0 ? 0 : 5_000
                    let final = Int.random(in: 0..<4, using: &random) == 0
                    let snooze = !final && Int.random(in: 0..<3, using: &random) == 0
                    operation = "fail \(id) \(final ? "final" : snooze ? "snooze 3000ms or retry +\(delay)ms" : "retry +\(delay)ms")"
                    let mode: Failure.Mode = final ? .final : snooze ? .snooze(delay: .milliseconds(3_000), retryDelay: .milliseconds(delay)) : .retry(delay: .milliseconds(delay))
                    let outcome = try await engine.coordinator.leases.fail([Failure(lease: held, mode: mode, reason: "error", message: "x")])
                    let modelMode: ReferenceModel.FailMode = final ? .final : snooze ? .snooze(delay: 3_000, retryDelay: delay) : .retry(delay: delay)
                    let accepted = model.fail(id, token: held.token, mode: modelMode)
                    #expect(outcome.first.map { if case .refused = $0 { false } else { true } } == accepted, "step \(step): \(operation)")
                    running[id] = nil
                case 74..<84: // cancel any task
                    guard let id = ids.randomElement(using: &random) else { continue }
                    operation = "cancel \(id)"
                    let expected = model.cancel(id)
                    let actual: ReferenceModel.CancelResult
                    do {
                        switch try await engine.coordinator.tasks.cancel(task: id) {
                        case .cancelled: actual = .cancelled
                        case .requested: actual = .requested
                        case .alreadyRequested: actual = .alreadyRequested
                        }
                    } catch {
                        #expect((error as? JobqError)?.code == .invalidState)
                        actual = .refused
                    }
                    #expect(actual == expected, "step \(step): \(operation)")
                case 84..<92: // time passes: leases expire, delays fall due
                    let by = Int64.random(in: 1_000...12_000, using: &random)
                    operation = "advance \(by)ms, reap, promote"
                    engine.clock.advance(by: .milliseconds(by))
                    model.now = engine.clock.now
                    _ = try await engine.coordinator.maintenance.reap()
                    model.reap()
                    _ = try await engine.coordinator.maintenance.promote()
                    model.promote()
                    for id in running.keys where model.tasks[id]?.state != .running { running[id] = nil }
                case 100..<106: // the handler waits for a signal (sometimes with a timeout)
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    let name = ["go", "stop"][Int.random(in: 0..<2, using: &random)]
                    let timeout: Int64 = Bool.random(using: &random) ? 0 : Int64.random(in: 2_000...15_000, using: &random)
                    operation = "wait \(id) for \(name)" + (timeout > 0 ? " timeout \(timeout)ms" : "")
                    let outcome = try await engine.coordinator.leases.fail([Failure(
                        lease: held, mode: .wait(name: name, timeout: timeout > 0 ? .milliseconds(timeout) : nil, question: nil), reason: "waiting", message: "")])
                    let accepted = model.fail(id, token: held.token, mode: .wait(name: name, timeout: timeout))
                    #expect(outcome.first.map { if case .refused = $0 { false } else { true } } == accepted, "step \(step): \(operation) -> \(outcome)")
                    running[id] = nil
                case 106..<112: // a signal to any task, waiting or not
                    guard let id = ids.randomElement(using: &random) else { continue }
                    let name = ["go", "stop"][Int.random(in: 0..<2, using: &random)]
                    operation = "signal \(id) \(name)"
                    let expected = model.signal(id, name: name)
                    let actual: ReferenceModel.SignalResult
                    do {
                        switch try await engine.coordinator.tasks.signal(task: id, name: name, payload: Array("{}".utf8)) {
                        case .kept: actual = .kept
                        case .resumed: actual = .resumed
                        }
                    } catch {
                        let code = (error as? JobqError)?.code
                        actual = code == .invalidState ? .ended : code == .notFound ? .notFound : .kept
                        #expect(code == .invalidState || code == .notFound, "step \(step): \(operation): \(error)")
                    }
                    #expect(actual == expected, "seed \(seed) step \(step): \(operation) -> \(actual), model says \(expected)")
                case 92..<100: // retry a finished task
                    guard let id = ids.randomElement(using: &random) else { continue }
                    operation = "retry \(id)"
                    let expected = model.retry(id)
                    do {
                        let reopened = try await engine.coordinator.tasks.retry(task: id)
                        #expect(Set(reopened) == expected, "step \(step): \(operation)")
                    } catch {
                        #expect(expected == nil, "step \(step): \(operation) refused: \(error)")
                    }
                default:
                    continue
                }
                // Compare every task.
                let infos = try await engine.coordinator.tasks.tasks(ids)
                for (id, info) in zip(ids, infos) {
                    let expected = model.tasks[id]
                    #expect(info?.state == expected?.state, "seed \(seed) step \(step) after \(operation): \(id) is \(String(describing: info?.state)), model says \(String(describing: expected?.state))")
                    #expect(info?.attempts == expected?.attempts, "seed \(seed) step \(step) after \(operation): attempts of \(id)")
                    #expect(info?.snoozes == expected?.snoozes, "seed \(seed) step \(step) after \(operation): snoozes of \(id)")
                    #expect(info?.waitingFor == expected?.waitingFor, "seed \(seed) step \(step) after \(operation): the signal \(id) waits for")
                    #expect(info?.suspectLevel == expected?.suspect, "seed \(seed) step \(step) after \(operation): suspect level of \(id)")
                    if expected?.state == .failed, expected?.reason == "poison" { #expect(info?.reason == "poison", "seed \(seed) step \(step): \(id)") }
                }
                if infos.map(\.?.state) != ids.map({ model.tasks[$0]?.state }) { return }
            }
        }
    }

    /// Runs in the model: several runs (windowed or not, with critical tasks, with `failure`
    /// edges) beside standalone tasks, random claims (idle and busy), completions (some
    /// skipped), failures, cancellations and time passing; and running tasks spawning child runs
    /// (under one of two keys, sometimes with a stale token, waking or failing the parent on a
    /// failed child, nested when a child spawns), then returning (ending with the run) or
    /// waiting for it (invoked again). Every task's state, attempts and wait for children, every
    /// run's parked list and every run's state must agree with the model after every step.
    @Test(arguments: Array(1...12) as [UInt64])
    func runsAgreeWithTheReferenceModel(seed: UInt64) async throws {
        try await withEngine { engine in
            var random = SeededGenerator(state: seed &+ 1000)
            var model = ReferenceModel(now: engine.clock.now)
            var running: [String: TaskLease] = [:]
            let lease: Int64 = 10_000
            var ids: [String] = []
            var runs: [String] = []
            var history: [String] = []
            var seen: [String: Int] = [:] // what the spawn operations did, to show they were exercised
            defer { print("model-based runs, seed \(seed): \(seen.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); parents \(model.resolutions.sorted { $0.key < $1.key }); child runs ended \(model.runs.values.filter { $0.parent != nil && $0.finished != nil }.map { $0.finished!.rawValue }.sorted())") }

            for step in 0..<250 {
                let roll = Int.random(in: 0..<112, using: &random)
                var operation = ""
                switch roll {
                case 0..<12: // a run of 2-6 tasks: a window (or none), maybe a critical task, random edges
                    let run = "r\(runs.count)"
                    let size = Int.random(in: 2...6, using: &random)
                    let window: Int? = Bool.random(using: &random) ? Int.random(in: 1...2, using: &random) : nil
                    var critical: Set<String> = []
                    if Int.random(in: 0..<3, using: &random) == 0 { critical.insert("k\(Int.random(in: 0..<size, using: &random))") }
                    var specs: [(key: String, maxAttempts: Int, prerequisites: [(String, DependencyPolicy)])] = []
                    for index in 0..<size {
                        var prerequisites: [(String, DependencyPolicy)] = []
                        for earlier in (0..<index).shuffled(using: &random).prefix(Int.random(in: 0...2, using: &random)) {
                            let policy: DependencyPolicy = [.success, .success, .always, .failure][Int.random(in: 0..<4, using: &random)]
                            prerequisites.append(("k\(earlier)", policy))
                        }
                        specs.append((key: "k\(index)", maxAttempts: Int.random(in: 1...2, using: &random), prerequisites: prerequisites))
                    }
                    operation = "submit run \(run) window \(String(describing: window)) critical \(critical) \(specs.map { "\($0.key)<-\($0.prerequisites.map { "\($0.0)/\($0.1)" })" })"
                    _ = try await engine.coordinator.tasks.submit(specs.map { spec in
                        TaskSpec(id: spec.key, handler: "h", prerequisites: spec.prerequisites.map { Prerequisite($0.0, policy: $0.1) },
                                 maxAttempts: spec.maxAttempts, backoff: .fixed(delay: .zero))
                    }, run: RunOptions(id: run, definition: "d", window: window, critical: critical))
                    model.submitRun(run, window: window, critical: critical, tasks: specs)
                    ids += specs.map { RunScope.id(run: run, key: $0.key) }
                    runs.append(run)
                case 12..<20: // a standalone task
                    let id = "s\(ids.count)"
                    operation = "submit \(id)"
                    _ = try await engine.coordinator.tasks.submit([TaskSpec(id: id, handler: "h", maxAttempts: 2, backoff: .fixed(delay: .zero))])
                    model.submit(id, maxAttempts: 2, prerequisites: [])
                    ids.append(id)
                case 20..<45: // claim one, as an idle or a busy worker
                    let idle = Int.random(in: 0..<3, using: &random) == 0
                    let expected = model.nextClaim(idle: idle)
                    let batch = try await engine.coordinator.leases.claimBatch(queues: ["default"], count: 1, lease: .milliseconds(lease), worker: "w", idle: idle)
                    operation = "claim\(idle ? " idle" : "") -> \(batch.tasks.map(\.id)) \(batch.mode), model \(expected.id ?? "none") \(expected.mode)"
                    if batch.tasks.first?.id != expected.id {
                        let lanes = "ready \(try await engine.readyList().reversed()) recovered \(try await engine.list(engine.keys.recovered("default")).reversed())"
                        Issue.record(Comment(rawValue: "seed \(seed) step \(step): \(operation)\nscript \(lanes)\nhistory:\n" + history.suffix(25).joined(separator: "\n")))
                        return
                    }
                    if let task = batch.tasks.first {
                        model.claim(task.id, token: task.lease.token, lease: lease, alone: batch.mode == .alone)
                        running[task.id] = task.lease
                    }
                case 45..<65: // complete, sometimes as a skip; a spawning handler that saw its run end may say it read the results
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    let skipped = Int.random(in: 0..<4, using: &random) == 0
                    let spawnedEnded = model.tasks[id]?.spawned.flatMap { model.runs[$0]?.finished } != nil
                    let read = spawnedEnded && Bool.random(using: &random)
                    operation = "complete \(id)\(skipped ? " (skipped)" : "")\(read ? " (children read)" : "")"
                    var completion = Completion(lease: held, result: [], skipped: skipped)
                    completion.childrenRead = read
                    let outcome = try await engine.coordinator.leases.complete([completion])
                    #expect((outcome == [.done]) == model.complete(id, token: held.token, skipped: skipped, childrenRead: read), "seed \(seed) step \(step): \(operation)")
                    running[id] = nil
                case 65..<80: // fail
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    let final = Int.random(in: 0..<3, using: &random) == 0
                    operation = "fail \(id) \(final ? "final" : "retry")"
                    _ = try await engine.coordinator.leases.fail([Failure(lease: held, mode: final ? .final : .retry(delay: .zero), reason: "error", message: "x")])
                    _ = model.fail(id, token: held.token, mode: final ? .final : .retry(delay: 0))
                    running[id] = nil
                case 80..<88: // cancel any task
                    guard let id = ids.randomElement(using: &random) else { continue }
                    operation = "cancel \(id)"
                    _ = model.cancel(id)
                    _ = try? await engine.coordinator.tasks.cancel(task: id)
                case 100..<106: // a running task spawns a child run (sometimes with a stale token, or under a second key)
                    guard let (id, held) = running.randomElement(using: &random) else { continue }
                    // a parent that spawned before (a retried attempt) mostly spawns the same again: it attaches
                    let earlier = model.tasks[id]?.spawned.flatMap { run in model.runs[run].map { (run, $0.width) } }
                    let again = earlier != nil && Int.random(in: 0..<4, using: &random) != 0
                    let key = again ? String(earlier!.0.split(separator: ".").last!) : Int.random(in: 0..<4, using: &random) == 0 ? "more" : "children"
                    let run = ChildRunRequest.childRunID(parent: id, key: key)
                    let stale = Int.random(in: 0..<6, using: &random) == 0
                    let token = stale ? held.token - 1 : held.token
                    let size = again ? earlier!.1 : Int.random(in: 1...3, using: &random)
                    let wake = Bool.random(using: &random)
                    let window: Int? = Int.random(in: 0..<3, using: &random) == 0 ? 1 : nil
                    let critical: Set<String> = size > 1 && Int.random(in: 0..<4, using: &random) == 0 ? ["c0"] : []
                    var specs: [(key: String, maxAttempts: Int, prerequisites: [(String, DependencyPolicy)])] = []
                    for index in 0..<size {
                        var prerequisites: [(String, DependencyPolicy)] = []
                        for earlier in (0..<index).shuffled(using: &random).prefix(Int.random(in: 0...1, using: &random)) {
                            prerequisites.append(("c\(earlier)", [.success, .always, .failure][Int.random(in: 0..<3, using: &random)]))
                        }
                        specs.append((key: "c\(index)", maxAttempts: Int.random(in: 1...2, using: &random), prerequisites: prerequisites))
                    }
                    operation = "spawn \(run) from \(id) token \(token)\(stale ? " (stale)" : "") \(wake ? "wake" : "fail")_parent window \(String(describing: window)) critical \(critical) \(specs.map { "\($0.key)<-\($0.prerequisites.map { "\($0.0)/\($0.1)" })" })"
                    let expected = model.spawn(run, parent: id, token: token, width: size, wakeParent: wake)
                    var options = RunOptions(id: run, definition: "children", window: window, critical: critical)
                    options.spawnedBy = SpawnFence(parent: TaskLease(id: id, token: token), policy: wake ? .wakeParent : .failParent, width: size)
                    let actual: ReferenceModel.SpawnResult
                    do {
                        let submitted = try await engine.coordinator.tasks.submit(specs.map { spec in
                            TaskSpec(id: spec.key, handler: "h", prerequisites: spec.prerequisites.map { Prerequisite($0.0, policy: $0.1) },
                                     maxAttempts: spec.maxAttempts, backoff: .fixed(delay: .zero))
                        }, run: options)
                        actual = submitted.created ? .created : .attached
                    } catch let error as JobqError {
                        actual = .refused(error.code)
                    }
                    if actual != expected {
                        Issue.record(Comment(rawValue: "seed \(seed) step \(step): \(operation) -> \(actual), model says \(expected)\nhistory:\n" + history.suffix(25).joined(separator: "\n")))
                        return
                    }
                    seen["spawn \(actual)", default: 0] += 1
                    if actual == .created {
                        model.submitRun(run, window: window, critical: critical, tasks: specs)
                        model.recordSpawned(run, parent: id, wakeParent: wake)
                        ids += specs.map { RunScope.id(run: run, key: $0.key) }
                        runs.append(run)
                    }
                case 106..<112: // the handler waits for the children it spawned (refused when it spawned none)
                    let spawners = running.filter { model.tasks[$0.key]?.spawned != nil }
                    guard let (id, held) = (spawners.isEmpty || Int.random(in: 0..<4, using: &random) == 0 ? running : spawners).randomElement(using: &random) else { continue }
                    operation = "wait \(id) for its children \(String(describing: model.tasks[id]?.spawned))"
                    let accepted = model.fail(id, token: held.token, mode: .children)
                    do {
                        let outcome = try await engine.coordinator.leases.fail([Failure(lease: held, mode: .children, reason: "waiting_children", message: "")])
                        #expect(outcome.first.map { if case .refused = $0 { false } else { true } } == accepted, "seed \(seed) step \(step): \(operation) -> \(outcome)")
                    } catch {
                        // a wait with nothing spawned is the client's mistake: the script refuses its arguments, nothing changes
                        #expect(!accepted && (error as? JobqError)?.code == .internalError, "seed \(seed) step \(step): \(operation) -> \(error)")
                    }
                    if accepted { running[id] = nil }
                    seen[accepted ? "wait for children" : "wait refused", default: 0] += 1
                default: // time passes: leases expire
                    let by = Int64.random(in: 1_000...12_000, using: &random)
                    operation = "advance \(by)ms, reap, promote"
                    engine.clock.advance(by: .milliseconds(by))
                    model.now = engine.clock.now
                    _ = try await engine.coordinator.maintenance.reap()
                    model.reap()
                    _ = try await engine.coordinator.maintenance.promote()
                    model.promote()
                }
                history.append("\(step): \(operation) | model ready \(model.ready) recovered \(model.recovered) parked \(model.runs.filter { !$0.value.parked.isEmpty }.mapValues(\.parked))")
                // What the worker whose failure stopped a run does next: walk the stop.
                try await engine.coordinator.runner.settleAll()
                try await engine.coordinator.maintenance.continueUnownedWork()
                for id in running.keys where model.tasks[id]?.state != .running { running[id] = nil }
                model.forgetParkedOfEndedRuns()

                let infos = try await engine.coordinator.tasks.tasks(ids)
                var agree = true
                for (id, info) in zip(ids, infos) {
                    let expected = model.tasks[id]
                    let context = "seed \(seed) step \(step) after \(operation): \(id)"
                    #expect(info?.state == expected?.state, "\(context) is \(String(describing: info?.state)), model says \(String(describing: expected?.state))")
                    #expect(info?.attempts == expected?.attempts, "\(context): attempts")
                    #expect(info?.waitsForChildren == (expected?.childWait == true && expected?.child != nil), "\(context): waits for children")
                    if info?.state != expected?.state { agree = false }
                }
                for run in runs {
                    let state = try await engine.coordinator.tasks.run(run)?.state
                    let finished = model.runs[run]?.finished
                    if state?.isTerminal == true || finished != nil {
                        #expect(state?.rawValue == finished?.rawValue, "seed \(seed) step \(step) after \(operation): run \(run) is \(String(describing: state)), model says \(String(describing: finished))")
                        if state?.rawValue != finished?.rawValue { agree = false }
                    }
                    let parked = try await engine.list(engine.keys.runParked(run))
                    #expect(parked == model.runs[run]?.parked ?? [], "seed \(seed) step \(step) after \(operation): parked of \(run)")
                    if parked != model.runs[run]?.parked ?? [] {
                        agree = false
                        let record = try await engine.coordinator.tasks.run(run)
                        let states = (model.runs[run]?.tasks ?? []).map { "\($0)=\(model.tasks[$0]?.state.rawValue ?? "?")\(model.tasks[$0]?.cancelRequested == true ? "!" : "")" }
                        Issue.record(Comment(rawValue: "run \(run): record \(String(describing: record?.counts)) window \(String(describing: model.runs[run]?.window)) critical \(model.runs[run]?.critical ?? []) tasks \(states)\nhistory:\n" + history.suffix(12).joined(separator: "\n")))
                    }
                }
                if !agree { return }
            }
            #expect(seen["spawn created", default: 0] > 0, "seed \(seed): no child run was spawned")
        }
    }
}
