import Foundation
import Jobq
import JobqCore
import Testing

/// Command handlers die with their worker: after a SIGKILL of `jobq-worker`, no process it
/// started (the supervisor shim, the handler, the handler's background children) is alive 1 s
/// later, so no orphan finishes a task that the reap then runs a second time.
@Suite("Orphaned command handlers", .enabled(if: redisAvailable), .serialized)
struct OrphanHandlerTests {
    /// Whether `pid` is running (a zombie is not: it waits only for its reaper).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        return processState(pid) != "Z"
    }

    /// `/proc/<pid>/stat` after the command name: state, ppid, pgrp.
    static func stat(_ pid: pid_t) -> [String]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.range(of: ")", options: .backwards) else { return nil }
        return text[close.upperBound...].split(separator: " ").map(String.init)
    }

    static func processState(_ pid: pid_t) -> String? { stat(pid)?.first }

    /// Running (non-zombie) processes in process group `group`, from /proc.
    static func runningMembers(of group: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let fields = stat(pid), fields.count > 2 else { return false }
            return fields[2] == "\(group)" && fields[0] != "Z"
        }
    }
    static func processGroup(_ pid: pid_t) -> pid_t? { stat(pid).flatMap { $0.count > 2 ? pid_t($0[2]) : nil } }

    @Test func aSigkilledWorkersCommandHandlersAndTheirChildrenDieWithIt() async throws {
        try await withFleet { fleet in
            let pidDirectory = fleet.directory + "/pids"
            try FileManager.default.createDirectory(atPath: pidDirectory, withIntermediateDirectories: true)
            // The handler forks a grandchild, writes "handler parent grandchild", and sleeps.
            let script = #"sleep 300 & g=$!; echo "$$ $PPID $g" > "$0/$JOBQ_TASK_ID.tmp"; mv "$0/$JOBQ_TASK_ID.tmp" "$0/$JOBQ_TASK_ID"; sleep 300"#
            let config = fleet.directory + "/orphans.yaml"
            try """
            handlers:
              orphan:
                command: ["/bin/sh", "-c", '\(script)', "\(pidDirectory)"]
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let worker = try fleet.startWorker(concurrency: 4, extra: ["--config", config])

            // Three long command handlers first, then a backlog the fourth slot works through.
            let victims = (0..<3).map { spec("orphan\($0)", "orphan", payload: "{}", maxAttempts: 3) }
            _ = try await fleet.coordinator.tasks.submit(victims)
            let backlog = (0..<2000).map { _ in spec(nil, "jobq.sleep", payload: #"{"seconds": 0.002}"#) }
            _ = try await fleet.coordinator.tasks.submit(backlog)

            var started: [String: [pid_t]] = [:]
            let deadline = ContinuousClock.now + .seconds(20)
            while started.count < victims.count, ContinuousClock.now < deadline {
                for victim in victims where started[victim.id!] == nil {
                    if let text = try? String(contentsOfFile: "\(pidDirectory)/\(victim.id!)", encoding: .utf8) {
                        let pids = text.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
                        if pids.count == 3 { started[victim.id!] = pids }
                    }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(started.count == victims.count, "handlers that never started: \(victims.map { $0.id! }.filter { started[$0] == nil }); log:\n\(worker.log)")
            // On failure, no test leaves its sleepers behind: the recorded pids and what else is
            // still running in their groups (looked up now, within a second of the kill).
            defer {
                for pids in started.values {
                    for pid in Set(pids + Self.runningMembers(of: pids[1])) where Self.isRunning(pid) { kill(pid, SIGKILL) }
                }
            }

            for (task, pids) in started {
                let (handler, shim, grandchild) = (pids[0], pids[1], pids[2])
                #expect(pids.allSatisfy(Self.isRunning), "\(task): not all running before the kill: \(pids)")
                // The handler runs under a shim that leads its group; the grandchild is in it.
                #expect(shim != worker.pid, "\(task): the handler's parent is the worker itself, no supervisor")
                #expect(Self.processGroup(handler) == shim && Self.processGroup(grandchild) == shim, "\(task): groups \(String(describing: Self.processGroup(handler))), \(String(describing: Self.processGroup(grandchild))) (shim \(shim))")
                #expect(Self.stat(shim).map { $0[1] } == "\(worker.pid)", "\(task): the shim's parent is not the worker")
            }
            try await fleet.awaitJournal { $0.filter { !$0.isStart }.count > 50 }
            let ended = fleet.journal().entries.filter { !$0.isStart }.count
            #expect(ended > 50, "the backlog was not being worked on when the worker was killed (\(ended) runs ended)")

            worker.send(SIGKILL)
            let killedAt = ContinuousClock.now
            _ = await worker.waitForExit(timeout: .seconds(5))
            try await Task.sleep(until: killedAt + .seconds(1))
            var survivors: [String] = []
            for (task, pids) in started.sorted(by: { $0.key < $1.key }) {
                for (role, pid) in zip(["handler", "shim", "grandchild"], pids) where Self.isRunning(pid) {
                    survivors.append("\(task) \(role) \(pid) (state \(Self.processState(pid) ?? "?"))")
                }
            }
            // Everything else in the handlers' groups too (the handler's own foreground sleep).
            for (task, pids) in started.sorted(by: { $0.key < $1.key }) {
                for pid in Self.runningMembers(of: pids[1]) where !pids.contains(pid) {
                    survivors.append("\(task) group member \(pid)")
                }
            }
            #expect(survivors.isEmpty, "alive 1 s after the worker's SIGKILL: \(survivors)")
            print("FAULT orphans: handlers=\(started.count) processes=\(started.count * 3) aliveAfter1s=\(survivors.count) backlogRunsBeforeKill=\(ended)")
        }
    }
}
