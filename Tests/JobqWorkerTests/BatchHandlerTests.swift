import Foundation
import Jobq
import JobqCore
@testable import JobqWorker
import Testing

/// What a batch handler saw, from its own side: the batches (task ids, in order) and what it
/// decided for each task.
final class BatchJournal: Sendable {
    private let state = Box<(batches: [[String]], decided: [String: String])>(([], [:]))

    func record(_ ids: [String], _ decisions: [String: String] = [:]) {
        state.update { state in
            state.batches.append(ids)
            state.decided.merge(decisions) { _, new in new }
        }
    }

    var batches: [[String]] { state.current.batches }
    var decided: [String: String] { state.current.decided }
}

@Suite("Batch handlers: decisions and bad input")
struct BatchDecisionTests {
    typealias Buffer = BatchBuffer<Int>

    @Test func aGroupStartsWhenFullOrWhenItsWaitIsOver() {
        var buffer = Buffer()
        let key = Buffer.GroupKey(handler: "h", key: nil)
        guard case .armTimer(let armed, let generation) = buffer.add(1, to: key, max: 3) else {
            Issue.record("the first member must arm the timer")
            return
        }
        #expect(armed == key)
        if case .none = buffer.add(2, to: key, max: 3) {} else { Issue.record("the second member joins") }
        guard case .start(let full) = buffer.add(3, to: key, max: 3) else {
            Issue.record("a full group starts")
            return
        }
        #expect(full == [1, 2, 3])
        // the timer of the group that started finds nothing; the next group has its own
        #expect(buffer.timerFired(key, generation: generation) == nil)
        guard case .armTimer(_, let next) = buffer.add(4, to: key, max: 3) else {
            Issue.record("a new group arms its own timer")
            return
        }
        #expect(next != generation)
        #expect(buffer.timerFired(key, generation: generation) == nil)
        #expect(buffer.timerFired(key, generation: next) == [4])
        #expect(buffer.waiting == 0)
    }

    @Test func keysAndHandlersAreSeparateGroupsAndAStopTakesThemAll() {
        var buffer = Buffer()
        let a = Buffer.GroupKey(handler: "h", key: "tenant-a")
        let b = Buffer.GroupKey(handler: "h", key: "tenant-b")
        let other = Buffer.GroupKey(handler: "g", key: "tenant-a")
        for (index, key) in [a, b, a, other, b, a].enumerated() { _ = buffer.add(index, to: key, max: 10) }
        let taken = Dictionary(uniqueKeysWithValues: buffer.takeAll())
        #expect(taken == [a: [0, 2, 5], b: [1, 4], other: [3]])
        #expect(buffer.waiting == 0)
    }

    @Test func aBatchIsCancelledOnlyOnceEveryTaskInItWasToldToStop() async {
        let batch = BatchHandle(members: 2)
        let handle = Task { _ = try? await Task.sleep(for: .seconds(30)) }
        batch.attach(handle)
        batch.memberStopped()
        #expect(!handle.isCancelled)
        batch.memberStopped()
        #expect(handle.isCancelled)
        // stops before the batch's task exists cancel it as soon as it is attached
        let early = BatchHandle(members: 1)
        early.memberStopped()
        let late = Task { _ = try? await Task.sleep(for: .seconds(30)) }
        early.attach(late)
        #expect(late.isCancelled)
    }

    @Test func theKeyTemplateGroupsByPayloadFieldsAndMissingFieldsShareAGroup() throws {
        let template = try BatchKeyTemplate("tenant-{payload.account.tenant}/{payload.kind}")
        #expect(template.expand(payload: Array(#"{"account":{"tenant":42},"kind":"mail"}"#.utf8)) == "tenant-42/mail")
        #expect(template.expand(payload: Array(#"{"account":{"tenant":"x"},"kind":true}"#.utf8)) == "tenant-x/true")
        #expect(template.expand(payload: Array(#"{"kind":"mail"}"#.utf8)) == nil)
        #expect(template.expand(payload: Array(#"{"account":{"tenant":[1]},"kind":"a"}"#.utf8)) == nil)
        #expect(template.expand(payload: Array("not json".utf8)) == nil)
    }

