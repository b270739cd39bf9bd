import JobqRedis

/// doctor.lua, action `limits`: the concurrency-limit counts recomputed from the RUNNING tasks
/// in one call (checked, or with mode `repair` written), while at most `cap` run.
package struct DoctorLimitsCall: ScriptCall {
    package static var script: RedisScript { Scripts.doctor }

    package var mode: DoctorMode
    package var cap: Int

    package var arguments: [RedisArgument] { [RedisArgument(mode.rawValue), "limits", RedisArgument(cap)] }

    /// `{1, recounted, running tasks, fields, parked keys, legacy keys, (kind key stored actual limit parked fix)*}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> LimitCountCheck {
        try reply.expectOK()
        let recounted = try reply.flag("recounted")
        var check = LimitCountCheck(
            recounted: recounted, runningTasks: try reply.int("running tasks"), countedKeys: try reply.int("fields"),
            parkedKeys: try reply.int("parked keys"), cap: cap
        )
        check.legacyKeys = try reply.int("legacy keys")
        guard reply.remaining % 7 == 0 else { throw reply.malformed("\(reply.remaining) values for findings of 7") }
        while reply.remaining > 0 {
            let word = try reply.string("kind")
            let kind: LimitCountCheck.Problem.Kind = switch word {
            case "drift": .drift
            case "unindexed": .unindexed
            case "leftover": .leftover
            default: throw reply.malformed("kind \(word)")
            }
            let key = try reply.string("key")
            let stored = try reply.int("stored")
            let actual = try reply.int("actual")
            let limit = try reply.int("limit")
            check.problems.append(LimitCountCheck.Problem(
                kind: kind, key: key, stored: stored, actual: actual, limit: limit > 0 ? limit : nil,
                parked: try reply.int("parked"), fix: try reply.string("fix")
            ))
        }
        return check
    }
}

/// doctor.lua, action `legacy`: counts (check) or migrates (repair) up to `batch` concurrency
/// keys of the format before 2026-12-07.
package struct DoctorLegacyLimitsCall: ScriptCall {
    package static var script: RedisScript { Scripts.doctor }

    package var mode: DoctorMode
    package var batch: Int

    package var arguments: [RedisArgument] { [RedisArgument(mode.rawValue), "legacy", RedisArgument(batch)] }

    /// `{1, keys taken, keys left, keys indexed}`.
    package func decode(_ reply: inout ScriptReply) throws(JobqError) -> (taken: Int, left: Int, indexed: Int) {
        try reply.expectOK()
        let result = (taken: try reply.int("taken"), left: try reply.int("left"), indexed: try reply.int("indexed"))
        try reply.end()
        return result
    }
}
