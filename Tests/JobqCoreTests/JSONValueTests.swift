import Foundation
import JobqCore
import Testing

/// The package's one JSON writer (CLI `--json`, the worker's JSON log lines): escaping edge
/// cases, key order, and that what it writes parses back.
@Suite("JSONValue writer")
struct JSONValueTests {
    static let escapes: [(String, String)] = [
        ("plain", #""plain""#),
        ("say \"hi\"", #""say \"hi\"""#),
        ("back\\slash", #""back\\slash""#),
        ("line\nbreak\r\ttab", #""line\nbreak\r\ttab""#),
        ("\u{08}\u{0C}", #""\b\f""#),
        ("\u{00}\u{01}\u{1F}", #""\u0000\u0001\u001f""#),
        ("del\u{7F}", #""del\u007f""#),
        ("sep\u{2028}\u{2029}", #""sep\u2028\u2029""#),
        ("héllo wörld", "\"héllo wörld\""),
        ("日本語 🎉", "\"日本語 🎉\""),
        ("/slash", #""/slash""#),
        ("", #""""#),
    ]

    @Test(arguments: escapes)
    func escapesStrings(_ text: String, _ expected: String) throws {
        #expect(JSONValue.quoted(text) == expected)
        #expect(JSONValue.string(text).rendered() == expected)
        // It parses back, with our parser and Foundation's.
        #expect(try JSONValue.parse(expected) == .string(text))
        let decoded = try JSONSerialization.jsonObject(with: Data(expected.utf8), options: [.fragmentsAllowed]) as? String
        #expect(decoded == text)
    }

    @Test func keysKeepTheirOrderAndNumbersTheirText() throws {
        let value = JSONValue.object([
            ("z", .int(1)), ("a", .number("1.50")), ("m", .array([.bool(true), .null, .string("x\"y")])),
            ("k\u{01}", .object([])),
        ])
        #expect(value.rendered() == #"{"z":1,"a":1.50,"m":[true,null,"x\"y"],"k\u0001":{}}"#)
        #expect(try JSONValue.parse(value.rendered()) == value)
        #expect(value.rendered(pretty: true) == """
            {
              "z": 1,
              "a": 1.50,
              "m": [
                true,
                null,
                "x\\"y"
              ],
              "k\\u0001": {}
            }
            """)
    }

    @Test func surrogatePairsParseToOneScalar() throws {
        #expect(try JSONValue.parse(#""\ud83c\udf89""#) == .string("🎉"))
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(#""\ud83c""#) }
    }
}
