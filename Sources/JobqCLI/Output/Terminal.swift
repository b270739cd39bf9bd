import Foundation
import JobqCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the CLI knows about where its output goes: a terminal or not, colours, width.
struct Terminal: Sendable {
    /// stdout is a terminal.
    let isTTY: Bool
    /// ANSI colours are wanted: stdout is a terminal, `NO_COLOR` is unset and `TERM` is not `dumb`.
    let colors: Bool
    /// Columns available (80 when unknown).
    let width: Int
    /// Rows available (24 when unknown).
    let height: Int

    static let current: Terminal = {
        let environment = ProcessInfo.processInfo.environment
        let tty = isatty(STDOUT_FILENO) == 1
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        var size = winsize()
        var width = 80
        var height = 24
        if tty, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            width = Int(size.ws_col)
            height = max(Int(size.ws_row), 5)
        } else if let columns = environment["COLUMNS"].flatMap(Int.init), columns >= 40 {
            width = columns
        }
        return Terminal(isTTY: tty, colors: tty && !noColor && !dumb, width: max(40, width), height: height)
    }()

    /// Whether stderr is a terminal (hints go there only then).
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    // MARK: Styling

    enum Color: String {
        case red = "31", green = "32", yellow = "33", blue = "34", magenta = "35", cyan = "36"
        case dim = "2", bold = "1"
    }

    /// `text` wrapped in an ANSI colour when colours are on.
    func paint(_ text: String, _ color: Color?) -> String {
        guard colors, let color, !text.isEmpty else { return text }
        return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
    }

    /// The colour of a state.
    static func color(of state: TaskState?) -> Color? {
        switch state {
        case .pending: .dim
        case .running: .cyan
        case .done: .green
        case .skipped: .blue
        case .failed: .red
        case .cancelled: .yellow
        case nil: .magenta
        }
    }

    func paint(state: TaskState?) -> String {
        paint(state?.rawValue ?? "UNKNOWN", Self.color(of: state))
    }
}

/// Writing to stdout and stderr with write(2), unbuffered, so the two never interleave out of order.
///
/// Why not `FileHandle.write`: it traps (a ~90-line backtrace, exit 132) when the reader has
/// gone away (`jobq list | head -1`). Here SIGPIPE is ignored and EPIPE on stdout ends the
/// process quietly with ``brokenPipeStatus`` (128 + SIGPIPE, what a shell reports for other
/// CLIs killed by SIGPIPE); errors writing stderr are dropped, there is nowhere to report them.
enum Console {
    /// The exit status when stdout's reader has closed the pipe (docs/cli.md, exit codes).
    static let brokenPipeStatus: Int32 = ExitStatus.brokenPipe.rawValue

    /// Ignores SIGPIPE once, before the first write, so a closed pipe is an EPIPE error we handle.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func out(_ text: String = "") {
        write(STDOUT_FILENO, Array((text + "\n").utf8))
    }

    /// Writes without a newline (for in-place redraws).
    static func raw(_ text: String) {
        write(STDOUT_FILENO, Array(text.utf8))
    }

    static func err(_ text: String) {
        write(STDERR_FILENO, Array((text + "\n").utf8))
    }

    /// Writes raw bytes (a stored result) and a newline.
    static func out(bytes: [UInt8]) {
        write(STDOUT_FILENO, bytes + [0x0A])
    }

    /// Writes raw bytes as they are (a rendered SVG/PNG).
    static func out(data: [UInt8]) {
        write(STDOUT_FILENO, data)
    }

    /// Ends the process as a failed write to stdout would (``brokenPipeStatus``) when stdout is
    /// a pipe whose reader has gone (`jobq events -f | head -1`), found without writing: a
    /// follower that has nothing to print for a while would otherwise notice only at its next
    /// line, and the pipeline would hang until then.
    static func endIfReaderGone() {
        var descriptor = pollfd(fd: STDOUT_FILENO, events: Int16(POLLOUT), revents: 0)
        if poll(&descriptor, 1, 0) == 1 && descriptor.revents & Int16(POLLERR | POLLHUP) != 0 { _exit(brokenPipeStatus) }
    }

    /// Writes all of `bytes` to `descriptor`, retrying short writes and EINTR.
    static func write(_ descriptor: Int32, _ bytes: [UInt8]) {
        _ = ignoreSIGPIPE
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                #if canImport(Glibc)
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                let written = Darwin.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
                if written > 0 {
                    offset += written
                    continue
                }
                if written < 0 && errno == EINTR { continue }
                // The reader of stdout is gone: nothing more we print can be read. End now, quietly
                // (_exit: no atexit handlers racing the threads still running).
                if descriptor == STDOUT_FILENO && written < 0 && errno == EPIPE { _exit(brokenPipeStatus) }
                return
            }
        }
    }
}

/// Visible width of text that may contain ANSI escape sequences.
func visibleWidth(_ text: String) -> Int {
    var width = 0
    var inEscape = false
    for scalar in text.unicodeScalars {
        if inEscape {
            if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
            continue
        }
        if scalar == "\u{1B}" {
            inEscape = true
            continue
        }
        if scalar.properties.generalCategory == .nonspacingMark { continue }
        width += 1
    }
    return width
}

/// `text` cut to `width` visible columns, with `…` when cut. Plain text only (no ANSI codes).
func truncated(_ text: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    // (Foundation's replacing only when needed: tables of 50,000 rows call this per cell.)
    let needsFlattening = text.utf8.contains { $0 == 0x0A || $0 == 0x09 }
    let flat = needsFlattening ? text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ") : text
    guard flat.count > width else { return flat }
    return String(flat.prefix(max(0, width - 1))) + "…"
}

/// `text` padded with spaces to `width` visible columns.
func padded(_ text: String, to width: Int) -> String {
    let visible = visibleWidth(text)
    return visible >= width ? text : text + String(repeating: " ", count: width - visible)
}
