import Foundation
@testable import JobqCore
import JobqRedis
import JobqWorker
import Testing

/// A sub-workflow task whose earlier attempt died between the submit calls of its (large) child
/// run finds that run given up (reason submit_abandoned): it is refused, not retried, since it
/// holds only part of the child definition's tasks.
@Suite("child runs given up mid-submission", .enabled(if: redisAvailable))
struct ChildRunAbandonTests {
    @Test func aChildRunGivenUpMidSubmissionIsNotResumed() async throws {
        try await withHarness { harness in
            let coordinator = harness.coordinator
            let request = try ChildRunRequest(definition: "child", tasks: [TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h")])
            let id = ChildRunRequest.childRunID(parent: "p/sub")
            // the dead attempt's first call, then the maintenance pass's verdict
            let (specs, options) = try request.submission(id: id)
            let first = SubmitCall.Item(id: id + "/a", spec: { var spec = specs[0]; spec.id = id + "/a"; return spec }())
            _ = try await coordinator.runner.run(SubmitCall(items: [first], workflow: id, run: options, fingerprint: "", idempotencyWindow: .zero, chunk: .first))
            _ = try await coordinator.redis.send("HSET", RedisArgument(coordinator.keys.workflow(id)), "reason", "submit_abandoned", "state", "FAILED")
            let error = await #expect(throws: JobqError.self) { _ = try await coordinator.startChildRun(request, parent: "p/sub") }
            #expect(error?.code == .invalidState && error?.subject == id, "\(String(describing: error))")
        }
    }
}
