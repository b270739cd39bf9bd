/// At most one task by key: a second submit with the same expanded ``key`` gets the existing task
/// back (`created == false`) instead of a new one — while that task waits to start, until it
/// ends, or within an interval, as ``mode`` says.
///
/// Beyond idempotency keys, which replay one *identical* submission: a unique key is computed from
/// the payload (`sync-{payload.account}`), so different submissions that mean the same work
/// collapse into one. The key is a template expanded at submit time, like a concurrency key
/// (``ConcurrencyLimit``); the lock lives in Redis (`unique:<key>`, `debounce:<key>`,
/// `throttle:<key>`) and is taken and released by the scripts that create and move the task, so
/// it holds across every producer at once (docs/flow-control.md, "Uniqueness").
public struct Uniqueness: Sendable, Hashable {
    /// What a held key means, and when it frees.
    public enum Mode: Sendable, Hashable {
        /// Held while the task waits to start: freed when it is claimed (or ends without starting).
        case untilStarted
        /// Held while the task is pending or running: freed when it ends (DONE, SKIPPED, FAILED for
        /// good, CANCELLED, expired).
        case untilFinished
        /// As ``untilFinished``, but never longer than this after the submit.
        case `for`(Duration)
        /// The task waits this long after the *last* submit of its key: a submit while it still
        /// waits replaces its payload (the newest wins) and pushes its start back. Freed when
        /// the task starts. One standalone task, without prerequisites or a wait, no `delay`.
        case debounce(Duration)
        /// At most one task per interval by key: a submit inside the interval gets the task that
        /// opened it, whatever that task's state.
        case throttle(Duration)
    }

    /// The key template as written (`sync-{payload.account}`, or a literal).
    public var key: String
    public var mode: Mode

    public init(key: String, mode: Mode) {
        self.key = key
        self.mode = mode
    }

    /// The longest interval or delay a uniqueness may have (as delays: a year and a day).
    public static let maxDuration: Duration = Limits.maxRunDeadline

    /// The modes as submit.lua spells them (`UNIQUE_MODE`): `for D` is `finished` with a bound.
    package enum ScriptMode: String, Sendable, CaseIterable {
        case started, finished, debounce, throttle
    }

    /// The mode's duration, if it has one.
    public var duration: Duration? {
        switch mode {
        case .untilStarted, .untilFinished: nil
        case .for(let d), .debounce(let d), .throttle(let d): d
        }
    }

    /// The mode in words, as `jobq status` and the docs say it: `until_started`, `until_finished`,
    /// `for 10m`, `debounce 30s`, `throttle 1m`.
    public var modeText: String {
        switch mode {
        case .untilStarted: "until_started"
        case .untilFinished: "until_finished"
        case .for(let d): "for " + DurationText.format(d)
        case .debounce(let d): "debounce " + DurationText.format(d)
        case .throttle(let d): "throttle " + DurationText.format(d)
        }
    }

    /// Which lock the key names: `unique` (until started, until finished, for D share one),
    /// `debounce` or `throttle` (docs/keyspace.md).
    package var lockKind: String {
        switch scriptMode {
        case .started, .finished: "unique"
        case .debounce: "debounce"
        case .throttle: "throttle"
        }
    }

    private var scriptMode: ScriptMode {
        switch mode {
        case .untilStarted: .started
        case .untilFinished, .for: .finished
        case .debounce: .debounce
        case .throttle: .throttle
        }
    }

    /// The key for this payload (``KeyTemplate``, shared with concurrency and rate keys).
    public func expandedKey(payload: [UInt8], subject: String? = nil) throws(JobqError) -> String {
        try KeyTemplate(template: key, option: "unique_key", kind: .concurrencyKey).expand(payload: payload, subject: subject)
    }

    /// Checks the mode against the rest of `spec` and the key against its payload. Throws
    /// `invalid_option`: a duration of zero (or under a millisecond) or over a year; a debounce
    /// with prerequisites, a wait for a signal, or a delay of its own (its delay is the debounce).
    public func validate(spec: TaskSpec, subject: String? = nil) throws(JobqError) {
        if let duration = duration {
            let name = modeText.split(separator: " ").first.map(String.init) ?? "duration"
            guard duration >= .milliseconds(1), duration <= Self.maxDuration else {
                throw JobqError(.invalidOption, "unique \(name) must be from 1ms to \(DurationText.format(Self.maxDuration)); got \(DurationText.format(duration))", subject: subject)
            }
        }
        if case .debounce(let quiet) = mode {
            guard spec.prerequisites.isEmpty, spec.waitFor == nil else {
                throw JobqError(.invalidOption, "debounce applies to a task that waits for nothing but its quiet time: drop the prerequisites or the wait, or use unique_key", subject: subject)
            }
            guard spec.delay == .zero || spec.delay == quiet else {
                throw JobqError(.invalidOption, "debounce sets the task's delay (its quiet time); do not give a delay as well", subject: subject)
            }
        }
        _ = try expandedKey(payload: spec.payload, subject: subject)
    }

