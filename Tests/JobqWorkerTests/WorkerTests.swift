import Foundation
import Jobq
import JobqCore
import JobqRedis
import JobqTestSupport
import JobqWorker
import Testing

struct AddInput: Codable, Sendable {
    var a: Int
    var b: Int
}

struct SumOutput: Codable, Sendable, Equatable {
    var sum: Int
}

@Suite("Worker: handlers, outcomes, shutdown", .enabled(if: redisAvailable))
struct WorkerTests {
    @Test func handlerRunsAndItsResultIsStored() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("add") { (input: AddInput, _: HandlerContext) async throws -> SumOutput in
                SumOutput(sum: input.a + input.b)
            }
            try harness.startWorker(registry)
            let submitted = try await harness.client.submit("add", payload: AddInput(a: 2, b: 3))
            let info = try await harness.finished(submitted.id)
            #expect(info.state == .done)
            #expect(info.attempts == 1)
            #expect(try await harness.client.result(of: submitted.id, as: SumOutput.self) == SumOutput(sum: 5))
        }
    }

    /// Workflow files pass results as {"$retval": "id"}: the handler gets the result in place,
    /// also through a transitive prerequisite.
    @Test func retvalReferencesAreReplacedByResults() async throws {
        try await withHarness { harness in
            let seenPayloads = Box<[String]>([])
            var registry = HandlerRegistry()
            registry.register("number") { (input: Int, _: HandlerContext) async throws -> Int in input }
            registry.register("add") { (input: AddInput, context: HandlerContext) async throws -> SumOutput in
                seenPayloads.set(seenPayloads.current + [String(decoding: context.payload, as: UTF8.self)])
                return SumOutput(sum: input.a + input.b)
            }
            try harness.startWorker(registry)
            _ = try await harness.client.engine.tasks.submit([
                TaskSpec(id: "x", handler: "number", payload: Array("40".utf8)),
                TaskSpec(id: "y", handler: "number", payload: Array("2".utf8), prerequisites: [Prerequisite("x")]),
                TaskSpec(id: "sum", handler: "add", payload: Array(#"{"a":{"$retval":"x"},"b":{"$retval":"y"}}"#.utf8),
                         prerequisites: [Prerequisite("y")]),
            ], workflow: "retval")
            let info = try await harness.finished("sum")
            #expect(info.state == .done, "\(info.error ?? "")")
            #expect(try await harness.client.result(of: "sum", as: SumOutput.self) == SumOutput(sum: 42))
            #expect(seenPayloads.current == [#"{"a":40,"b":2}"#])
        }
    }

    @Test func contextDescribesTheTaskAndItsPrerequisitesResults() async throws {
        try await withHarness { harness in
            let seen = Box<[String]>([])
            var registry = HandlerRegistry()
            registry.register("number") { (input: Int, _: HandlerContext) async throws -> Int in input }
            registry.register("total") { (_: JSONNull, context: HandlerContext) async throws -> SumOutput in
                let a = try context.result(of: "a", as: Int.self)
                let b = try context.result(of: "b", as: Int.self)
                seen.set([context.taskID, "\(context.attempt)/\(context.maxAttempts)", context.workflow ?? "-", context.queue,
                          context.prerequisites.map(\.id).sorted().joined(separator: ",")])
                #expect(throws: JobqError.self) { _ = try context.result(of: "ghost", as: Int.self) }
                return SumOutput(sum: a + b)
            }
            try harness.startWorker(registry)
            var flow = Workflow("sum")
            let a = try flow.add("a", handler: "number", payload: 40)
            let b = try flow.add("b", handler: "number", payload: 2)
            try flow.add("c", handler: "total", requires: [a, b], maxAttempts: 2)
            try await harness.client.submit(flow, run: "wf-sum")
            #expect(try await harness.finished("wf-sum/c").state == .done)
            #expect(try await harness.client.result(of: "wf-sum/c", as: SumOutput.self) == SumOutput(sum: 42))
            // context.result(of: "a") named the prerequisite by its key within the run
            #expect(seen.current == ["wf-sum/c", "1/2", "wf-sum", "default", "wf-sum/a,wf-sum/b"])
        }
    }

    @Test func progressAndLogLinesAreStoredWithTheTask() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("report") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                context.progress(percent: 50, status: "half")
                context.progress(["download", "a.zip"], current: 3, total: 10, status: "3 of 10")
                context.logger.info("downloading", metadata: ["file": "a.zip"])
                context.log("plain line")
                context.progress(["download", "a.zip"], current: 10, total: 10, status: "done")
                return 1
            }
            try harness.startWorker(registry)
            let submitted = try await harness.client.submit("report")
            #expect(try await harness.finished(submitted.id).state == .done)
            let progress = try await harness.coordinator.tasks.progress(of: submitted.id)
            #expect(progress == [
                ProgressEntry(group: [], current: 50, total: 100, status: "half"),
                ProgressEntry(group: ["download", "a.zip"], current: 10, total: 10, status: "done"),
            ])
            let logs = try await harness.coordinator.tasks.logs(of: submitted.id)
            #expect(logs == ["info: downloading file=a.zip", "plain line"])
        }
    }

    @Test func cancellingARunningTaskCancelsItsHandler() async throws {
        try await withHarness { harness in
            let started = Gate()
            let sawCancellation = Box<StopReason?>(nil)
            var registry = HandlerRegistry()
            registry.register("wait") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                started.open()
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch is CancellationError {
                    sawCancellation.set(context.stopReason)
                    throw CancellationError()
                }
                return 0
            }
            try harness.startWorker(registry)
            let submitted = try await harness.client.submit("wait")
            try await started.wait()
            #expect(try await harness.client.cancel(submitted.id) == .requested)
            let info = try await harness.finished(submitted.id)
            #expect(info.state == .cancelled)
            #expect(info.reason == "cancelled")
            #expect(sawCancellation.current == .cancelled)
        }
    }

    /// The cancel script tells the worker through its control list: the handler stops long
    /// before the next heartbeat (20 s here) would have told it.
    @Test func cancellationReachesTheHandlerBeforeTheNextHeartbeat() async throws {
        try await withHarness { harness in
            let started = Gate()
            var registry = HandlerRegistry()
            registry.register("wait") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                started.open()
                try await Task.sleep(for: .seconds(60))
                return 0
            }
            try harness.startWorker(registry) { configuration in
                configuration.lease = .seconds(90)
                configuration.heartbeat = .seconds(20)
            }
            let submitted = try await harness.client.submit("wait")
            try await started.wait()
            #expect(try await harness.client.cancel(submitted.id) == .requested)
            let info = try await harness.client.wait(for: submitted.id, timeout: .seconds(10))
            #expect(info.state == .cancelled)
        }
    }

    @Test func aTimedOutHandlerIsCancelledAndTheTaskRetried() async throws {
        try await withHarness { harness in
            let cancelledAttempts = Box<[Int]>([])
            var registry = HandlerRegistry()
            registry.register("slow-once") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                if context.attempt == 1 {
                    do {
                        try await Task.sleep(for: .seconds(60))
                    } catch {
                        cancelledAttempts.update { $0.append(context.attempt) }
                        throw error
                    }
                }
                return context.attempt
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "slow-once", timeout: .milliseconds(200)))
            let info = try await harness.finished("t")
            #expect(info.state == .done)
            #expect(info.attempts == 2)
            #expect(cancelledAttempts.current == [1])
            #expect(try await harness.client.result(of: "t", as: Int.self) == 2)
        }
    }

    @Test func aTimeoutOnTheLastAttemptFailsTheTask() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("stuck") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                try await Task.sleep(for: .seconds(60))
                return 0
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "stuck", maxAttempts: 1, timeout: .milliseconds(200)))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.reason == "timeout")
            #expect(info.error?.contains("timed out") == true)
        }
    }

    @Test func aHandlerThatIgnoresCancellationStillGetsItsOutcomeRecorded() async throws {
        try await withHarness { harness in
            let release = Gate()
            var registry = HandlerRegistry()
            registry.register("deaf") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                try await release.wait(timeout: .seconds(30))  // ignores cancellation
                return 0
            }
            let running = try harness.startWorker(registry) { $0.stopTimeout = .milliseconds(100) }
            try await harness.client.submit(task("t", handler: "deaf", maxAttempts: 1, timeout: .milliseconds(100)))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.reason == "timeout")
            #expect(running.worker.busySlots == 1)  // the slot stays taken until the handler returns
            release.open()
        }
    }

    @Test func unknownHandlerFailsTheTaskWithoutRetry() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("known") { (_: JSONNull, _: HandlerContext) async throws -> Int in 1 }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "nobody-has-this", maxAttempts: 5))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.reason == "unknown_handler")
            #expect(info.attempts == 1)
            #expect(info.error?.contains("nobody-has-this") == true)
        }
    }

    @Test func aPayloadThatDoesNotDecodeFailsTheTaskWithoutRetry() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("add") { (input: AddInput, _: HandlerContext) async throws -> SumOutput in SumOutput(sum: input.a + input.b) }
            try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "add", payload: #"{"a": "two", "b": 3}"#, maxAttempts: 5))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.reason == "bad_payload")
            #expect(info.attempts == 1)
            #expect(info.error?.contains("AddInput") == true)
        }
    }

    @Test func aThrowingHandlerIsRetriedWithBackoffUntilAttemptsRunOut() async throws {
        struct Boom: Error {}
        try await withHarness { harness in
            let attempts = Box<[Int]>([])
            var registry = HandlerRegistry()
            registry.register("boom") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                attempts.update { $0.append(context.attempt) }
                throw Boom()
            }
            try harness.startWorker(registry)
            // A real delay: the retry waits in the delayed set until promoted.
            try await harness.client.submit(task("t", handler: "boom", maxAttempts: 3, backoff: .fixed(delay: .milliseconds(50))))
            let info = try await harness.finished("t")
            #expect(info.state == .failed)
            #expect(info.reason == "error")
            #expect(info.attempts == 3)
            #expect(info.error?.contains("Boom") == true)
            #expect(attempts.current == [1, 2, 3])
        }
    }

    @Test func handlerErrorsSkipRetryLaterOrFailForGood() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("skip") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                throw HandlerError.skip("nothing to do", result: ["kept": true])
            }
            registry.register("permanent") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                throw HandlerError.permanent("the input is wrong", reason: "invalid_input")
            }
            registry.register("later") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                if context.attempt == 1 { throw HandlerError.retry("not yet", after: .milliseconds(10), reason: "not_ready") }
                return context.attempt
            }
            try harness.startWorker(registry)
            try await harness.client.submit(task("s", handler: "skip"))
            try await harness.client.submit(task("p", handler: "permanent", maxAttempts: 5))
            try await harness.client.submit(task("l", handler: "later", backoff: .fixed(delay: .seconds(3600))))
            let skipped = try await harness.finished("s")
            #expect(skipped.state == .skipped)
            #expect(skipped.skipped)
            #expect(try await harness.client.result(of: "s", as: [String: Bool].self) == ["kept": true])
            let permanent = try await harness.finished("p")
            #expect(permanent.state == .failed)
            #expect(permanent.reason == "invalid_input")
            #expect(permanent.attempts == 1)
            let later = try await harness.finished("l")
            #expect(later.state == .done)
            #expect(later.attempts == 2)
        }
    }

    @Test func manyTasksAreClaimedInBatchesAndAllComplete() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("noop", raw: { _, _ in [] })
            try harness.startWorker(registry) { $0.concurrency = 32 }
            let specs = (0..<500).map { task("n\($0)", handler: "noop") }
            _ = try await harness.coordinator.tasks.submit(specs + [task("last", handler: "noop", after: specs.compactMap(\.id))])
            #expect(try await harness.finished("last", timeout: .seconds(30)).state == .done)
            let stats = try await harness.coordinator.inspector.stats()
            #expect(stats["done"] == 501)
            #expect(stats["claimed"] == 501)
        }
    }

    @Test func gracefulShutdownLetsRunningTasksFinish() async throws {
        try await withHarness { harness in
            let started = Gate()
            var registry = HandlerRegistry()
            registry.register("brief") { (_: JSONNull, _: HandlerContext) async throws -> String in
                started.open()
                try await Task.sleep(for: .milliseconds(300))
                return "finished"
            }
            let running = try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "brief"))
            try await started.wait()
            try await running.shutdown()
            let info = try await harness.coordinator.tasks.task("t")
            #expect(info?.state == .done)
            #expect(try await harness.client.result(of: "t", as: String.self) == "finished")
        }
    }

    @Test func gracefulShutdownHandsBackTasksPastTheGraceWithoutChargingAnAttempt() async throws {
        try await withHarness { harness in
            let started = Gate()
            let stopReason = Box<StopReason?>(nil)
            var registry = HandlerRegistry()
            registry.register("long") { (_: JSONNull, context: HandlerContext) async throws -> Int in
                started.open()
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    stopReason.set(context.stopReason)
                    throw error
                }
                return 0
            }
            let first = try harness.startWorker(registry) { $0.shutdownGrace = .milliseconds(100) }
            try await harness.client.submit(task("t", handler: "long", maxAttempts: 1))
            try await started.wait()
            try await first.shutdown()
            let info = try #require(try await harness.coordinator.tasks.task("t"))
            #expect(info.state == .pending)
            #expect(info.attempts == 0)
            #expect(stopReason.current == .shutdown)
            #expect(try await harness.coordinator.inspector.workers().map(\.id).contains(first.worker.id) == false)

            // Another worker runs it as its first (and only) attempt.
            var quick = HandlerRegistry()
            quick.register("long") { (_: JSONNull, context: HandlerContext) async throws -> Int in context.attempt }
            try harness.startWorker(quick)
            #expect(try await harness.finished("t").state == .done)
            #expect(try await harness.client.result(of: "t", as: Int.self) == 1)
        }
    }

    @Test func cancellingRunHandsBackAtOnce() async throws {
        try await withHarness { harness in
            let started = Gate()
            var registry = HandlerRegistry()
            registry.register("long") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                started.open()
                try await Task.sleep(for: .seconds(60))
                return 0
            }
            let running = try harness.startWorker(registry) { $0.shutdownGrace = .seconds(60) }
            try await harness.client.submit(task("t", handler: "long"))
            try await started.wait()
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                running.task.cancel()
                try await running.task.value
            }
            #expect(elapsed < .seconds(30))  // did not wait for the 60 s grace
            let info = try #require(try await harness.coordinator.tasks.task("t"))
            #expect(info.state == .pending)
            #expect(info.attempts == 0)
        }
    }

    @Test func workerRegistersWhileRunningAndUnregistersOnExit() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("noop", raw: { _, _ in [] })
            let running = try harness.startWorker(registry) { $0.queues = ["q1", "q2"]; $0.concurrency = 3 }
            // Registration happens before the first claim; a task done proves the worker is up.
            try await harness.client.submit(task("t", handler: "noop", queue: "q2"))
            #expect(try await harness.finished("t").state == .done)
            let listed = try await harness.coordinator.inspector.workers().first { $0.id == running.worker.id }
            #expect(listed?.queues == ["q1", "q2"])
            #expect(listed?.concurrency == 3)
            #expect(listed?.pid == Int(ProcessInfo.processInfo.processIdentifier))
            try await running.shutdown()
            #expect(try await harness.coordinator.inspector.workers().contains { $0.id == running.worker.id } == false)
        }
    }

    /// A worker registers when each running task passes its timeout, on Redis's clock: the
    /// record's `started` plus the timeout (what `jobq workers` flags overdue tasks from).
    @Test func workerRegistersTheTimeoutDeadlineOfEachRunningTask() async throws {
        try await withHarness { harness in
            let release = Gate()
            var registry = HandlerRegistry()
            registry.register("hold") { (_: JSONNull, _: HandlerContext) async throws -> Int in
                try await release.wait(timeout: .seconds(30))
                return 0
            }
            let running = try harness.startWorker(registry)
            try await harness.client.submit(task("t", handler: "hold", timeout: .seconds(600)))
            try await harness.awaitTransition("t", to: .running)
            var listed: WorkerInfo?
            for _ in 0..<50 {
                listed = try await harness.coordinator.inspector.workers().first { $0.id == running.worker.id }
                if listed?.running == ["t"] { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let started = try #require(try await harness.coordinator.tasks.task("t")?.started)
            #expect(listed?.running == ["t"])
            #expect(listed?.deadlines == ["t": started + 600_000], "\(String(describing: listed)) started \(started)")
            #expect(listed?.overdue == [])
            release.open()
            #expect(try await harness.finished("t").state == .done)
        }
    }

    @Test func expiredLeasesOfADeadWorkerAreReapedAndTheTaskRunsAgain() async throws {
        try await withHarness { harness in
            try await harness.client.submit(task("t", handler: "work"))
            // A "worker" that claims and dies: it never heartbeats.
            let claimed = try await harness.coordinator.leases.claim(queues: ["default"], count: 1, lease: .seconds(1), worker: "ghost")
            #expect(claimed.map(\.id) == ["t"])
            var registry = HandlerRegistry()
            registry.register("work") { (_: JSONNull, context: HandlerContext) async throws -> Int in context.workerDeaths }
            try harness.startWorker(registry)
            let info = try await harness.finished("t")
            #expect(info.state == .done)
            #expect(info.attempts == 1, "a death beside nothing proven is not charged")
            #expect(try await harness.client.result(of: "t", as: Int.self) == 1)
        }
    }

    /// A failed root with 3,000 dependents is more than one script call's budget: the worker
    /// continues the cascade itself, at once, so the dependents end without waiting for a
    /// maintenance pass (set to an hour here, so none runs).
    @Test func aLargeCascadeIsSettledByTheWorkerAtOnce() async throws {
        try await withHarness { harness in
            let dependents = (0..<3_000).map { task("d\($0)", handler: "noop", after: ["root"]) }
            try await harness.client.submit([task("root", handler: "broken", maxAttempts: 1)] + dependents)
            var registry = HandlerRegistry()
            registry.register("broken", raw: { _, _ in throw HandlerError.permanent("no") })
            registry.register("noop", raw: { _, _ in Array("null".utf8) })
            try harness.startWorker(registry) { $0.maintenanceInterval = .seconds(3600) }
            _ = try await harness.finished("root")
            let ids = dependents.compactMap(\.id)
            let deadline = ContinuousClock.now + .seconds(10)
            var states = try await harness.client.states(of: ids)
            while states.contains(where: { $0 != .cancelled }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                states = try await harness.client.states(of: ids)
            }
            #expect(states.allSatisfy { $0 == .cancelled }, "\(states.filter { $0 != .cancelled }.count) dependents not settled")
        }
    }

    @Test func drainModeReturnsOnceNothingIsLeft() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register("noop", raw: { _, _ in [] })
            var flow = Workflow("chain")
            var previous: [Workflow.TaskRef] = []
            for index in 0..<5 {
                previous = [try flow.add("s\(index)", handler: "noop", requires: previous)]
            }
            try await harness.client.submit(flow, run: "chain")
            let running = try harness.startWorker(registry) { $0.exitWhenDrained = true }
            try await running.task.value
            #expect(try await harness.client.summary(workflow: "chain").succeeded)
        }
    }

    @Test func invalidConfigurationIsRejectedUpFront() throws {
        let server = RedisConfiguration(endpoint: .unix(path: "/nonexistent"))
        let coordinator = try Coordinator(redis: RedisClient(configuration: server), namespace: "x")
        var configuration = WorkerConfiguration(queues: ["default"], concurrency: 1)
        configuration.lease = .seconds(3)
        configuration.heartbeat = .seconds(2)
        let error = #expect(throws: JobqError.self) {
            _ = try Worker(store: coordinator, registry: HandlerRegistry(), configuration: configuration)
        }
        #expect(error?.code == .invalidOption)
        #expect(error?.message.contains("lease/3") == true)

        var badName = HandlerRegistry()
        badName.register("has space", raw: { _, _ in [] })
        #expect(throws: JobqError.self) {
            _ = try Worker(store: coordinator, registry: badName, configuration: WorkerConfiguration(queues: ["default"], concurrency: 1))
        }
        #expect(throws: JobqError.self) {
            _ = try Worker(store: coordinator, registry: HandlerRegistry(), configuration: WorkerConfiguration(queues: ["a:b"], concurrency: 1))
        }
    }
}

@Suite("Worker: Redis outages", .enabled(if: redisAvailable))
struct WorkerOutageTests {
    @Test func theWorkerKeepsGoingWhenRedisRestarts() async throws {
        try await withRedisServer(extraConfig: ["appendonly yes", "appendfsync always"]) { server in
            let harness = try Harness(server: server)
            do {
                var registry = HandlerRegistry()
                registry.register("echo", raw: { payload, _ in payload })
                try harness.startWorker(registry)
                try await harness.client.submit(task("before", handler: "echo", payload: "1"))
                #expect(try await harness.finished("before").state == .done)
                try await server.restart()
                try await harness.client.submit(task("after", handler: "echo", payload: "2"))
                #expect(try await harness.finished("after", timeout: .seconds(20)).state == .done)
                #expect(try await harness.client.result(of: "after", as: Int.self) == 2)
            } catch {
                await harness.close()
                throw error
            }
            await harness.close()
        }
    }
}