    @Test(arguments: [
        (BatchSettings(max: 0), "batch.max must be from 1 to 1000 tasks; got 0"),
        (BatchSettings(max: 1001), "batch.max must be from 1 to 1000 tasks; got 1001"),
        (BatchSettings(max: 10, wait: .milliseconds(-1)), "batch.wait must be from 0s to 1m"),
        (BatchSettings(max: 10, wait: .seconds(61)), "batch.wait must be from 0s to 1m"),
        (BatchSettings(max: 10, key: "{tenant}"), "unknown placeholder {tenant}"),
        (BatchSettings(max: 10, key: "tenant-{payload.t"), "`{` is not closed"),
        (BatchSettings(max: 10, key: "everything"), "names no payload field"),
    ])
    func badSettingsAreRefusedNamingTheSetting(settings: BatchSettings, message: String) {
        #expect(throws: JobqError.self) { try settings.validate(handler: "mail") }
        do {
            try settings.validate(handler: "mail")
        } catch {
            #expect(error.code == .invalidOption)
            #expect(error.message.contains("handler mail: batch."), "\(error.message)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func goodSettingsPass() throws {
        try BatchSettings(max: 1, wait: .zero).validate(handler: "h")
        try BatchSettings(max: 1000, wait: .seconds(60), key: "t-{payload.t}").validate(handler: "h")
    }

    @Test func batchCommandsRefusePerTaskPlaceholdersAndExitCodes() {
        var perTask = CommandHandlerConfiguration(command: ["/bin/run", "{task_id}"])
        perTask.batch = BatchSettings(max: 10)
        #expect(throws: JobqError.self) { try perTask.validate(name: "h") }
        var exitCodes = CommandHandlerConfiguration(command: ["/bin/run", "{handler}"])
        exitCodes.batch = BatchSettings(max: 10)
        exitCodes.finalExitCodes = [2]
        #expect(throws: JobqError.self) { try exitCodes.validate(name: "h") }
        exitCodes.finalExitCodes = []
        #expect(throws: Never.self) { try exitCodes.validate(name: "h") }
    }

    @Test func outcomeLinesOfTheCommandProtocol() throws {
        func parse(_ line: String) -> (String, BatchOutcome<[UInt8]>)? { CommandBatchRunner.outcome(Array(line.utf8)) }
        guard case ("a", .done(let result))? = parse(#"{"id":"a","ok":true,"result":{"n":1}}"#) else { Issue.record("ok line"); return }
        #expect(String(decoding: result, as: UTF8.self) == #"{"n":1}"#)
        guard case ("b", .done(let null))? = parse(#"{"id":"b","ok":true}"#) else { Issue.record("ok without result"); return }
        #expect(String(decoding: null, as: UTF8.self) == "null")
        guard case ("c", .failed(let permanent as HandlerError))? = parse(#"{"id":"c","error":"bad address","retry":false,"reason":"bad_address"}"#) else { Issue.record("final error"); return }
        #expect(permanent.kind == .permanent && permanent.reason == "bad_address" && permanent.message == "bad address")
        guard case ("d", .failed(let retry as HandlerError))? = parse(#"{"id":"d","error":"busy","retry_after":"30s"}"#) else { Issue.record("retry"); return }
        #expect(retry.kind == .retry && retry.retryAfter == .seconds(30))
        guard case ("e", .failed(let snooze as HandlerError))? = parse(#"{"id":"e","snooze":"5m"}"#) else { Issue.record("snooze"); return }
        #expect(snooze.kind == .snooze && snooze.snoozeFor == .seconds(300))
        guard case ("f", .failed(let skip as HandlerError))? = parse(#"{"id":"f","skip":true}"#) else { Issue.record("skip"); return }
        #expect(skip.kind == .skip)
        #expect(parse("not json") == nil)
        #expect(parse(#"{"ok":true}"#) == nil)
        #expect(parse(#"{"id":"g"}"#) == nil)
    }
}

@Suite("Batch handlers", .enabled(if: redisAvailable))
struct BatchHandlerTests {
    /// Under a backlog a batch fills to `max`; the rest starts after `wait` with fewer.
    @Test func batchesFillToMaxUnderABacklogAndTheRestStartsAfterTheWait() async throws {
        try await withHarness { harness in
            let journal = BatchJournal()
            var registry = HandlerRegistry()
            registry.register(batch: "sum", max: 10, wait: .seconds(1)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in
                journal.record(items.map(\.id))
                return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done($0.input * 2)) })
            }
            _ = try await harness.coordinator.tasks.submit((0..<25).map { task("t\($0)", handler: "sum", payload: "\($0)") })
            let started = ContinuousClock.now
            try harness.startWorker(registry) { $0.concurrency = 10 }
            for index in 0..<25 {
                #expect(try await harness.finished("t\(index)").state == .done)
                #expect(try await harness.client.result(of: "t\(index)", as: Int.self) == index * 2)
            }
            let sizes = journal.batches.map(\.count)
            #expect(sizes.sorted(by: >) == [10, 10, 5], "\(sizes)")
            #expect(Set(journal.batches.joined()).count == 25 && journal.batches.joined().count == 25)
            // the last, short batch waited for more before it started
            #expect(ContinuousClock.now - started >= .seconds(1))
        }
    }

    /// Every task gets what the handler decided for it, from the handler's own record: done,
    /// failed for good, retried, or left out (`batch_no_outcome`).
    @Test func perTaskOutcomesLandOnTheirOwnTasks() async throws {
        try await withHarness { harness in
            let journal = BatchJournal()
            var registry = HandlerRegistry()
            registry.register(batch: "mixed", max: 50, wait: .milliseconds(200)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<String>] in
                var outcomes: [String: BatchOutcome<String>] = [:]
                var decided: [String: String] = [:]
                for item in items {
                    switch item.input % 3 {
                    case 0:
                        outcomes[item.id] = .done("r\(item.input)")
                        decided[item.id] = "done r\(item.input)"
                    case 1:
                        outcomes[item.id] = .failed(HandlerError.permanent("no \(item.input)", reason: "refused"))
                        decided[item.id] = "refused"
                    default:
                        decided[item.id] = "left out"
                    }
                }
                journal.record(items.map(\.id), decided)
                return outcomes
            }
            registry.register(batch: "strings", max: 5, wait: .milliseconds(50)) { (items: [BatchItem<String>]) async throws -> [String: BatchOutcome<String>] in
                Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done($0.input)) })
            }
            _ = try await harness.coordinator.tasks.submit((0..<30).map { task("m\($0)", handler: "mixed", payload: "\($0)", maxAttempts: 1) })
            // one bad payload among good ones: only it fails (bad_payload), the others run
            _ = try await harness.coordinator.tasks.submit([task("s1", handler: "strings", payload: #""x""#), task("s2", handler: "strings", payload: "7", maxAttempts: 1)])
            try harness.startWorker(registry) { $0.concurrency = 40 }
            for index in 0..<30 {
                let info = try await harness.finished("m\(index)")
                switch journal.decided["m\(index)"] {
                case "done r\(index)":
                    #expect(info.state == .done)
                    #expect(String(decoding: info.result ?? [], as: UTF8.self) == "\"r\(index)\"")
                case "refused":
                    #expect(info.state == .failed && info.reason == "refused" && info.error == "no \(index)", "\(info)")
                case "left out":
                    #expect(info.state == .failed && info.reason == "batch_no_outcome", "\(info)")
                default:
                    Issue.record("m\(index) is missing from the handler's journal")
                }
            }
            #expect(try await harness.finished("s1").state == .done)
            let bad = try await harness.finished("s2")
            #expect(bad.state == .failed && bad.reason == "bad_payload", "\(bad)")
        }
    }

    @Test func aWorkerWithBadBatchSettingsIsNotCreated() async throws {
        try await withHarness { harness in
            var registry = HandlerRegistry()
            registry.register(batch: "zero", max: 0) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in [:] }
            do {
                try harness.startWorker(registry)
                Issue.record("a batch max of 0 was accepted")
            } catch let error as JobqError {
                #expect(error.code == .invalidOption && error.message.contains("handler zero: batch.max"), "\(error)")
            }
        }
    }

    /// Two workers share a backlog: every task runs once, in exactly one batch, and no batch
    /// exceeds `max` or the worker's slots.
    @Test func twoWorkersShareABacklogInBatches() async throws {
        try await withHarness { harness in
            let journal = BatchJournal()
            var registry = HandlerRegistry()
            registry.register(batch: "n", max: 20, wait: .milliseconds(100)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in
                journal.record(items.map(\.id))
                try await Task.sleep(for: .milliseconds(20))
                return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done($0.input)) })
            }
            _ = try await harness.coordinator.tasks.submit((0..<300).map { task("w\($0)", handler: "n", payload: "\($0)", maxAttempts: 1) })
            try harness.startWorker(registry) { $0.concurrency = 16 }
            try harness.startWorker(registry) { $0.concurrency = 32 }
            for index in 0..<300 { #expect(try await harness.finished("w\(index)").state == .done) }
            let all = journal.batches.joined()
            #expect(all.count == 300 && Set(all).count == 300, "a task ran twice or not at all")
            #expect(journal.batches.allSatisfy { $0.count <= 20 }, "\(journal.batches.map(\.count))")
            #expect(journal.batches.count < 300 / 2, "\(journal.batches.map(\.count))")
        }
    }

