import CJobqSpawn
import Foundation

/// Where one of a spawned process's standard descriptors comes from or goes to.
public enum SpawnIO: Sendable, Hashable {
    /// /dev/null.
    case null
    /// The same descriptor as this process.
    case inherit
    /// A file: read for stdin; for output, appended to (created if needed, mode 0600).
    case file(String)
    /// This descriptor (e.g. one end of a pipe), which the caller keeps and closes.
    case descriptor(Int32)
}

/// How to start a child process.
public struct SpawnOptions: Sendable {
    /// The child's whole environment; `nil` passes this process's on.
    public var environment: [String: String]?
    public var stdin: SpawnIO
    public var stdout: SpawnIO
    /// `nil`: the same as stdout.
    public var stderr: SpawnIO?
    public var workingDirectory: String?
    /// Puts the child in a process group of its own (its pid), so the whole group can be
    /// signalled: command handlers and what they start.
    public var newProcessGroup: Bool
    /// Linux: the child and everything in its process group die with this process, even when
    /// it is SIGKILLed (implies ``newProcessGroup``). The returned pid is then a small supervisor
    /// shim's, which leads the group and exits as the program did; see ``spawnProcess(_:_:_:)``.
    /// Elsewhere: the same as ``newProcessGroup``.
    public var dieWithParent: Bool

    public init(
        environment: [String: String]? = nil, stdin: SpawnIO = .null, stdout: SpawnIO = .null, stderr: SpawnIO? = nil,
        workingDirectory: String? = nil, newProcessGroup: Bool = false, dieWithParent: Bool = false
    ) {
        self.environment = environment
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.workingDirectory = workingDirectory
        self.newProcessGroup = newProcessGroup || dieWithParent
        self.dieWithParent = dieWithParent
    }
}

