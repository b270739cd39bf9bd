import Foundation
import JobqCore
import Yams

/// A value of a workflow file with the place it was written, from YAML or JSON alike.
///
/// Both syntaxes become this one tree, so the format is checked once and every error can say
/// `file:line:column`.
struct DocumentNode: Sendable {
    indirect enum Value: Sendable {
        /// null, bool, number or string.
        case scalar(JSONValue)
        case sequence([DocumentNode])
        /// Keys in order, each with its own node (for the key's position).
        case mapping([(key: String, keyNode: DocumentNode, value: DocumentNode)])
        /// `!retval task` (YAML) or `{"$retval": "task"}` (both): the result of another task.
        case retval(String)
    }

    var value: Value
    var line: Int
    var column: Int

    /// What the node is, for messages ("a string", "a list", …).
    var kind: String {
        switch value {
        case .scalar(let scalar):
            switch scalar {
            case .null: "null"
            case .bool: "a boolean"
            case .number: "a number"
            case .string: "a string"
            default: "a value"
            }
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .retval: "a !retval reference"
        }
    }

    /// The payload as JSON: retval references become `{"$retval": "id"}`, their wire form.
    func json() -> JSONValue {
        switch value {
        case .scalar(let scalar): scalar
        case .sequence(let items): .array(items.map { $0.json() })
        case .mapping(let pairs): .object(pairs.map { ($0.key, $0.value.json()) })
        case .retval(let id): .object([(RetvalReference.key, .string(id))])
        }
    }

    /// Every retval reference inside this node, with its node (for the line).
    func retvals() -> [(id: String, node: DocumentNode)] {
        var found: [(id: String, node: DocumentNode)] = []
        var stack = [self]
        while let node = stack.popLast() {
            switch node.value {
            case .scalar: break
            case .retval(let id): found.append((id, node))
            case .sequence(let items): stack += items.reversed()
            case .mapping(let pairs): stack += pairs.map(\.value).reversed()
            }
        }
        return found
    }
}

/// The wire form of a reference to another task's result, kept as is in the stored payload.
///
/// `{"$retval": "fetch"}` anywhere in a payload stands for the JSON result of task `fetch`, which
/// must be a (transitive) prerequisite. The worker replaces it just before running the handler
/// (see docs/workflow-files.md); the object must have exactly this one key.
enum RetvalReference {
    static let key = "$retval"
    static let yamlTag = "!retval"
}

/// The YAML tags of a map's element placeholders (``MapRequest/item``, ``MapRequest/index``).
enum MapPlaceholderTag {
    static let keys = ["!item": MapRequest.itemKey, "!index": MapRequest.indexKey]
}

/// Why a workflow file cannot be read, with its place.
struct DocumentError: Error, Sendable {
    var message: String
    var line: Int?
    var column: Int?
    var code: JobqError.Code = .invalidWorkflowFile
}

/// Reads YAML or JSON text into ``DocumentNode``s.
enum DocumentReader {
    /// Most nodes a file may expand to (YAML aliases can multiply a small file).
    static let defaultMaxNodes = 1_000_000