    @Test func aKeyKeepsTenantsApart() async throws {
        try await withHarness { harness in
            let journal = BatchJournal()
            let tenants = Box<[String: String]>([:])
            var registry = HandlerRegistry()
            struct Mail: Codable, Sendable { var tenant: String? }
            registry.register(batch: "mail", max: 100, wait: .milliseconds(300), key: "t-{payload.tenant}") { (items: [BatchItem<Mail>]) async throws -> [String: BatchOutcome<Int>] in
                journal.record(items.map(\.id))
                tenants.update { map in for item in items { map[item.id] = item.input.tenant ?? "none" } }
                return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done(items.count)) })
            }
            var specs: [TaskSpec] = []
            for index in 0..<30 {
                let tenant = ["a", "b", "c"][index % 3]
                specs.append(task("k\(index)", handler: "mail", payload: #"{"tenant":"\#(tenant)"}"#))
            }
            specs.append(task("lost1", handler: "mail", payload: "{}"))
            specs.append(task("lost2", handler: "mail", payload: #"{"other":1}"#))
            _ = try await harness.coordinator.tasks.submit(specs)
            try harness.startWorker(registry) { $0.concurrency = 64 }
            for spec in specs { #expect(try await harness.finished(spec.id ?? "").state == .done) }
            let seen = tenants.current
            for batch in journal.batches {
                #expect(Set(batch.map { seen[$0] ?? "?" }).count == 1, "a batch mixes keys: \(batch.map { seen[$0] ?? "?" })")
            }
            // tasks were grouped (not one call per task), every task in exactly one batch
            #expect(journal.batches.contains { $0.count > 1 }, "\(journal.batches)")
            #expect(journal.batches.joined().count == specs.count && Set(journal.batches.joined()).count == specs.count)
            #expect(Set(journal.batches.filter { $0.contains("lost1") }.joined()).isSubset(of: ["lost1", "lost2"]))
        }
    }

    /// Cancelling one task of a running batch tells the handler (per-task flag); that task ends
    /// CANCELLED whatever the handler reports, the others keep their outcomes.
    @Test func cancellingOneTaskOfABatchStopsOnlyThatTask() async throws {
        try await withHarness { harness in
            let started = Gate()
            let sawStop = Box<[String]>([])
            var registry = HandlerRegistry()
            registry.register(batch: "slow", max: 3, wait: .seconds(5)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in
                started.open()
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline, !items.contains(where: \.isStopRequested) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                sawStop.set(items.filter(\.isStopRequested).map(\.id))
                return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done($0.input)) })
            }
            _ = try await harness.coordinator.tasks.submit((0..<3).map { task("c\($0)", handler: "slow", payload: "\($0)") })
            try harness.startWorker(registry)
            try await started.wait()
            _ = try await harness.client.cancel("c1")
            #expect(try await harness.finished("c1").state == .cancelled)
            #expect(try await harness.finished("c0").state == .done)
            #expect(try await harness.finished("c2").state == .done)
            #expect(sawStop.current == ["c1"])
        }
    }
}

