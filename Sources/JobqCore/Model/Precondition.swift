/// A task's `skip_if` / `run_if`: tests over its prerequisites' results, decided when the task
/// becomes ready (upsies' preconditions), with no code execution (docs/workflow-files.md).
///
/// Every test names a prerequisite of the task, a path into its JSON result (object keys and
/// array indexes) and an operator; all tests must hold (AND). `skip_if` skips the task when they
/// all hold, `run_if` skips it when one does not. A prerequisite without a result (none stored,
/// or JSON `null`) never matches: no test on it holds. The compiled form (``compiledJSON``) is
/// stored in the task record (field `cond`) and evaluated by the scripts (prelude.lua
/// `precondition_says_skip`), which check it again on submit; ``evaluate(results:)`` is the same
/// rule in Swift, for tests and tools.
public struct Precondition: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable {
        case skipIf = "skip_if"
        case runIf = "run_if"
    }

    /// How a test compares the value at its path. Values are JSON texts.
    public enum Operator: Sendable, Hashable {
        /// The value equals this JSON value (numbers by value, objects whatever their key order).
        case equals(String)
        /// The value exists and differs from this JSON value.
        case notEquals(String)
        /// The value equals one of these JSON values.
        case oneOf([String])
        /// `true`: the path leads to a non-null value; `false`: it does not.
        case exists(Bool)
    }

    public struct Test: Sendable, Hashable, CustomStringConvertible {
        public var prerequisite: String
        /// Object keys and array indexes (`["items", "0", "name"]`); empty: the whole result.
        public var path: [String]
        public var op: Operator

        public init(prerequisite: String, path: [String] = [], _ op: Operator) {
            self.prerequisite = prerequisite
            self.path = path
            self.op = op
        }

        /// `fetch.status = "unchanged"`, as error texts and `status` show it.
        public var description: String {
            let subject = ([prerequisite] + path).joined(separator: ".")
            return switch op {
            case .equals(let value): "\(subject) = \(value)"
            case .notEquals(let value): "\(subject) != \(value)"
            case .oneOf(let values): "\(subject) in [\(values.joined(separator: ", "))]"
            case .exists(let flag): flag ? "\(subject) exists" : "\(subject) does not exist"
            }
        }
    }

    public var mode: Mode
    public var tests: [Test]

    /// Bounds that keep evaluation cheap inside a script.
    public static let maxTests = 16
    public static let maxPathDepth = 16
    public static let maxChoices = 64

    public init(_ mode: Mode, _ tests: [Test]) {
        self.mode = mode
        self.tests = tests
    }

    /// Parses the file/JSON form of `skip_if` or `run_if` (docs/workflow-files.md): an object whose
    /// entries are tests, or a list of such objects. `prerequisites`: the task's prerequisite ids;
    /// a test must name one of them.
    public static func parse(json text: String, mode: Mode, prerequisites: [String]) throws(JobqError) -> Precondition {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch {
            throw JobqError(.invalidPrecondition, "\(mode.rawValue) is not valid JSON: \(error)")
        }
        return try parse(value, mode: mode, prerequisites: prerequisites)
    }

    package static func parse(_ value: JSONValue, mode: Mode, prerequisites: [String]) throws(JobqError) -> Precondition {
        let what = mode.rawValue
        let known = Set(prerequisites)
        var entries: [(String, JSONValue)] = []
        switch value {
        case .object(let fields): entries = fields
        case .array(let items):
            for item in items {
                guard case .object(let fields) = item else {
                    throw JobqError(.invalidPrecondition, "\(what): each entry of the list must be a mapping {task.path: value}, not \(item.rendered())")
                }
                entries += fields
            }
        default:
            throw JobqError(.invalidPrecondition, "\(what) must be a mapping {task.path: value} or a list of them, not \(value.rendered())")
        }
        var tests: [Test] = []
        for (key, test) in entries {
            let (prerequisite, path) = try split(key, known: known, what: what)
            if path.isEmpty, case .object(let nested) = test, !nested.isEmpty, operatorFields(nested) == nil {
                // The nested form {fetch: {status: unchanged}}: each entry is a path under fetch.
                for (subpath, value) in nested {
                    tests.append(Test(prerequisite: prerequisite, path: try segments(subpath, what: what, key: key), try op(value, what: what, key: key)))
                }
            } else {
                tests.append(Test(prerequisite: prerequisite, path: path, try op(test, what: what, key: key)))
            }
        }
        let precondition = Precondition(mode, tests)
        try precondition.validate(prerequisites: prerequisites)
        return precondition
    }

    /// Checks a precondition built in Swift as strictly as a parsed one.
    public func validate(prerequisites: [String]) throws(JobqError) {
        let what = mode.rawValue
        guard !tests.isEmpty else { throw JobqError(.invalidPrecondition, "\(what) has no test") }
        guard tests.count <= Self.maxTests else {
            throw JobqError(.invalidPrecondition, "\(what) has \(tests.count) tests; at most \(Self.maxTests) allowed")
        }
        let known = Set(prerequisites)
        for test in tests {
            guard known.contains(test.prerequisite) else {
                throw JobqError(.invalidPrecondition, "\(what): \(test.prerequisite) is not a prerequisite of this task; add it to `after`, or test one that is", subject: test.prerequisite)
            }
            guard test.path.count <= Self.maxPathDepth, test.path.allSatisfy({ !$0.isEmpty && !$0.contains(".") }) else {
                throw JobqError(.invalidPrecondition, "\(what): path of \(test) must have at most \(Self.maxPathDepth) non-empty parts")
            }
            let values: [String] = switch test.op {
            case .equals(let value), .notEquals(let value): [value]
            case .oneOf(let values): values
            case .exists: []
            }
            if case .oneOf(let values) = test.op, values.isEmpty || values.count > Self.maxChoices {
                throw JobqError(.invalidPrecondition, "\(what): `in` of \(test.prerequisite) needs 1 to \(Self.maxChoices) values")
            }
            for value in values {
                do { _ = try JSONValue.parse(value) } catch {
                    throw JobqError(.invalidPrecondition, "\(what): \(value) is not a JSON value")
                }
            }
        }
    }

    // MARK: Parsing helpers

    /// `fetch.items.0` → ("fetch", ["items", "0"]): the longest dotted prefix that names a
    /// prerequisite (task ids may contain dots).
    private static func split(_ key: String, known: Set<String>, what: String) throws(JobqError) -> (String, [String]) {
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for count in stride(from: parts.count, through: 1, by: -1) {
            let candidate = parts[0..<count].joined(separator: ".")
            if known.contains(candidate) {
                return (candidate, try segments(parts[count...].joined(separator: "."), what: what, key: key, allowEmpty: true))
            }
        }
        let list = known.sorted().joined(separator: ", ")
        throw JobqError(.invalidPrecondition, "\(what): \"\(key)\" does not start with a prerequisite of this task (its prerequisites: \(list.isEmpty ? "none" : list))", subject: parts.first)
    }

    private static func segments(_ path: String, what: String, key: String, allowEmpty: Bool = false) throws(JobqError) -> [String] {
        if path.isEmpty && allowEmpty { return [] }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else { throw JobqError(.invalidPrecondition, "\(what): \"\(key)\" has an empty path part") }
        return parts
    }

    private static let operatorNames: Set<String> = ["eq", "ne", "in", "exists"]

    /// The one operator field of an object value, if it is one.
    private static func operatorFields(_ fields: [(String, JSONValue)]) -> (String, JSONValue)? {
        guard fields.count == 1, operatorNames.contains(fields[0].0) else { return nil }
        return fields[0]
    }

    private static func op(_ value: JSONValue, what: String, key: String) throws(JobqError) -> Operator {
        guard case .object(let fields) = value else { return .equals(value.rendered()) }
        guard let (name, operand) = operatorFields(fields) else {
            throw JobqError(.invalidPrecondition, "\(what): the value of \"\(key)\" is a mapping; use one operator {eq|ne|in|exists: …} (compare to a mapping with {eq: {...}})")
        }
        switch name {
        case "eq": return .equals(operand.rendered())
        case "ne": return .notEquals(operand.rendered())
        case "in":
            guard case .array(let items) = operand else { throw JobqError(.invalidPrecondition, "\(what): `in` of \"\(key)\" needs a list") }
            return .oneOf(items.map { $0.rendered() })
        default:
            guard case .bool(let flag) = operand else { throw JobqError(.invalidPrecondition, "\(what): `exists` of \"\(key)\" needs true or false") }
            return .exists(flag)
        }
    }

    // MARK: Compiled form and evaluation

    /// What submit.lua receives and the record keeps (`cond`):
    /// `{"mode":"skip_if","tests":[{"task","path":[…],"op":"eq|ne|in|exists","value","text"}]}`.
    package var compiledJSON: String {
        let tests = tests.map { test -> JSONValue in
            let (name, value): (String, JSONValue) = switch test.op {
            case .equals(let text): ("eq", Self.value(text))
            case .notEquals(let text): ("ne", Self.value(text))
            case .oneOf(let texts): ("in", .array(texts.map(Self.value)))
            case .exists(let flag): ("exists", .bool(flag))
            }
            return .object([
                ("task", .string(test.prerequisite)), ("path", .array(test.path.map { .string($0) })),
                ("op", .string(name)), ("value", value), ("text", .string(test.description)),
            ])
        }
        return JSONValue.object([("mode", .string(mode.rawValue)), ("tests", .array(tests))]).rendered()
    }

    private static func value(_ text: String) -> JSONValue { (try? JSONValue.parse(text)) ?? .null }

    /// Reads the compiled form back (a sub-workflow's tasks travel in it: ``ChildRunRequest``).
    package init(compiledJSON text: String) throws(JobqError) {
        guard case .object(let top)? = try? JSONValue.parse(text),
              let modeText = top.first(where: { $0.0 == "mode" })?.1.stringValue, let mode = Mode(rawValue: modeText),
              case .array(let items)? = top.first(where: { $0.0 == "tests" })?.1 else {
            throw JobqError(.invalidPrecondition, "not a compiled precondition: \(text.prefix(80))")
        }
        var tests: [Test] = []
        for item in items {
            guard case .object(let fields) = item,
                  let task = fields.first(where: { $0.0 == "task" })?.1.stringValue,
                  case .array(let path)? = fields.first(where: { $0.0 == "path" })?.1,
                  let op = fields.first(where: { $0.0 == "op" })?.1.stringValue,
                  let value = fields.first(where: { $0.0 == "value" })?.1 else {
                throw JobqError(.invalidPrecondition, "not a compiled precondition test: \(item.rendered().prefix(80))")
            }
            let parsed: Operator
            switch (op, value) {
            case ("eq", _): parsed = .equals(value.rendered())
            case ("ne", _): parsed = .notEquals(value.rendered())
            case ("in", .array(let values)): parsed = .oneOf(values.map { $0.rendered() })
            case ("exists", .bool(let flag)): parsed = .exists(flag)
            default: throw JobqError(.invalidPrecondition, "unknown compiled operator \(op)")
            }
            tests.append(Test(prerequisite: task, path: path.compactMap(\.stringValue), parsed))
        }
        self.init(mode, tests)
    }

    /// Whether the task is skipped, and the text that says why (`nil` when it runs). `results`:
    /// each prerequisite's stored result bytes (absent: none).
    public func evaluate(results: [String: [UInt8]]) -> String? {
        var decoded: [String: JSONValue] = [:]
        for (id, bytes) in results { if let value = try? JSONValue.parse(bytes) { decoded[id] = value } }
        for test in tests {
            let holds = Self.holds(test, result: decoded[test.prerequisite])
            switch mode {
            case .skipIf where !holds: return nil
            case .runIf where !holds: return "run_if did not hold: \(test)"
            default: continue
            }
        }
        return mode == .skipIf ? "skip_if held: " + tests.map(\.description).joined(separator: " and ") : nil
    }

    static func holds(_ test: Test, result: JSONValue?) -> Bool {
        guard let result, result != .null else { return false }
        var value: JSONValue? = result
        for part in test.path {
            switch value {
            case .array(let items):
                value = Int(part).flatMap { items.indices.contains($0) ? items[$0] : nil }
            case .object(let fields):
                value = fields.first { $0.0 == part }?.1
            default:
                value = nil
            }
        }
        switch test.op {
        case .equals(let text): return value.map { same($0, Self.value(text)) } ?? false
        case .notEquals(let text): return value.map { !same($0, Self.value(text)) } ?? false
        case .oneOf(let texts): return value.map { found in texts.contains { same(found, Self.value($0)) } } ?? false
        case .exists(let flag): return (value != nil && value != .null) == flag
        }
    }

    /// JSON equality as the scripts have it: numbers by value, objects whatever their key order.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): return Double(x) == Double(y)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { field in y.contains { $0.0 == field.0 && same($0.1, field.1) } }
        default: return a == b
        }
    }
}
