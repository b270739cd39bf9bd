import Jobq
import JobqCore

/// How a batch handler takes its tasks: up to ``max`` at once, waiting up to ``wait`` after the
/// first one for the batch to fill, grouped by ``key`` (a payload template) if given.
///
/// A property of the handler, on the worker side: producers submit ordinary tasks. A batched
/// task holds one of the worker's slots from its claim on (while it waits for its batch too),
/// so `concurrency` still bounds the tasks a worker holds, and a batch never holds more tasks
/// than the worker has slots. See docs/worker.md, "Batch handlers".
public struct BatchSettings: Sendable, Hashable {
    /// Most tasks in one batch (1...``maxCap``).
    public var max: Int
    /// How long a batch waits for more tasks after its first one (0...``maxWait``); a full batch
    /// starts at once.
    public var wait: Duration
    /// A template such as `tenant-{payload.tenant}`: only tasks whose payloads expand it to the
    /// same text share a batch. Tasks whose payload lacks a named field share one group of their
    /// own (grouping is a hint to the handler, never a reason to fail a task).
    public var key: String?

    /// More tasks per batch than this is a typo (and one stdin of unbounded size).
    public static let maxCap = 1000
    /// Tasks wait for their batch while their timeout runs: a longer wait is a mistake.
    public static let maxWait: Duration = .seconds(60)

    public init(max: Int, wait: Duration = .milliseconds(200), key: String? = nil) {
        self.max = max
        self.wait = wait
        self.key = key
    }

    /// Throws `invalid_option` naming the setting (`batch.max`, `batch.wait`, `batch.key`).
    public func validate(handler name: String) throws(JobqError) {
        guard (1...Self.maxCap).contains(max) else {
            throw JobqError(.invalidOption, "handler \(name): batch.max must be from 1 to \(Self.maxCap) tasks; got \(max)", subject: name)
        }
        guard wait >= .zero, wait <= Self.maxWait else {
            throw JobqError(.invalidOption, "handler \(name): batch.wait must be from 0s to \(DurationText.format(Self.maxWait)); got \(DurationText.format(wait))", subject: name)
        }
        if let key {
            do throws(BatchKeyTemplate.Problem) {
                _ = try BatchKeyTemplate(key)
            } catch {
                throw JobqError(.invalidOption, "handler \(name): batch.key \(key): \(error.message)", subject: name)
            }
        }
    }
}

/// A batch key template, parsed once: literal text and `{payload.a.b}` placeholders.
struct BatchKeyTemplate: Sendable {
    struct Problem: Error {
        let message: String
    }

    private enum Part: Sendable {
        case literal(String)
        case field([String])
    }

    private let parts: [Part]

    init(_ template: String) throws(Problem) {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            let inner = rest[rest.index(after: open)...]
            guard let close = inner.firstIndex(of: "}") else { throw Problem(message: "`{` is not closed") }
            let name = inner[..<close]
            guard name.hasPrefix("payload."), name.count > "payload.".count else {
                throw Problem(message: "unknown placeholder {\(name)}; use {payload.FIELD} (a dotted path into the payload)")
            }
            parts.append(.field(name.split(separator: ".", omittingEmptySubsequences: false).dropFirst().map(String.init)))
            rest = inner[inner.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard parts.contains(where: { if case .field = $0 { true } else { false } }) else {
            throw Problem(message: "names no payload field; a key without {payload.FIELD} would put every task in one group (leave key out for that)")
        }
        self.parts = parts
    }

    /// The group of a task with this payload; `nil` when a field is missing or not a scalar.
    func expand(payload: [UInt8]) -> String? {
        guard let document = try? JobqCore.JSONValue.parse(payload) else { return nil }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .field(let path):
                var value = document
                for component in path {
                    guard let next = value[component] else { return nil }
                    value = next
                }
                switch value {
                case .string(let text): out += text
                case .number(let text): out += text
                case .bool(let flag): out += flag ? "true" : "false"
                case .null, .array, .object: return nil
                }
            }
        }
        return out
    }
}
