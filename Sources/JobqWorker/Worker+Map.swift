import JobqCore

/// The built-in `jobq.map` (a mapped task, docs/workflow-files.md "Map"): expand the task into a
/// child run with one task per element and wait for it as `jobq.run` does.
extension Worker {
    /// Resolves the map's references (its `over` list, and any `!retval` in the template), then:
    /// not a list → FAILED `map_not_list`; empty → SKIPPED with `[]`; over the width cap → FAILED
    /// `map_too_wide`; else starts the child run (idempotently: a re-run finds the run it
    /// started) and completes as waiting for it, with the marker that the run's end stores as
    /// the task's result (``MappedResult``). The child run's submission goes through
    /// `TaskStore.submit`, like any run's.
    func startMap(_ claimed: ClaimedTask) async -> RunOutcome {
        let payload: [UInt8]
        do {
            payload = try await store.resolveRetvals(in: claimed.payload, prerequisites: claimed.prerequisites, scope: RunScope.run(of: claimed.id))
        } catch {
            return OutcomeRules.prerequisitesUnreadable(claimed, error)
        }
        let final = { (reason: String, message: String) in
            RunOutcome.failure(Failure(lease: claimed.lease, mode: .final, reason: reason, message: message))
        }
        do {
            let request = try MapRequest.decode(payload)
            switch try request.expansion() {
            case .notList(let what):
                return final("map_not_list", "map `over` is \(what), not a list")
            case .empty:
                return .completion(Completion(lease: claimed.lease, result: Array("[]".utf8), skipped: true))
            case .tooWide(let count):
                return final("map_too_wide", "map `over` has \(count) elements, more than its width cap of \(request.width)")
            case .children(let children, let count):
                let child = try await store.startChildRun(children, parent: claimed.id)
                return .completion(Completion(lease: claimed.lease, result: MappedResult.marker(run: child, count: count), awaitRun: child))
            }
        } catch where error.code == .tooManyTasks {
            // a width over what one submission takes on this installation (Limits.maxTasksPerSubmission)
            return final("map_too_wide", "the map's child run is refused: \(error.message)")
        } catch where error.code == .invalidPayload || error.code == .invalidOption || error.code == .invalidName {
            return final("bad_payload", error.message)
        } catch where error.code == .runExists {
            return final("child_run_taken", error.message)
        } catch {
            return .failure(Failure(lease: claimed.lease, mode: .retry(delay: claimed.backoff.delay(afterAttempt: claimed.attempt)), reason: "error", message: "could not start the map's child run: \(error.message)"))
        }
    }

    /// The claimed task's mapped prerequisites' results, expanded (none: no I/O).
    func mappedResults(of claimed: ClaimedTask) async throws(JobqError) -> [String: [UInt8]] {
        var expanded: [String: [UInt8]] = [:]
        for prerequisite in claimed.prerequisites where MappedResult.parse(prerequisite.result) != nil {
            expanded[prerequisite.id] = try await store.expandMapped(prerequisite.result)
        }
        return expanded
    }
}
