extension DependencyGraph {
    /// The graph in Graphviz DOT, for `jobq graph … | dot -Tsvg`.
    ///
    /// Task ids are user input, so every id, attribute name and value is written as a quoted
    /// DOT string with quotes, backslashes and line breaks escaped: no id can break out of its
    /// string or inject statements. Nodes come first in insertion order, then edges
    /// `prerequisite -> dependent` in the same order, and attributes sorted by name, so the
    /// same graph always produces byte-identical output (diffable, snapshot-testable).
    /// - Parameters:
    ///   - name: The graph's name.
    ///   - graphAttributes: Graph-level attributes; the default lays the workflow out left to right.
    ///   - attributes: Per-node attributes (`label`, `fillcolor`, …), e.g. from task state.
    ///   - edgeAttributes: Per-edge attributes, given `(prerequisite, dependent)`: how the edge's
    ///     dependency policy is drawn (`always` dashed and labelled, so it is not read as `success`).
    ///   - extraStatements: Statements appended before the closing brace (a legend subgraph),
    ///     already DOT text: build them with ``dotNode(_:_:)`` and ``dotEdge(_:_:_:)``.
    public func dot(
        name: String = "workflow",
        graphAttributes: [String: String] = ["rankdir": "LR"],
        attributes: (String) -> [String: String] = { _ in [:] },
        edgeAttributes: (String, String) -> [String: String] = { _, _ in [:] },
        extraStatements: [String] = []
    ) -> String {
        var lines = ["digraph \(Self.dotQuoted(name)) {"]
        for (key, value) in graphAttributes.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(Self.dotQuoted(key))=\(Self.dotQuoted(value));")
        }
        for node in nodes {
            lines.append("  \(Self.dotQuoted(node))\(Self.dotAttributeList(attributes(node)));")
        }
        for node in nodes {
            for dependent in dependents(of: node) {
                lines.append("  " + Self.dotEdge(node, dependent, edgeAttributes(node, dependent)))
            }
        }
        lines += extraStatements.map { "  " + $0 }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `"id" [attributes];`: one node statement, everything quoted.
    public static func dotNode(_ id: String, _ attributes: [String: String] = [:]) -> String {
        "\(dotQuoted(id))\(dotAttributeList(attributes));"
    }

    /// `"from" -> "to" [attributes];`: one edge statement, everything quoted.
    public static func dotEdge(_ from: String, _ to: String, _ attributes: [String: String] = [:]) -> String {
        "\(dotQuoted(from)) -> \(dotQuoted(to))\(dotAttributeList(attributes));"
    }

    /// ` [key="value", …]` with keys sorted, or nothing when there are no attributes.
    private static func dotAttributeList(_ attributes: [String: String]) -> String {
        guard !attributes.isEmpty else { return "" }
        let pairs = attributes.sorted { $0.key < $1.key }
            .map { "\(dotQuoted($0.key))=\(dotQuoted($0.value))" }
        return " [" + pairs.joined(separator: ", ") + "]"
    }

    /// `text` as a DOT double-quoted string.
    ///
    /// DOT itself only unescapes `\"`; Graphviz then reads `\\` as a backslash and `\n` as a
    /// line break in labels. A raw newline would be legal inside quotes but hard to read in
    /// the output, so CR, LF and CRLF all become `\n`.
    public static func dotQuoted(_ text: String) -> String {
        var out = "\""
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\r": out += "\\n"
            case "\n": if !previousWasCR { out += "\\n" }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