@Suite("Batch handlers: timeouts", .enabled(if: redisAvailable))
struct BatchTimeoutTests {
    /// A task whose own timeout passes while its batch runs fails `timeout`; its batch-mates,
    /// with longer timeouts, keep what the handler reported; the batch is not cancelled.
    @Test func aTimeoutStopsOnlyItsOwnTaskOfABatch() async throws {
        try await withHarness { harness in
            let cancelled = Box(false)
            var registry = HandlerRegistry()
            registry.register(batch: "slow", max: 3, wait: .seconds(5)) { (items: [BatchItem<Int>]) async throws -> [String: BatchOutcome<Int>] in
                do {
                    try await Task.sleep(for: .milliseconds(1500))
                } catch {
                    cancelled.set(true)
                }
                return Dictionary(uniqueKeysWithValues: items.map { ($0.id, .done($0.input)) })
            }
            _ = try await harness.coordinator.tasks.submit([
                task("short", handler: "slow", payload: "0", maxAttempts: 1, timeout: .milliseconds(300)),
                task("long1", handler: "slow", payload: "1", maxAttempts: 1),
                task("long2", handler: "slow", payload: "2", maxAttempts: 1),
            ])
            try harness.startWorker(registry)
            let short = try await harness.finished("short")
            #expect(short.state == .failed && short.reason == "timeout", "\(short)")
            #expect(try await harness.client.result(of: "long1", as: Int.self) == 1)
            #expect(try await harness.client.result(of: "long2", as: Int.self) == 2)
            #expect(!cancelled.current)
        }
    }
}

