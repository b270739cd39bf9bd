import Foundation
import JobqSpawn
import Testing

/// `spawnProcess` with `dieWithParent` (the path command handlers use): the program runs under a
/// supervisor shim, and everything a caller sees — exit codes, deaths by signal, SIGTERM then
/// SIGKILL to the group, captured output, exec errors — is what a plain child would give.
/// (Dying with the worker itself needs a worker to kill: Tests/JobqFaultTests/OrphanHandlerTests.)
@Suite("Supervised spawn")
struct SupervisedSpawnTests {
    static func start(_ script: String, _ options: SpawnOptions = SpawnOptions(dieWithParent: true)) throws -> pid_t {
        try spawnProcess("/bin/sh", ["-c", script], options)
    }

    /// The raw `waitpid` status, waited for on a thread of its own.
    static func wait(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread {
                var raw: Int32 = 0
                while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: raw)
            }.start()
        }
    }

    static func exited(_ raw: Int32) -> Int32? { raw & 0x7F == 0 ? (raw >> 8) & 0xFF : nil }
    static func signal(_ raw: Int32) -> Int32? { raw & 0x7F != 0 && raw & 0x7F != 0x7F ? raw & 0x7F : nil }

    @Test func theExitCodeIsTheProgramsOwn() async throws {
        for code: Int32 in [0, 1, 7, 127, 255] {
            let raw = await Self.wait(try Self.start("exit \(code)"))
            #expect(Self.exited(raw) == code)
        }
    }

    @Test func aProgramKilledByASignalLooksKilledByThatSignal() async throws {
        for signal in [SIGSEGV, SIGKILL, SIGABRT, SIGUSR1] {
            let raw = await Self.wait(try Self.start("kill -\(signal) $$; sleep 5"))
            #expect(Self.signal(raw) == signal, "signal \(signal): raw status \(raw)")
        }
    }

    @Test func theProgramLeadsNothingTheShimLeadsTheGroupAndIsItsParent() async throws {
        try await withTemporaryDirectory { directory in
            let file = "\(directory)/ids"
            let pid = try Self.start("echo \"$$ $PPID $(cut -d' ' -f5 /proc/$$/stat)\" > '\(file)'")
            #expect(Self.exited(await Self.wait(pid)) == 0)
            let ids = try String(contentsOfFile: file, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
            #expect(ids.count == 3)
            #expect(ids.first != pid, "the program is not the shim")
            #expect(ids.dropFirst().first == pid, "the shim is the program's parent")
            #expect(ids.last == pid, "the program is in the shim's process group")
        }
    }

    @Test func sigtermToTheGroupReachesTheProgramNotTheShim() async throws {
        // Stopped by SIGTERM: dies of it.
        let sleeper = try Self.start("exec sleep 30")
        try await Task.sleep(for: .milliseconds(100))
        kill(-sleeper, SIGTERM)
        #expect(Self.signal(await Self.wait(sleeper)) == SIGTERM)

        // Ignoring it: the shim stays too, and the program's own exit status comes through.
        let stubborn = try Self.start("trap '' TERM; sleep 0.5; exit 3")
        try await Task.sleep(for: .milliseconds(100))
        kill(-stubborn, SIGTERM)
        #expect(Self.exited(await Self.wait(stubborn)) == 3)

        // SIGKILL after the grace: the group, shim included.
        let killed = try Self.start("trap '' TERM; sleep 30")
        try await Task.sleep(for: .milliseconds(100))
        kill(-killed, SIGTERM)
        try await Task.sleep(for: .milliseconds(100))
        kill(-killed, SIGKILL)
        #expect(Self.signal(await Self.wait(killed)) == SIGKILL)
    }

    @Test func whatTheProgramLeftInItsGroupDiesWithIt() async throws {
        try await withTemporaryDirectory { directory in
            let pid = try Self.start("sleep 30 & echo $! > '\(directory)/child'; exit 0")
            #expect(Self.exited(await Self.wait(pid)) == 0)
            let child = try await readPID("\(directory)/child")
            // Killed by the shim before it exited, not left for the caller to find.
            try await Task.sleep(for: .milliseconds(50))
            #expect(!processIsAlive(child))
        }
    }

    @Test func outputEnvironmentAndWorkingDirectoryAreSetUp() async throws {
        try await withTemporaryDirectory { directory in
            let output = "\(directory)/out"
            let options = SpawnOptions(environment: ["GREETING": "hi"], stdout: .file(output), workingDirectory: directory, dieWithParent: true)
            let pid = try Self.start(#"echo "$GREETING from $(pwd)"; echo to-stderr >&2; cat"#, options)
            #expect(Self.exited(await Self.wait(pid)) == 0)
            // stdin is /dev/null (cat ends at once); stderr follows stdout.
            let realDirectory = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
            #expect(try String(contentsOfFile: output, encoding: .utf8) == "hi from \(realDirectory)\nto-stderr\n")

            var pipeFDs: [Int32] = [-1, -1]
            #expect(pipe(&pipeFDs) == 0)
            let piped = try Self.start("echo through-the-pipe", SpawnOptions(stdout: .descriptor(pipeFDs[1]), stderr: .null, dieWithParent: true))
            close(pipeFDs[1])
            var buffer = [UInt8](repeating: 0, count: 64)
            let count = read(pipeFDs[0], &buffer, buffer.count)
            close(pipeFDs[0])
            #expect(Self.exited(await Self.wait(piped)) == 0)
            #expect(String(decoding: buffer.prefix(max(0, count)), as: UTF8.self) == "through-the-pipe\n")
        }
    }

    @Test func execFailuresAreThrownAsBefore() async throws {
        try await withTemporaryDirectory { directory in
            let notExecutable = "\(directory)/script"
            try "#!/bin/sh\necho hi\n".write(toFile: notExecutable, atomically: true, encoding: .utf8)
            let cases: [(String, SpawnOptions, [String])] = [
                ("/nonexistent/program", SpawnOptions(dieWithParent: true), ["cannot start /nonexistent/program", "No such file or directory"]),
                (notExecutable, SpawnOptions(dieWithParent: true), ["cannot start \(notExecutable)", "Permission denied"]),
                ("/bin/true", SpawnOptions(workingDirectory: "/nonexistent-dir", dieWithParent: true), ["cannot start /bin/true in /nonexistent-dir", "No such file or directory"]),
            ]
            for (program, options, expected) in cases {
                for supervised in [true, false] {
                    var options = options
                    options.dieWithParent = supervised
                    let pid: pid_t
                    do throws(SpawnError) {
                        pid = try spawnProcess(program, [], options)
                    } catch {
                        for text in expected {
                            #expect(error.description.contains(text), "supervised: \(supervised): \(error.description)")
                        }
                        continue
                    }
                    _ = await Self.wait(pid)
                    Issue.record("\(program) started (supervised: \(supervised))")
                }
            }
        }
    }
}
