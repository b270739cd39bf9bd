import Testing

@testable import JobqCore

@Suite("validation")
struct ValidationTests {
    @Test(arguments: ["a", "A-b_c.9", String(repeating: "x", count: 128), "01JD5Z8K8Q0000000000000000"])
    func validNames(name: String) throws {
        try Validation.check(name: name, as: .taskID)
    }

    @Test(arguments: ["", "a b", "a:b", "{ns}", "a}", "line\nbreak", "tab\t", "nul\u{0}", "é", "日本", "a/b",
                      String(repeating: "x", count: 129), "semi;colon", "$(rm -rf)"])
    func invalidNames(name: String) {
        let error = #expect(throws: JobqError.self) { try Validation.check(name: name, as: .queue) }
        #expect(error?.code == .invalidName)
        #expect(error?.message.contains("queue name") == true)
    }

    @Test(arguments: ["{}", "[]", "null", "1", "\"text\"", #"{"a":[1,2,{"b":null}]}"#, #"{"s":"]]]}}}"}"#])
    func validPayloads(json: String) throws {
        try Validation.check(payload: Array(json.utf8), limits: Limits())
    }

    @Test(arguments: ["", "{", "{'a':1}", "[1,]", "nul", "{\"a\":1}}", "\u{FF}"])
    func malformedPayloads(json: String) {
        let error = #expect(throws: JobqError.self) { try Validation.check(payload: Array(json.utf8), limits: Limits()) }
        #expect(error?.code == .invalidPayload)
    }

    @Test func deeplyNestedPayloadIsRejectedWithoutRecursion() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JobqError.self) { try Validation.check(payload: Array(deep.utf8), limits: Limits()) }
        #expect(error?.code == .invalidPayload)
        #expect(error?.message.contains("nested") == true)
    }

    @Test func oversizedPayloadIsRejected() {
        var limits = Limits()
        limits.maxPayloadBytes = 1000
        let big = "\"" + String(repeating: "x", count: 1000) + "\""
        let error = #expect(throws: JobqError.self) { try Validation.check(payload: Array(big.utf8), limits: limits) }
        #expect(error?.code == .payloadTooLarge)
    }

    @Test func specRanges() throws {
        let limits = Limits()
        var task = TaskSpec(handler: "h")
        try task.validate(limits: limits)
        for attempts in [0, -1, 1001, Int.max] {
            task = TaskSpec(handler: "h", maxAttempts: attempts)
            #expect(throws: JobqError.self) { try task.validate(limits: limits) }
        }
        for timeout: Duration in [.zero, .milliseconds(-5), .seconds(8 * 24 * 3600)] {
            task = TaskSpec(handler: "h", timeout: timeout)
            let error = #expect(throws: JobqError.self) { try task.validate(limits: limits) }
            #expect(error?.code == .invalidOption)
        }
        for snoozes in [-1, 100_001, Int.max] {
            task = TaskSpec(handler: "h", maxSnoozes: snoozes)
            #expect((#expect(throws: JobqError.self) { try task.validate(limits: limits) })?.code == .invalidOption)
        }
        try TaskSpec(handler: "h", maxSnoozes: 0).validate(limits: limits)
        task = TaskSpec(handler: "h", prerequisites: [Prerequisite("a"), Prerequisite("a")])
        #expect((#expect(throws: JobqError.self) { try task.validate(limits: limits) })?.code == .duplicatePrerequisite)
        var few = Limits()
        few.maxPrerequisites = 2
        task = TaskSpec(handler: "h", prerequisites: [Prerequisite("a"), Prerequisite("b"), Prerequisite("c")])
        #expect((#expect(throws: JobqError.self) { try task.validate(limits: few) })?.code == .tooManyPrerequisites)
        task = TaskSpec(handler: "h", title: "two\nlines")
        #expect((#expect(throws: JobqError.self) { try task.validate(limits: limits) })?.code == .invalidOption)
    }

    @Test func generatedIDsAreTimeOrderedAndValid() throws {
        var generator = SystemRandomNumberGenerator()
        let earlier = TaskID.generate(milliseconds: 1_700_000_000_000, using: &generator)
        let later = TaskID.generate(milliseconds: 1_700_000_000_001, using: &generator)
        #expect(earlier.count == 26 && earlier < later)
        try Validation.check(name: earlier, as: .taskID)
    }
}

@Suite("JSON validator")
struct JSONValidatorTests {
    let validator = JSONValidator(maxDepth: 64)

    @Test(arguments: ["0", "-0.5e+10", "1E5", "true", "false", "null", "\"\\u00e9\\n\"", "\"é日本\"", " [ ] ", "{\"a\":{\"b\":[1,{}]}}", "[[],[[]]]"])
    func accepts(json: String) throws {
        try validator.validate(Array(json.utf8))
    }

    @Test(arguments: ["[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "[1 2]", "{\"a\" 1}", "{1:2}", "\"\\x\"", "\"a", "tru", "[", "]", "\"\u{01}\"", "NaN", "[1]]"])
    func rejects(json: String) {
        #expect(throws: JSONValidator.Failure.self) { try validator.validate(Array(json.utf8)) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONValidator.Failure.self) { try validator.validate([0x22, 0xC0, 0xAF, 0x22]) }
        #expect(throws: JSONValidator.Failure.self) { try validator.validate([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func depthLimit() throws {
        try validator.validate(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8))
        #expect(throws: JSONValidator.Failure.tooDeep(limit: 64)) {
            try validator.validate(Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8))
        }
    }
}