/// A batch command in Python: reads the tasks from stdin, appends "pid id attempt" to a journal,
/// answers one line per task. Tenant "crash" makes it answer for its first task only and die.
let batchScript = #"""
import json, os, sys
journal = open(sys.argv[1], "a")
tasks = [json.loads(line) for line in sys.stdin if line.strip()]
for i, t in enumerate(tasks):
    journal.write("%d %s %d %d\n" % (os.getpid(), t["id"], t["attempt"], len(tasks)))
    journal.flush()
    p = t["payload"]
    if p.get("tenant") == "crash" and t["attempt"] == 1 and i > 0:
        os._exit(3)
    if p.get("n", 0) < 0:
        print(json.dumps({"id": t["id"], "error": "negative", "retry": False, "reason": "negative"}), flush=True)
    else:
        print(json.dumps({"id": t["id"], "ok": True, "result": {"double": p.get("n", 0) * 2}}), flush=True)
"""#

struct JournalLine: Hashable {
    var pid: Int
    var id: String
    var attempt: Int
    var batchSize: Int
}

func readJournal(_ path: String) -> [JournalLine] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: " ")
        guard parts.count == 4, let pid = Int(parts[0]), let attempt = Int(parts[2]), let size = Int(parts[3]) else { return nil }
        return JournalLine(pid: pid, id: String(parts[1]), attempt: attempt, batchSize: size)
    }
}

@Suite("Batch command handlers", .enabled(if: redisAvailable))
struct BatchCommandHandlerTests {
    @Test func oneProcessServesABatchAndACrashFailsOnlyItsOwnTasksWithoutOutcomes() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                let script = "\(directory)/batch.py"
                let journal = "\(directory)/journal"
                try batchScript.write(toFile: script, atomically: true, encoding: .utf8)
                var configuration = CommandHandlerConfiguration(command: ["python3", script, journal])
                configuration.batch = BatchSettings(max: 20, wait: .milliseconds(300), key: "{payload.tenant}")
                var registry = HandlerRegistry()
                registry.register("py", command: configuration)
                var specs: [TaskSpec] = []
                for index in 0..<20 { specs.append(task("ok\(index)", handler: "py", payload: #"{"tenant":"good","n":\#(index)}"#)) }
                specs.append(task("neg", handler: "py", payload: #"{"tenant":"good","n":-1}"#))
                for index in 0..<4 { specs.append(task("cr\(index)", handler: "py", payload: #"{"tenant":"crash","n":\#(index)}"#)) }
                _ = try await harness.coordinator.tasks.submit(specs)
                try harness.startWorker(registry) { $0.concurrency = 32 }
                for index in 0..<20 {
                    #expect(try await harness.finished("ok\(index)").state == .done)
                    struct Doubled: Decodable { var double: Int }
                    #expect(try await harness.client.result(of: "ok\(index)", as: Doubled.self).double == index * 2)
                }
                let negative = try await harness.finished("neg")
                #expect(negative.state == .failed && negative.reason == "negative" && negative.attempts == 1, "\(negative)")
                for index in 0..<4 { #expect(try await harness.finished("cr\(index)").state == .done) }

                let lines = readJournal(journal)
                // the good tenant's 21 tasks: one process each batch, far fewer processes than tasks
                let good = lines.filter { $0.id.hasPrefix("ok") || $0.id == "neg" }
                #expect(good.count == 21 && good.allSatisfy { $0.attempt == 1 }, "\(good)")
                #expect(Set(good.map(\.pid)).count <= 2, "\(good.map(\.pid))")
                #expect(good.map(\.batchSize).max() == 20)
                // the crashing batch: its first task had its outcome (done at attempt 1); the rest
                // had none when the process died (batch_no_outcome) and ran again, in a new process
                let crashed = lines.filter { $0.id.hasPrefix("cr") }
                let firstAttempt = crashed.filter { $0.attempt == 1 }
                #expect(Set(firstAttempt.map(\.pid)).count == 1)
                #expect(Set(good.map(\.pid)).isDisjoint(with: crashed.map(\.pid)))
                let answered = firstAttempt.first!.id
                #expect(try await harness.client.status(answered).attempts == 1)
                for index in 0..<4 where "cr\(index)" != answered {
                    let info = try await harness.client.status("cr\(index)")
                    #expect(info.attempts == 2, "\(info)")
                    let history = try await harness.coordinator.tasks.attempts(of: "cr\(index)")
                    #expect(history.attempts.first?.reason == "batch_no_outcome", "\(history.attempts)")
                }
            }
        }
    }
}

@Suite("Batch command handlers in jobq-worker", .enabled(if: redisAvailable), .serialized)
struct BatchExecutableTests {
    @Test func aConfigFileBatchHandlerRunsInBatches() async throws {
        try await withTemporaryDirectory { directory in
            try await withHarness { harness in
                try batchScript.write(toFile: "\(directory)/batch.py", atomically: true, encoding: .utf8)
                let path = "\(directory)/worker.yaml"
                try """
                    worker:
                      concurrency: 16
                    handlers:
                      py:
                        command: ["python3", "\(directory)/batch.py", "\(directory)/journal"]
                        batch: {max: 16, wait: 300ms}
                    """.write(toFile: path, atomically: true, encoding: .utf8)
                _ = try await harness.coordinator.tasks.submit((0..<40).map { task("p\($0)", handler: "py", payload: #"{"n":\#($0)}"#) })
                try await withWorkerProcess(harness, ["--config", path, "--once"] + quickTimings) { process in
                    let status = try await process.exitStatus()
                    #expect(status == 0, "\(process.text)")
                }
                struct Doubled: Decodable { var double: Int }
                for index in 0..<40 { #expect(try await harness.client.result(of: "p\(index)", as: Doubled.self).double == index * 2) }
                let lines = readJournal("\(directory)/journal")
                #expect(lines.count == 40)
                #expect(Set(lines.map(\.pid)).count < 40 && lines.map(\.batchSize).max() == 16, "\(lines.map(\.batchSize))")
            }
        }
    }

    @Test(arguments: [
        ("batch: {max: 0}", "worker.yaml:3: handler py: batch.max must be from 1 to 1000 tasks; got 0"),
        ("batch: {max: 5000}", "batch.max must be from 1 to 1000 tasks; got 5000"),
        ("batch: {max: 10, wait: -1s}", "handlers.py.batch.wait: \"-1s\" is not a duration"),
        ("batch: {max: 10, wait: soon}", "handlers.py.batch.wait: \"soon\" is not a duration"),
        ("batch: {max: 10, wait: 2m}", "batch.wait must be from 0s to 1m"),
        ("batch: {max: 10, size: 3}", "handlers.py.batch: unknown setting `size`"),
        ("batch: {wait: 1s}", "handlers.py.batch: `max` is required"),
        ("batch: {max: ten}", "handlers.py.batch.max must be a whole number"),
        ("batch: {max: 10, key: \"{tenant}\"}", "batch.key {tenant}: unknown placeholder"),
        ("batch: 10", "handlers.py.batch must be a mapping"),
    ])
    func badBatchSettingsExit64NamingTheSetting(setting: String, message: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = "\(directory)/worker.yaml"
            try "handlers:\n  py:\n    command: [\"python3\", \"x.py\"]\n    \(setting)\n".write(toFile: path, atomically: true, encoding: .utf8)
            let process = try WorkerProcess.start(["--config", path])
            #expect(try await process.exitStatus() == 64)
            #expect(process.text.contains(message), "expected \"\(message)\" in:\n\(process.text)")
        }
    }
}
