/// Result passing (jobcontrol's `!retval`): see ``RetvalReferences`` for the wire form.
extension TaskStore {
    /// The payload a handler should see: references resolved from the claimed prerequisites'
    /// results, and, for transitive prerequisites, from their task records (one read).
    ///
    /// A reference to a task that did not end DONE or SKIPPED (an `always` or `failure` edge), or whose record has
    /// expired, becomes `null`. A payload without references is returned as is, without I/O.
    /// `scope` is the run of the task whose payload it is: a bare key (`{"$retval": "fetch"}`)
    /// names a task of that run (``RunScope/resolve(_:within:)``).
    package func resolveRetvals(in payload: [UInt8], prerequisites: [PrerequisiteOutcome], scope: String?) async throws(JobqError) -> [UInt8] {
        let references = RetvalReferences.find(in: payload)
        guard !references.isEmpty else { return payload }
        var byID: [String: [UInt8]] = [:]
        for prerequisite in prerequisites where prerequisite.state?.isSuccessLike == true {
            byID[prerequisite.id] = prerequisite.result
        }
        let direct = Set(prerequisites.map(\.id))
        let resolved = Dictionary(references.map { ($0.id, RunScope.resolve($0.id, within: scope)) }) { first, _ in first }
        let missing = Array(Set(resolved.values).subtracting(direct)).sorted()
        if !missing.isEmpty {
            for (id, info) in zip(missing, try await tasks(missing)) where info?.state?.isSuccessLike == true {
                byID[id] = info?.result ?? []
            }
        }
        // a mapped task's result is a marker: its children's results, read in pages, in order
        for (id, bytes) in byID where MappedResult.parse(bytes) != nil {
            byID[id] = try await expandMapped(bytes)
        }
        // keyed by the reference as written, which is what substitute looks up
        var results: [String: [UInt8]] = [:]
        for (reference, id) in resolved { results[reference] = byID[id] }
        return RetvalReferences.substitute(in: payload, results: results)
    }
}
