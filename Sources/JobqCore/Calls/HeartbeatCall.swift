import JobqRedis

/// heartbeat.lua: extend the leases a worker holds.
package struct HeartbeatCall: ScriptCall {
    package static var script: RedisScript { Scripts.heartbeat }

    package var worker: String
    package var lease: Duration
    package var leases: [TaskLease]

    package var arguments: [RedisArgument] {
        var arguments: [RedisArgument] = [RedisArgument(worker), RedisArgument(Int(lease.jobqMilliseconds))]
        arguments.reserveCapacity(2 + leases.count * 2)
        for held in leases { arguments += [RedisArgument(held.id), RedisArgument(held.token)] }
        return arguments
    }

    /// `{1, deadline, code per lease}`: each code one of ``HeartbeatItemCode`` or a refusal.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> [LeaseWriteOutcome] {
        try reply.expectOK(skipping: ["deadline"])
        return try reply.itemOutcomes(count: leases.count) { raw in
            switch HeartbeatItemCode(rawValue: raw) {
            case .extended: .extended
            case .cancelRequested: .cancelRequested
            case nil: nil
            }
        }
    }
}
