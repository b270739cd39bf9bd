import Jobq
import JobqCore

/// Waiting on the event stream, shared by `wait` and `watch`.
enum Waiting {
    /// Returns the snapshot once every task has ended. Throws `timeout`. The loop (and its
    /// reconnection after a Redis restart) is the library's ``JobqClient/follow``.
    static func until(finished target: Target, client: JobqClient, timeout: Duration?) async throws(JobqError) -> Snapshot {
        switch try await follow(target, client: client, timeout: timeout) {
        case .finished(let snapshot):
            return snapshot
        case .timedOut(let snapshot):
            throw JobqError(
                .timeout,
                "\(target.name) has not finished after \(DurationText.format(timeout ?? .zero)) (\(snapshot.summary.description)); wait longer, or look with: jobq status \(target.name)",
                subject: target.name
            )
        }
    }

    /// Follows `target`'s snapshots until every task has ended or `timeout` passes; `onEach`
    /// sees each snapshot (watch draws it), `block` says how long to sleep on the stream.
    static func follow(
        _ target: Target, client: JobqClient, timeout: Duration?,
        block: (Snapshot) -> Duration = { _ in .seconds(5) },
        onEach: (Snapshot) -> Void = { _ in }
    ) async throws(JobqError) -> JobqClient.FollowOutcome<Snapshot> {
        try await client.follow(
            timeout: timeout,
            load: { () throws(JobqError) -> Snapshot in try await Snapshot.load(target, client: client) },
            isFinished: { $0.isFinished },
            concerns: { snapshot, touched in !touched.isDisjoint(with: snapshot.ids) },
            block: block,
            onEach: onEach
        )
    }

    static func printOutcome(_ snapshot: Snapshot, json: Bool) {
        if json {
            Console.out(snapshot.json().rendered(pretty: Terminal.current.isTTY))
            return
        }
        switch snapshot.target {
        case .task:
            guard let task = snapshot.tasks.first else { return }
            let terminal = Terminal.current
            Console.out("\(task.id) \(terminal.paint(state: task.state))  \(snapshot.detail(of: task))")
        case .workflow:
            WorkflowTable.print(snapshot)
        }
    }
}
