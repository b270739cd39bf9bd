import Testing

@testable import JobqCore

@Suite("DependencyGraph")
struct DependencyGraphTests {
    /// a -> b, a -> c, b -> d, c -> d.
    private func diamond() -> DependencyGraph {
        var graph = DependencyGraph()
        graph.addEdge(prerequisite: "a", dependent: "b")
        graph.addEdge(prerequisite: "a", dependent: "c")
        graph.addEdge(prerequisite: "b", dependent: "d")
        graph.addEdge(prerequisite: "c", dependent: "d")
        return graph
    }

    /// Every edge of `graph`, as `prerequisite -> dependent` pairs.
    private func edges(of graph: DependencyGraph) -> [(String, String)] {
        graph.nodes.flatMap { node in graph.dependents(of: node).map { (node, $0) } }
    }

    /// Checks that `order` lists every node once and each prerequisite before its dependent.
    private func expectValidOrder(_ order: [String], of graph: DependencyGraph) {
        #expect(order.count == graph.nodes.count)
        #expect(Set(order) == Set(graph.nodes))
        var position: [String: Int] = [:]
        for (index, id) in order.enumerated() { position[id] = index }
        for (prerequisite, dependent) in edges(of: graph) {
            #expect(position[prerequisite]! < position[dependent]!, "\(prerequisite) must precede \(dependent)")
        }
    }

    /// Checks that `cycle` is a closed walk along real edges.
    private func expectRealCycle(_ cycle: [String]?, in graph: DependencyGraph) {
        guard let cycle else {
            Issue.record("expected a cycle")
            return
        }
        #expect(cycle.count >= 2)
        #expect(cycle.first == cycle.last)
        for (from, to) in zip(cycle, cycle.dropFirst()) {
            #expect(graph.dependents(of: from).contains(to), "\(from) -> \(to) is not an edge")
        }
    }

    @Test func nodesAreUniqueAndInInsertionOrder() {
        var graph = DependencyGraph()
        graph.addNode("x")
        graph.addEdge(prerequisite: "y", dependent: "x")
        graph.addNode("y")
        graph.addNode("z")
        graph.addNode("x")
        #expect(graph.nodes == ["x", "y", "z"])
        #expect(graph.contains("z"))
        #expect(!graph.contains("w"))
    }

    @Test func duplicateEdgesAreIgnored() {
        var graph = diamond()
        graph.addEdge(prerequisite: "a", dependent: "b")
        graph.addEdge(prerequisite: "c", dependent: "d")
        #expect(graph.edgeCount == 4)
        #expect(graph.prerequisites(of: "d") == ["b", "c"])
        #expect(graph.dependents(of: "a") == ["b", "c"])
        #expect(graph.prerequisites(of: "a") == [])
        #expect(graph.dependents(of: "unknown") == [])
        #expect(graph == diamond())
    }

    @Test func diamondOrderRespectsEveryEdge() throws {
        let graph = diamond()
        let order = try graph.topologicalOrder()
        expectValidOrder(order, of: graph)
        #expect(graph.findCycle() == nil)
    }

    @Test func orderIsDeterministicAndBreaksTiesByInsertion() throws {
        var graph = DependencyGraph()
        for id in ["e", "d", "c", "b", "a"] { graph.addNode(id) }
        // Independent nodes keep insertion order, whatever their names.
        #expect(try graph.topologicalOrder() == ["e", "d", "c", "b", "a"])

        // When "e" is released by "a", it is the earliest-added ready node and goes first.
        graph.addEdge(prerequisite: "a", dependent: "e")
        let order = try graph.topologicalOrder()
        #expect(order == ["d", "c", "b", "a", "e"])
        for _ in 0..<5 {
            #expect(try graph.topologicalOrder() == order)
        }

        var tie = DependencyGraph()
        tie.addNode("late")
        tie.addNode("root")
        tie.addNode("early")
        tie.addEdge(prerequisite: "root", dependent: "early")
        tie.addNode("free")
        // After "root", both "early" and "free" are ready; "early" was added first.
        #expect(try tie.topologicalOrder() == ["late", "root", "early", "free"])
    }

