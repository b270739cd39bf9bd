import JobqRedis

/// settle.lua: continues the cascades earlier calls left on the settle list (bounded cascades),
/// and names the bounded operations whose client went quiet (for the maintenance pass).
package struct SettleCall: ScriptCall {
    package static var script: RedisScript { Scripts.settle }

    /// Operations in `continuations` idle for longer than this are listed in the reply; 0: none.
    package var staleAfterMilliseconds: Int = 0

    package var arguments: [RedisArgument] { [RedisArgument(staleAfterMilliseconds)] }

    /// `{1, status, stale operation, ...}` (`cancel:<wf>`, `retry:<id>`).
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> SettleReply {
        try reply.expectOK()
        let status = try reply.word(ContinuationStatus.self, "status")
        return SettleReply(status: status, stale: try reply.remainingStrings("stale operation"))
    }
}

/// settle.lua's answer.
package struct SettleReply: Sendable, Hashable {
    package var status: ContinuationStatus
    package var stale: [String]
}

extension ScriptRunner {
    /// Runs settle.lua until the settle list is empty: the cascades a call of ours left there
    /// (and any other in flight) are complete when it returns. Each call is bounded; the loop
    /// is bounded too (it only guards against a script bug).
    package func settleAll() async throws(JobqError) {
        for _ in 0..<10_000_000 {
            if try await run(SettleCall()).status == .done { return }
        }
        throw JobqError(.internalError, "settle: the settle list did not empty")
    }
}
