import Foundation
import JobqCore
import Testing

/// `jobq submit`'s numeric options: negative numbers reach the range check (not "Missing
/// value"), and each error speaks of the option the user gave.
@Suite("submit: numeric options", .enabled(if: redisAvailable))
struct SubmitNumericOptionTests {
    @Test(arguments: [
        (["--retries", "5000"], "--retries must be from 0 to 999 (re-runs after a failure); got 5000"),
        (["--retries", "-1"], "--retries must be from 0 to 999 (re-runs after a failure); got -1"),
        (["--retries=-1"], "--retries must be from 0 to 999 (re-runs after a failure); got -1"),
        (["--max-attempts", "0"], "--max-attempts must be from 1 to 1000 (total runs); got 0"),
        (["--max-attempts", "-3"], "--max-attempts must be from 1 to 1000 (total runs); got -3"),
        (["--max-attempts", "1001"], "--max-attempts must be from 1 to 1000 (total runs); got 1001"),
        (["--max-snoozes", "-1"], "--max-snoozes must be from 0 to 100000; got -1"),
        (["--max-snoozes=-1"], "--max-snoozes must be from 0 to 100000; got -1"),
        (["--max-snoozes", "100001"], "--max-snoozes must be from 0 to 100000; got 100001"),
        (["--priority", "101"], "--priority must be from -100 to 100 (higher first); got 101"),
        (["--priority", "-101"], "--priority must be from -100 to 100 (higher first); got -101"),
        (["--priority=-101"], "--priority must be from -100 to 100 (higher first); got -101"),
        (["--timeout", "-5s"], "--timeout \"-5s\" is not a duration (it cannot be negative)"),
        (["--timeout", "8d"], "--timeout must be from 1ms to 7d; got 8d"),
        (["--timeout", "0"], "--timeout must be from 1ms to 7d; got 0"),
        (["--delay", "-1m"], "--delay \"-1m\" is not a duration (it cannot be negative)"),
        (["--delay", "400d"], "--delay must be from 0ms to 366d; got 400d"),
        (["--keep", "0s"], "--keep must be from 1s to 366d; got 0s"),
        (["--keep", "soon"], "--keep \"soon\" is not a duration: use"),
        (["--expires", "0"], "--expires must be after the submission"),
        (["--expires", "-5s"], "--expires \"-5s\" is neither a duration"),
        (["--expires=-5s"], "--expires \"-5s\" is neither a duration"),
        (["--expires", "400d"], "--expires is at most 366d away"),
        (["--expires", "2001-01-01T00:00:00Z"], "--expires 2001-01-01T00:00:00Z has passed"),
        (["--expires", "whenever"], "--expires \"whenever\" is neither a duration"),
    ])
    func outOfRangeValuesAreRefusedInTheOptionsOwnWords(options: [String], message: String) async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop"] + options + ["--json"])
        #expect(result.status == 64, "\(options): \(result.stderr)")
        let error = try result.jsonError()
        #expect(error["code"] as? String == "invalid_option", "\(options): \(result.stderr)")
        let text = error["message"] as? String ?? ""
        #expect(text.hasPrefix(message), "\(options): \(text)")
        #expect(!text.contains("max attempts") && !text.contains("Missing value"), "\(options): \(text)")
        #expect(try await cli.keysInNamespace().isEmpty, "\(options) wrote to Redis")
    }

    @Test func boundaryValuesAreAccepted() async throws {
        let cli = try await CLIHarness.make()
        let result = try await cli.run(["submit", "jobq.noop", "--id", "edge", "--retries", "999", "--timeout", "7d", "--delay", "0", "--keep", "1s"])
        #expect(result.status == 0, "\(result.stderr)")
        let task = try #require(try await cli.coordinator.tasks.task("edge"))
        #expect(task.maxAttempts == 1000)
        #expect(task.timeout == .seconds(7 * 86_400))
        #expect(task.resultTTL == .seconds(1))
    }
}
