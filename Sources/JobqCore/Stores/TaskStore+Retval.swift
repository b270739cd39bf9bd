/// Result passing (jobcontrol's `!retval`): see ``RetvalReferences`` for the wire form.
extension TaskStore {
    /// The payload a handler should see: references resolved from the claimed prerequisites'
    /// results, and, for transitive prerequisites, from their task records (one read).
    ///
    /// A reference to a task that did not end DONE or SKIPPED (an `always` or `failure` edge), or whose record has
    /// expired, becomes `null`. A payload without references is returned as is, without I/O.
    package func resolveRetvals(in payload: [UInt8], prerequisites: [PrerequisiteOutcome]) async throws(JobqError) -> [UInt8] {
        let references = RetvalReferences.find(in: payload)
        guard !references.isEmpty else { return payload }
        var results: [String: [UInt8]] = [:]
        for prerequisite in prerequisites where prerequisite.state?.isSuccessLike == true {
            results[prerequisite.id] = prerequisite.result
        }
        let direct = Set(prerequisites.map(\.id))
        let missing = Array(Set(references.map(\.id)).subtracting(direct)).sorted()
        if !missing.isEmpty {
            for (id, info) in zip(missing, try await tasks(missing)) where info?.state?.isSuccessLike == true {
                results[id] = info?.result ?? []
            }
        }
        return RetvalReferences.substitute(in: payload, results: results)
    }
}
