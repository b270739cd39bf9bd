/// How far a mapped task has got (`jobq status`, `show`, `watch`): from its child run's
/// per-state counters (the record ``Snapshot`` and `status` read for any child run).
package enum MapProgress {
    /// Children that ended well (DONE or SKIPPED) and badly (FAILED or CANCELLED).
    package static func ended(_ run: RunInfo?) -> (done: Int, failed: Int) {
        guard let run else { return (0, 0) }
        return ((run.counts[.done] ?? 0) + (run.counts[.skipped] ?? 0), (run.counts[.failed] ?? 0) + (run.counts[.cancelled] ?? 0))
    }

    /// "mapped: 420 of 10000 children done (run R)", with the failed ones when there are.
    package static func text(count: Int, run: RunInfo?, id: String) -> String {
        let (done, failed) = ended(run)
        return "mapped: \(done) of \(count) children done" + (failed > 0 ? ", \(failed) failed" : "") + " (run \(id))"
    }

    package static func json(count: Int, run: RunInfo?, id: String) -> JSONValue {
        let (done, failed) = ended(run)
        return .object([("run", .string(id)), ("count", .int(count)), ("done", .int(done)), ("failed", .int(failed))])
    }
}