/// A process that could not be started.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Starts `executable` (a path) with `arguments` through `posix_spawn`.
///
/// The child gets a clean signal mask and default signal handlers — Foundation's `Process`
/// passes on the spawning thread's blocked signals, and Swift's threads block SIGTERM, so a
/// child started that way would ignore `kill -TERM` — and inherits no descriptor but its
/// stdin, stdout and stderr, so a long-lived child never holds another child's pipe open.
///
/// With ``SpawnOptions/dieWithParent`` (Linux) the child is forked instead, and supervised by a
/// shim (Sources/CJobqSpawn/supervised.c) that leads the process group, carries a parent-death
/// signal, and on this process's death SIGKILLs the group; it ignores this process's SIGTERM
/// (the program gets it), kills what the program left in the group when the program ends, and
/// exits with the program's status or dies of the same signal. An exec failure (ENOENT,
/// EACCES, …) is still thrown here, as with posix_spawn.
///
/// - Returns: the child's pid; the caller waits for it (on a thread of its own, never on
///   Swift's cooperative pool).
public func spawnProcess(_ executable: String, _ arguments: [String], _ options: SpawnOptions = SpawnOptions()) throws(SpawnError) -> pid_t {
    #if os(Linux)
    if options.dieWithParent { return try spawnSupervised(executable, arguments, options) }
    #endif
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
    if options.newProcessGroup {
        posix_spawnattr_setpgroup(&attributes, 0)
        flags |= POSIX_SPAWN_SETPGROUP
    }
    posix_spawnattr_setflags(&attributes, Int16(flags))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    func route(_ io: SpawnIO, to target: Int32) {
        switch io {
        case .null:
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
        case .inherit:
            break
        case .file(let path):
            posix_spawn_file_actions_addopen(&actions, target, path, target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND, 0o600)
        case .descriptor(let fd):
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
    }
    route(options.stdin, to: 0)
    route(options.stdout, to: 1)
    if let stderr = options.stderr {
        route(stderr, to: 2)
    } else if options.stdout != .inherit {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    if let directory = options.workingDirectory {
        jobq_spawn_file_actions_addchdir(&actions, directory)
    }
    jobq_spawn_file_actions_addclosefrom(&actions, 3)

    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?]? = options.environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp ?? [] { free(pointer) }
    }
    var pid = pid_t()
    let rc = envp.map { envp in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard rc == 0 else {
        let place = options.workingDirectory.map { " in \($0)" } ?? ""
        throw SpawnError(description: "cannot start \(executable)\(place): \(String(cString: strerror(rc)))")
    }
    return pid
}

#if os(Linux)
/// ``spawnProcess(_:_:_:)`` through the supervisor shim: the C side forks, so everything it
/// needs (argv, envp, paths) is prepared here, before the fork.
private func spawnSupervised(_ executable: String, _ arguments: [String], _ options: SpawnOptions) throws(SpawnError) -> pid_t {
    var owned: [UnsafeMutablePointer<CChar>?] = []
    defer { for pointer in owned { free(pointer) } }
    func copy(_ text: String) -> UnsafeMutablePointer<CChar>? {
        let pointer = strdup(text)
        owned.append(pointer)
        return pointer
    }
    func child(_ io: SpawnIO, _ target: Int32) -> jobq_child_fd {
        switch io {
        case .null:
            return jobq_child_fd(mode: Int32(JOBQ_FD_OPEN), fd: -1, path: UnsafePointer(copy("/dev/null")), flags: target == 0 ? O_RDONLY : O_WRONLY)
        case .inherit:
            return jobq_child_fd(mode: Int32(JOBQ_FD_INHERIT), fd: -1, path: nil, flags: 0)
        case .file(let path):
            return jobq_child_fd(mode: Int32(JOBQ_FD_OPEN), fd: -1, path: UnsafePointer(copy(path)), flags: target == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_APPEND)
        case .descriptor(let fd):
            return jobq_child_fd(mode: Int32(JOBQ_FD_DUP), fd: fd, path: nil, flags: 0)
        }
    }
    let stderr: jobq_child_fd
    if let io = options.stderr {
        stderr = child(io, 2)
    } else if options.stdout != .inherit {
        stderr = jobq_child_fd(mode: Int32(JOBQ_FD_DUP), fd: 1, path: nil, flags: 0)
    } else {
        stderr = child(.inherit, 2)
    }
    var argv = ([executable] + arguments).map { copy($0) } + [nil]
    var envp = (options.environment.map { $0.map { "\($0.key)=\($0.value)" } }
        ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }).map { copy($0) } + [nil]
    let path = copy(executable)
    let directory = options.workingDirectory.map { copy($0) }
    var pid = pid_t()
    var stage: Int32 = 0
    let rc = argv.withUnsafeMutableBufferPointer { argv in
        envp.withUnsafeMutableBufferPointer { envp in
            var request = jobq_supervised_request(
                path: UnsafePointer(path), argv: argv.baseAddress, envp: envp.baseAddress,
                stdio: (child(options.stdin, 0), child(options.stdout, 1), stderr),
                working_directory: directory.map { UnsafePointer($0) } ?? nil
            )
            return jobq_spawn_supervised(&request, &pid, &stage)
        }
    }
    guard rc == 0 else {
        let place = options.workingDirectory.map { " in \($0)" } ?? ""
        let step = switch Int(stage) {
        case Int(JOBQ_STAGE_EXEC), Int(JOBQ_STAGE_CHDIR): ""
        case Int(JOBQ_STAGE_FORK): " (forking it)"
        default: " (setting up its supervisor)"
        }
        throw SpawnError(description: "cannot start \(executable)\(place)\(step): \(String(cString: strerror(rc)))")
    }
    return pid
}
#endif

/// A descriptor that polls readable once process `pid` (a child of ours) has exited (Linux
/// pidfd), or `nil` where there is none. The caller closes it.
public func processDescriptor(_ pid: pid_t) -> Int32? {
    let fd = jobq_pidfd_open(pid)
    return fd >= 0 ? fd : nil
}

/// Exit code of a raw `waitpid` status: the exit code, or 128 + the signal that ended it.
public func exitCode(fromWaitStatus raw: Int32) -> Int32 {
    raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
}
