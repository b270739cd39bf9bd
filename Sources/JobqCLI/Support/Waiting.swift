import Jobq
import JobqCore

/// Waiting on the event stream, shared by `wait` and `watch`.
enum Waiting {
    /// Returns the snapshot once every task has ended. Throws `timeout`.
    static func until(finished target: Target, client: JobqClient, timeout: Duration?) async throws(JobqError) -> Snapshot {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        var stream = try await EventStream.open(client)
        var snapshot = try await Snapshot.load(target, client: client)
        var loaded = clock.now
        while !snapshot.isFinished {
            var block: Duration = .seconds(5)
            if let deadline {
                let left = deadline - clock.now
                guard left > .zero else {
                    throw JobqError(
                        .timeout,
                        "\(target.name) has not finished after \(DurationText.format(timeout ?? .zero)) (\(snapshot.summary.description)); wait longer, or look with: jobq status \(target.name)",
                        subject: target.name
                    )
                }
                block = min(block, left)
            }
            let touched = try await stream.next(block: block)
            // Reload when one of ours moved; now and then anyway (tasks can join a workflow later).
            if touched.isEmpty || !touched.isDisjoint(with: snapshot.ids) || clock.now - loaded > .seconds(5) {
                snapshot = try await Snapshot.load(target, client: client)
                loaded = clock.now
            }
        }
        return snapshot
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
