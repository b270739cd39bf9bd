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

    public init(
        environment: [String: String]? = nil, stdin: SpawnIO = .null, stdout: SpawnIO = .null, stderr: SpawnIO? = nil,
        workingDirectory: String? = nil, newProcessGroup: Bool = false
    ) {
        self.environment = environment
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.workingDirectory = workingDirectory
        self.newProcessGroup = newProcessGroup
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
/// - Returns: the child's pid; the caller waits for it (on a thread of its own, never on
///   Swift's cooperative pool).
public func spawnProcess(_ executable: String, _ arguments: [String], _ options: SpawnOptions = SpawnOptions()) throws(SpawnError) -> pid_t {
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

/// Exit code of a raw `waitpid` status: the exit code, or 128 + the signal that ended it.
public func exitCode(fromWaitStatus raw: Int32) -> Int32 {
    raw & 0x7F == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
}
