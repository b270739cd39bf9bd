import JobqRedis

extension TaskStore {
    /// Up to `limit` of the task's dependents (id → policy, from `t:<id>:next`) and how many it
    /// has, in one round trip: HRANDFIELD bounds the reply whatever the fan-out. A dependent whose
    /// settling is in progress (`t:<id>:settle`) is not listed.
    package func dependents(of id: String, limit: Int) async throws(JobqError) -> (dependents: [Prerequisite], total: Int) {
        try Validation.check(taskID: id)
        let key = RedisArgument(runner.keys.dependents(id))
        let replies = try await runner.pipeline([
            RedisCommand("HLEN", [key]),
            RedisCommand("HRANDFIELD", [key, RedisArgument(max(limit, 1)), RedisArgument("WITHVALUES")]),
        ], doing: "read dependents")
        let dependents = ScriptRunner.hash(replies[1])
            .map { Prerequisite($0.key, policy: DependencyPolicy(rawValue: String(decoding: $0.value, as: UTF8.self)) ?? .success) }
            .sorted { $0.id < $1.id }
        return (dependents, replies[0].int ?? dependents.count)
    }
}
