import Testing
@testable import JobqCore

/// Task ids within runs: `run/key`, split at the first `/`.
@Suite("RunScope")
struct RunScopeTests {
    @Test func splitsAtTheFirstSlash() {
        #expect(RunScope.split("nightly-01J/fetch")?.run == "nightly-01J")
        #expect(RunScope.split("nightly-01J/fetch")?.key == "fetch")
        #expect(RunScope.split("a.b/c/d").map { [$0.run, $0.key] } == ["a.b", "c/d"])
        #expect(RunScope.split("standalone") == nil)
        #expect(RunScope.run(of: "r/k") == "r" && RunScope.key(of: "r/k") == "k" && RunScope.key(of: "k") == "k")
        #expect(RunScope.split("é/ü")?.key == "ü")
    }

    @Test func resolvesBareKeysWithinARun() {
        #expect(RunScope.resolve("fetch", within: "r") == "r/fetch")
        #expect(RunScope.resolve("other/fetch", within: "r") == "other/fetch")
        #expect(RunScope.resolve("fetch", within: nil) == "fetch")
    }
}