    @Test func selfLoopIsFound() {
        var graph = DependencyGraph()
        graph.addNode("before")
        graph.addEdge(prerequisite: "a", dependent: "a")
        #expect(graph.findCycle() == ["a", "a"])
        expectRealCycle(graph.findCycle(), in: graph)
        #expect(throws: DependencyGraph.CycleError(cycle: ["a", "a"])) {
            try graph.topologicalOrder()
        }
    }

    @Test func twoCycleIsFound() {
        var graph = diamond()
        graph.addEdge(prerequisite: "d", dependent: "e")
        graph.addEdge(prerequisite: "e", dependent: "d")
        let cycle = graph.findCycle()
        expectRealCycle(cycle, in: graph)
        #expect(Set(cycle ?? []) == ["d", "e"])
        do {
            _ = try graph.topologicalOrder()
            Issue.record("expected a CycleError")
        } catch let error as DependencyGraph.CycleError {
            expectRealCycle(error.cycle, in: graph)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func thousandNodeCycleIsFound() {
        var graph = DependencyGraph()
        let count = 1_000
        for index in 0..<count {
            graph.addEdge(prerequisite: "n\(index)", dependent: "n\((index + 1) % count)")
        }
        let cycle = graph.findCycle()
        expectRealCycle(cycle, in: graph)
        #expect(cycle?.count == count + 1)
        #expect(throws: DependencyGraph.CycleError.self) { try graph.topologicalOrder() }
    }

    @Test func cycleBehindAcyclicPartIsFound() {
        var graph = DependencyGraph()
        graph.addEdge(prerequisite: "root", dependent: "x")
        graph.addEdge(prerequisite: "x", dependent: "done")
        graph.addEdge(prerequisite: "x", dependent: "p")
        graph.addEdge(prerequisite: "p", dependent: "q")
        graph.addEdge(prerequisite: "q", dependent: "r")
        graph.addEdge(prerequisite: "r", dependent: "p")
        let cycle = graph.findCycle()
        expectRealCycle(cycle, in: graph)
        #expect(Set(cycle ?? []) == ["p", "q", "r"])
    }

    @Test func tenThousandNodeChainSortsInOrder() throws {
        var graph = DependencyGraph()
        let ids = (0..<10_000).map { "step-\($0)" }
        // Added in reverse, so the order has to come from the edges, not insertion order.
        for index in stride(from: ids.count - 1, to: 0, by: -1) {
            graph.addEdge(prerequisite: ids[index - 1], dependent: ids[index])
        }
        #expect(graph.findCycle() == nil)
        #expect(try graph.topologicalOrder() == ids)

        // Closing the chain makes one 10,000-node cycle, still found iteratively.
        graph.addEdge(prerequisite: ids[ids.count - 1], dependent: ids[0])
        let cycle = graph.findCycle()
        expectRealCycle(cycle, in: graph)
        #expect(cycle?.count == ids.count + 1)
    }

    @Test func wideFanOutAndFanIn() throws {
        var graph = DependencyGraph()
        let leaves = (0..<5_000).map { "leaf-\($0)" }
        for leaf in leaves { graph.addEdge(prerequisite: "root", dependent: leaf) }
        let sources = (0..<2_000).map { "source-\($0)" }
        for source in sources { graph.addEdge(prerequisite: source, dependent: "sink") }
        #expect(graph.edgeCount == 7_000)
        #expect(graph.dependents(of: "root") == leaves)
        #expect(graph.prerequisites(of: "sink") == sources)
        #expect(graph.findCycle() == nil)

        let order = try graph.topologicalOrder()
        expectValidOrder(order, of: graph)
        #expect(order.first == "root")
        #expect(order.last == "sink")
    }

    @Test func missingPrerequisitesAreReported() {
        var graph = DependencyGraph()
        graph.addEdge(prerequisite: "fetch", dependent: "parse")
        graph.addEdge(prerequisite: "external-1", dependent: "parse")
        graph.addEdge(prerequisite: "parse", dependent: "report")
        graph.addEdge(prerequisite: "external-2", dependent: "report")
        let missing = graph.prerequisitesMissing(from: ["fetch", "parse", "report"])
        #expect(missing.map(\.dependent) == ["parse", "report"])
        #expect(missing.map(\.prerequisite) == ["external-1", "external-2"])
        #expect(graph.prerequisitesMissing(from: Set(graph.nodes)).isEmpty)
        #expect(graph.prerequisitesMissing(from: []).count == graph.edgeCount)
    }

    @Test func dotListsEveryNodeAndEdge() throws {
        var graph = diamond()
        graph.addNode("lonely")
        let dot = graph.dot(name: "wf") { id in id == "a" ? ["fillcolor": "green", "label": "A"] : [:] }
        let parsed = try DOTShape(parsing: dot)
        #expect(parsed.name == "wf")
        #expect(parsed.attributes == ["rankdir": "LR"])
        #expect(parsed.nodes == graph.nodes)
        #expect(parsed.nodeAttributes["a"] == ["fillcolor": "green", "label": "A"])
        #expect(parsed.nodeAttributes["b"] == [:])
        #expect(parsed.edges.map { "\($0.0)->\($0.1)" } == edges(of: graph).map { "\($0.0)->\($0.1)" })
        #expect(dot.contains(#""a" ["fillcolor"="green", "label"="A"];"#))
        #expect(graph.dot(name: "wf", attributes: { _ in [:] }) == diamond().withNode("lonely").dot(name: "wf"))
    }

    @Test func dotEscapesHostileIDs() throws {
        let hostile = "say \"hi\"\nthen \\ leave }"
        var graph = DependencyGraph()
        graph.addEdge(prerequisite: hostile, dependent: "next\r\nline")
        let dot = graph.dot { _ in ["label": "x\"; injected -> y; \""] }
        #expect(dot.contains(#""say \"hi\"\nthen \\ leave }""#))
        #expect(dot.contains(#""next\nline""#))
        let parsed = try DOTShape(parsing: dot)
        #expect(parsed.nodes == [hostile, "next\nline"])
        #expect(parsed.edges.count == 1)
        #expect(parsed.edges.first?.0 == hostile)
        #expect(parsed.nodeAttributes[hostile] == ["label": "x\"; injected -> y; \""])
    }
}

extension DependencyGraph {
    fileprivate func withNode(_ id: String) -> DependencyGraph {
        var copy = self
        copy.addNode(id)
        return copy
    }
}

/// A small reader for the DOT subset `dot(…)` writes, so tests check structure, not substrings.
///
/// Tokenizes quoted strings (undoing `\"`, `\\`, `\n`) and punctuation, requires balanced
/// braces and brackets outside strings, and splits statements on `;`.
private struct DOTShape {
    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    enum Token: Equatable {
        case word(String)
        case quoted(String)
        case symbol(String)
    }

    var name = ""
    var attributes: [String: String] = [:]
    var nodes: [String] = []
    var nodeAttributes: [String: [String: String]] = [:]
    var edges: [(String, String)] = []

    init(parsing text: String) throws {
        let tokens = try Self.tokenize(text)
        guard tokens.count >= 3, tokens[0] == .word("digraph"), case .quoted(let name) = tokens[1],
            tokens[2] == .symbol("{"), tokens.last == .symbol("}")
        else { throw ParseError(description: "not `digraph \"name\" { … }`") }
        self.name = name
        var depth = 0
        for token in tokens {
            if token == .symbol("{") || token == .symbol("[") { depth += 1 }
            if token == .symbol("}") || token == .symbol("]") { depth -= 1 }
            if depth < 0 { throw ParseError(description: "unbalanced braces") }
        }
        if depth != 0 { throw ParseError(description: "unbalanced braces") }

        let body = tokens[3..<(tokens.count - 1)]
        for statement in body.split(separator: .symbol(";")) {
            let parts = Array(statement)
            switch parts.count {
            case 3 where parts[1] == .symbol("="):
                attributes[try Self.string(parts[0])] = try Self.string(parts[2])
            case 3 where parts[1] == .symbol("->"):
                edges.append((try Self.string(parts[0]), try Self.string(parts[2])))
            case 1...:
                let id = try Self.string(parts[0])
                nodes.append(id)
                nodeAttributes[id] = try Self.attributeList(parts.dropFirst())
            default:
                throw ParseError(description: "empty statement")
            }
        }
    }

    private static func attributeList(_ tokens: ArraySlice<Token>) throws -> [String: String] {
        guard !tokens.isEmpty else { return [:] }
        guard tokens.first == .symbol("["), tokens.last == .symbol("]") else {
            throw ParseError(description: "bad attribute list \(tokens)")
        }
        var result: [String: String] = [:]
        for pair in tokens.dropFirst().dropLast().split(separator: .symbol(",")) {
            let pair = Array(pair)
            guard pair.count == 3, pair[1] == .symbol("=") else {
                throw ParseError(description: "bad attribute \(pair)")
            }
            result[try string(pair[0])] = try string(pair[2])
        }
        return result
    }

    private static func string(_ token: Token) throws -> String {
        switch token {
        case .quoted(let value), .word(let value): return value
        case .symbol(let symbol): throw ParseError(description: "expected an id, got \(symbol)")
        }
    }

    private static func tokenize(_ text: String) throws -> [Token] {
        var tokens: [Token] = []
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return scalars.next()
        }
        while let scalar = next() {
            switch scalar {
            case " ", "\n", "\t":
                continue
            case "\"":
                var value = ""
                var closed = false
                while let inner = next() {
                    if inner == "\"" {
                        closed = true
                        break
                    }
                    if inner == "\n" { throw ParseError(description: "raw newline inside a string") }
                    if inner == "\\" {
                        switch next() {
                        case "\"": value += "\""
                        case "\\": value += "\\"
                        case "n": value += "\n"
                        case let other: throw ParseError(description: "unexpected escape \\\(String(describing: other))")
                        }
                    } else {
                        value.unicodeScalars.append(inner)
                    }
                }
                if !closed { throw ParseError(description: "unterminated string") }
                tokens.append(.quoted(value))
            case "{", "}", "[", "]", ";", ",", "=":
                tokens.append(.symbol(String(scalar)))
            case "-":
                guard next() == ">" else { throw ParseError(description: "lone -") }
                tokens.append(.symbol("->"))
            default:
                var word = String(scalar)
                while let inner = next() {
                    if inner.properties.isAlphabetic || ("0"..."9").contains(inner) || inner == "_" {
                        word.unicodeScalars.append(inner)
                    } else {
                        pending = inner
                        break
                    }
                }
                tokens.append(.word(word))
            }
        }
        return tokens
    }
}