    /// What submit.lua takes (and the task record keeps as `unique`): `MODE MS KEY`, the key
    /// expanded.
    package func scriptArgument(payload: [UInt8]) throws(JobqError) -> String {
        "\(scriptMode.rawValue) \(duration?.jobqMilliseconds ?? 0) " + (try expandedKey(payload: payload))
    }

    /// The record's `unique` field read back: the mode (durations in ms) and the expanded key.
    package static func parseRecord(_ raw: String) -> (mode: String, key: String)? {
        let parts = raw.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count == 3, let mode = ScriptMode(rawValue: parts[0]), let ms = Int64(parts[1]) else { return nil }
        let duration = DurationText.format(milliseconds: ms)
        let text = switch mode {
        case .started: "until_started"
        case .finished: ms == 0 ? "until_finished" : "for \(duration)"
        case .debounce: "debounce \(duration)"
        case .throttle: "throttle \(duration)"
        }
        return (text, parts[2])
    }
}

/// What a submission did (``SubmitResult/outcome``); submit.lua answers it as a number
/// (`SUBMITTED`) in place of a plain "created" flag.
public enum SubmitOutcome: Int, Sendable, Hashable, CaseIterable {
    /// An idempotency key matched an earlier identical submission: its ids.
    case replayed = 0
    case created = 1
    /// A held unique key (``Uniqueness/Mode/untilStarted`` …): the task holding it.
    case deduplicated = 2
    /// A debounce key whose task still waited: that task, with the new payload and a later start.
    case debounced = 3
    /// A throttle key inside its interval: the task that opened it.
    case throttled = 4
}

extension Uniqueness {
    /// The spellings of one uniqueness in an interface (CLI options, workflow file keys), for
    /// errors that name what the user wrote.
    package struct Spelling: Sendable {
        package var key, scope, debounce, throttle: String
        package static let cli = Spelling(key: "--unique-key", scope: "--unique-for", debounce: "--debounce", throttle: "--throttle")
        package static let file = Spelling(key: "unique_key", scope: "unique_for", debounce: "debounce", throttle: "throttle")
    }

    /// One uniqueness from its four optional parts, as the CLI and workflow files take them: a key
    /// with exactly one of a scope (`until_started`, `until_finished` or a duration, `for 10m`),
    /// a debounce or a throttle duration. Throws `invalid_option` naming the part: a key without
    /// a mode (the scope is explicit: there is no default to guess), a mode without a key, two
    /// modes, an unknown scope, a duration that does not parse. `nil` when none is given.
    package static func parse(key: String?, scope: String?, debounce: String?, throttle: String?, spelling: Spelling) throws(JobqError) -> Uniqueness? {
        let given = [(spelling.scope, scope), (spelling.debounce, debounce), (spelling.throttle, throttle)].filter { $0.1 != nil }
        guard let key else {
            if let (name, _) = given.first {
                throw JobqError(.invalidOption, "\(name) needs \(spelling.key) (which submissions count as the same work, e.g. sync-{payload.account})")
            }
            return nil
        }
        guard given.count == 1, let (name, text) = given.first, let text else {
            let names = given.map(\.0).joined(separator: " and ")
            throw JobqError(.invalidOption, given.isEmpty
                ? "\(spelling.key) needs a scope: \(spelling.scope) until_started|until_finished|DURATION, \(spelling.debounce) D or \(spelling.throttle) D"
                : "\(names) are different modes of one unique key; give one")
        }
        func duration(_ text: String, _ name: String) throws(JobqError) -> Duration {
            guard let d = DurationText.parse(text) else {
                let negative = text.trimmingCharacters(in: .whitespaces).hasPrefix("-") ? " (it cannot be negative)" : ""
                throw JobqError(.invalidOption, "\(name) \"\(text)\" is not a duration\(negative): use \(DurationText.grammar)")
            }
            return d
        }
        let mode: Mode
        switch name {
        case spelling.debounce: mode = .debounce(try duration(text, name))
        case spelling.throttle: mode = .throttle(try duration(text, name))
        default:
            switch text {
            case "until_started": mode = .untilStarted
            case "until_finished": mode = .untilFinished
            default:
                let bare = text.hasPrefix("for ") ? String(text.dropFirst(4)) : text
                guard DurationText.parse(bare) != nil || bare.hasPrefix("-") else {
                    throw JobqError(.invalidOption, "\(name) \"\(text)\" is not a scope: use until_started, until_finished or a duration (10m, for 10m)")
                }
                mode = .for(try duration(bare, name))
            }
        }
        return Uniqueness(key: key, mode: mode)
    }
}