    /// JSON when the file name ends in `.json` or the text starts with `{` or `[`; else YAML.
    static func read(_ bytes: [UInt8], fileName: String, maxNodes: Int = defaultMaxNodes) throws(DocumentError) -> DocumentNode {
        let first = bytes.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
        if fileName.lowercased().hasSuffix(".json") || first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return try readJSON(bytes)
        }
        return try readYAML(bytes, maxNodes: maxNodes)
    }

    // MARK: JSON

    static func readJSON(_ bytes: [UInt8]) throws(DocumentError) -> DocumentNode {
        let parsed: (value: JSONValue, positions: [Int])
        do {
            parsed = try JSONValue.parseLocated(bytes)
        } catch {
            throw DocumentError(message: "not valid JSON: \(error.message)", line: error.line, column: error.column)
        }
        var cursor = 0
        var tracker = TextPositionTracker(bytes: bytes)
        return convert(parsed.value, positions: parsed.positions, cursor: &cursor, tracker: &tracker)
    }

    /// Pairs each value with its start offset; `positions` is in the same pre-order as the walk.
    private static func convert(_ value: JSONValue, positions: [Int], cursor: inout Int, tracker: inout TextPositionTracker) -> DocumentNode {
        let offset = cursor < positions.count ? positions[cursor] : 0
        cursor += 1
        let (line, column) = tracker.lineAndColumn(of: offset)
        switch value {
        case .array(let items):
            let nodes = items.map { convert($0, positions: positions, cursor: &cursor, tracker: &tracker) }
            return DocumentNode(value: .sequence(nodes), line: line, column: column)
        case .object(let pairs):
            let converted = pairs.map { pair -> (key: String, keyNode: DocumentNode, value: DocumentNode) in
                let node = convert(pair.1, positions: positions, cursor: &cursor, tracker: &tracker)
                let keyNode = DocumentNode(value: .scalar(.string(pair.0)), line: node.line, column: node.column)
                return (pair.0, keyNode, node)
            }
            if converted.count == 1, converted[0].key == RetvalReference.key, case .scalar(.string(let id)) = converted[0].value.value {
                return DocumentNode(value: .retval(id), line: line, column: column)
            }
            return DocumentNode(value: .mapping(converted), line: line, column: column)
        default:
            return DocumentNode(value: .scalar(value), line: line, column: column)
        }
    }

    // MARK: YAML

    /// - Parameter fastScalars: read plain words and numbers without Yams's resolver (see
    ///   ``plainScalar(_:)``); false only in tests, to compare with the resolver.
    static func readYAML(_ bytes: [UInt8], maxNodes: Int = defaultMaxNodes, fastScalars: Bool = true) throws(DocumentError) -> DocumentNode {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DocumentError(message: "the file is not UTF-8 text", line: nil, column: nil)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw describe(error)
        } catch {
            throw DocumentError(message: "not valid YAML: \(error)", line: nil, column: nil)
        }
        guard let root else { throw DocumentError(message: "the file is empty; it needs a `tasks:` list", line: 1, column: 1) }
        var budget = maxNodes
        return try convert(root, budget: &budget, limit: maxNodes, fastScalars: fastScalars)
    }

    private static func describe(_ error: YamlError) -> DocumentError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let where_ = context.map { " \($0.text)" } ?? ""
            // `{file: !item}`: YAML wants a space after a tag, which a bare `!item` lacks before `,` or `}`
            let hint = where_.contains("scanning a tag") ? " (a tag needs a space after it: in a flow mapping write `{file: !item , n: !index }`, or use block style)" : ""
            return DocumentError(message: "not valid YAML: \(problem)\(where_)\(hint)", line: mark.line, column: mark.column)
        case .reader(let problem, _, _, _):
            return DocumentError(message: "cannot read the YAML text: \(problem)", line: nil, column: nil)
        default:
            return DocumentError(message: "not valid YAML: \(error)", line: nil, column: nil)
        }
    }

    private static func convert(_ node: Node, budget: inout Int, limit: Int, fastScalars: Bool) throws(DocumentError) -> DocumentNode {
        budget -= 1
        let line = node.mark?.line ?? 0
        let column = node.mark?.column ?? 0
        guard budget > 0 else {
            throw DocumentError(message: "the file expands to more than \(limit) values (YAML aliases?); simplify it", line: line, column: column)
        }
        // Plain scalars that are plainly a word or a whole number skip Yams's tag resolution
        // (six regular expressions per scalar: a third of the time of a 50,000-task file).
        if fastScalars, case .scalar(let scalar) = node, scalar.style == .plain, scalar.tag.description.isEmpty,
            let value = Self.plainScalar(scalar.string)
        {
            return DocumentNode(value: .scalar(value), line: line, column: column)
        }
        let tag = node.tag.description
        switch node {
        case .scalar(let scalar):
            if tag == RetvalReference.yamlTag {
                let id = scalar.string.trimmingCharacters(in: .whitespaces)
                guard !id.isEmpty else {
                    throw DocumentError(message: "!retval needs the id of the task whose result to pass, e.g. `!retval fetch`", line: line, column: column)
                }
                return DocumentNode(value: .retval(id), line: line, column: column)
            }
            if let key = MapPlaceholderTag.keys[tag] {
                // `!item` / `!index` in a map's task payload: {"$item": true}, replaced per element
                guard scalar.string.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw DocumentError(message: "\(tag) takes no value; write it alone (`file: \(tag)`)", line: line, column: column)
                }
                let flag = DocumentNode(value: .scalar(.bool(true)), line: line, column: column)
                return DocumentNode(value: .mapping([(key, DocumentNode(value: .scalar(.string(key)), line: line, column: column), flag)]), line: line, column: column)
            }
            return DocumentNode(value: .scalar(try scalarValue(node, scalar: scalar, tag: tag, line: line, column: column)), line: line, column: column)
        case .sequence(let sequence):
            try checkCollectionTag(tag, line: line, column: column)
            var items: [DocumentNode] = []
            for item in sequence { items.append(try convert(item, budget: &budget, limit: limit, fastScalars: fastScalars)) }
            return DocumentNode(value: .sequence(items), line: line, column: column)
        case .mapping(let mapping):
            try checkCollectionTag(tag, line: line, column: column)
            var pairs: [(key: String, keyNode: DocumentNode, value: DocumentNode)] = []
            var seen: [String: Int] = [:]
            for (keyNode, valueNode) in mapping {
                let keyLine = keyNode.mark?.line ?? line
                let keyColumn = keyNode.mark?.column ?? column
                guard case .scalar(let keyScalar) = keyNode else {
                    throw DocumentError(message: "mapping keys must be plain names, not lists or mappings", line: keyLine, column: keyColumn)
                }
                let key = keyScalar.string
                if let first = seen[key] {
                    throw DocumentError(message: "duplicate key \"\(key)\" (first at line \(first))", line: keyLine, column: keyColumn)
                }
                seen[key] = keyLine
                let value = try convert(valueNode, budget: &budget, limit: limit, fastScalars: fastScalars)
                pairs.append((key, DocumentNode(value: .scalar(.string(key)), line: keyLine, column: keyColumn), value))
            }
            if pairs.count == 1, pairs[0].key == RetvalReference.key, case .scalar(.string(let id)) = pairs[0].value.value {
                return DocumentNode(value: .retval(id), line: line, column: column)
            }
            return DocumentNode(value: .mapping(pairs), line: line, column: column)
        }
    }

    private static func checkCollectionTag(_ tag: String, line: Int, column: Int) throws(DocumentError) {
        if tag.hasPrefix("!") && tag != "!" {
            throw DocumentError(message: "unknown tag \(tag) (jobq knows `!retval task_id`, and `!item` / `!index` in a map's task)", line: line, column: column)
        }
    }

    private static func scalarValue(_ node: Node, scalar: Node.Scalar, tag: String, line: Int, column: Int) throws(DocumentError) -> JSONValue {
        if tag.hasPrefix("!") && tag != "!" {
            throw DocumentError(message: "unknown tag \(tag) (jobq knows `!retval task_id`, and `!item` / `!index` in a map's task)", line: line, column: column)
        }
        switch tag {
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            return .bool(node.bool ?? false)
        case Tag.Name.int.rawValue:
            guard let value = node.int else {
                throw DocumentError(message: "integer \(scalar.string) is out of range; quote it to pass it as a string", line: line, column: column)
            }
            return .int(value)
        case Tag.Name.float.rawValue:
            guard let value = node.float, value.isFinite else {
                throw DocumentError(message: "\(scalar.string) is not a finite number, which JSON cannot hold; quote it to pass it as a string", line: line, column: column)
            }
            return .number(Self.jsonNumber(value))
        default:
            return .string(scalar.string)
        }
    }

    /// Words YAML's core resolver reads as booleans or null when they start with a letter.
    private static let reservedWords: Set<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
    ]

    /// What Yams's default resolver would make of an untagged plain scalar, for the two cases
    /// that are certain without it; `nil` means "ask Yams".
    ///
    /// - A word starting with an ASCII letter (`jobq.echo`, `t123`, `step`) is a string unless it
    ///   is one of ``reservedWords``: the int, float, timestamp, merge and value rules all need a
    ///   digit, sign, `.`, `<`, `=` or `~` first.
    /// - Decimal digits without a leading zero (or `0`) are an int (the octal and sexagesimal
    ///   forms need a leading 0 or a ':'), when it fits in an Int.
    static func plainScalar(_ text: String) -> JSONValue? {
        guard let first = text.utf8.first else { return nil }
        switch first {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return reservedWords.contains(text) ? nil : .string(text)
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let value = Int(text) else { return nil }
            return .int(value)
        case UInt8(ascii: "0"):
            return text.utf8.count == 1 ? .int(0) : nil
        default:
            return nil
        }
    }

    /// A finite double as JSON number text.
    static func jsonNumber(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) + ".0" }
        return "\(value)"
    }
}
