import JobqCore

extension JobqError {
    /// `run_exists` for `run`, when this error is a taken task id of that run.
    ///
    /// A task id `RUN/KEY` exists only because run RUN was submitted, but the engine checks a
    /// batch's task ids before the run's id, so submitting a run id that is taken comes back as
    /// `duplicate_id` for one of its tasks. Say what was refused: the run id (`--run`).
    func runExists(_ run: String) -> JobqError? {
        guard code == .duplicateID, let subject, RunScope.run(of: subject) == run else { return nil }
        return JobqError(.runExists, "a run with id \(run) already exists; choose another --run id or omit it to get a generated one", subject: run)
    }
}
