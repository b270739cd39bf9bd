import JobqRedis

extension TaskStore {
    /// A run larger than ``Limits/tasksPerSubmitCall`` goes in several submit.lua calls, so that
    /// no call holds Redis long (docs/scripts.md, "submit"; docs/guarantees.md).
    ///
    /// The first call creates the run marked `building` (it cannot end meanwhile) and holds every
    /// task whose acceptance depends on what Redis holds — a unique key (refused whole with
    /// `unique_held`), a prerequisite outside the run (`unknown_dependency`) — with the tasks of
    /// the run they wait for: so every refusal but a race comes before anything is written. The
    /// following calls append tasks in dependency order (a prerequisite is always in an earlier
    /// call or the same one); the last seals the run. A later call that fails (the run cancelled
    /// or given up meanwhile, a lost connection) leaves the run to end as documented: this
    /// process seals what was written and cancels it, and the maintenance pass gives up a run
    /// left open by a process that died (reason `submit_abandoned`).
    func submitInChunks(_ call: SubmitCall) async throws(JobqError) -> SubmitResult {
        let ordered = Self.chunkOrder(call.items)
        let size = runner.limits.tasksPerSubmitCall
        var bounds: [Range<Int>] = []
        var start = 0
        while start < ordered.items.count {
            // the first call holds at least the tasks that must be checked before any write
            let end = start == 0 ? max(ordered.firstCount, min(size, ordered.items.count)) : min(start + size, ordered.items.count)
            bounds.append(start..<end)
            start = end
        }
        var states: [String: TaskState?] = [:]
        states.reserveCapacity(ordered.items.count)
        var first: SubmitResult?
        for (n, range) in bounds.enumerated() {
            var part = call
            part.items = Array(ordered.items[range])
            part.chunk = n == 0 ? .first : (n == bounds.count - 1 ? .last : .more)
            if part.chunk == .more { part.idempotencyKey = nil }
            let result: SubmitResult
            do {
                result = try await runner.run(part)
            } catch {
                if n > 0, let run = call.workflow { await abandonChunks(run: run) }
                throw error
            }
            if n == 0 {
                first = result
                // a replay of an idempotent submission: nothing more to send
                if !result.created { return result }
            }
            for task in result.tasks { states[task.id] = task.state }
        }
        guard let first else { throw JobqError(.internalError, "a chunked submission sent nothing") }
        // in the caller's order, as one call answers
        return SubmitResult(created: first.created, tasks: call.items.map { SubmittedTask(id: $0.id, state: states[$0.id] ?? nil) },
                            workflow: first.workflow, run: first.run, outcome: first.outcome)
    }

    /// A chunked submission that failed after its first call: the run is cancelled and sealed
    /// (best effort; the maintenance pass is the backstop), so it ends CANCELLED with what it got.
    private func abandonChunks(run: String) async {
        _ = try? await cancel(workflow: run, message: "its submission failed before every task was sent")
        var seal = SubmitCall(items: [], workflow: run, run: RunOptions(id: run, definition: "-"), idempotencyKey: nil,
                              fingerprint: "", idempotencyWindow: idempotencyWindow)
        seal.chunk = .last
        _ = try? await runner.run(seal)
    }

    /// The submission order of a chunked run: the tasks that must be checked before anything is
    /// written (``firstCount`` of them: a unique key, a prerequisite outside the run, and what
    /// they wait for in the run) first, then the rest, every task after its prerequisites
    /// (iterative depth-first post-order: a chain of 50,000 needs no recursion).
    static func chunkOrder(_ items: [SubmitCall.Item]) -> (items: [SubmitCall.Item], firstCount: Int) {
        var index: [String: Int] = [:]
        index.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { index[item.id] = i }
        var placed = [Bool](repeating: false, count: items.count)
        var order: [Int] = []
        order.reserveCapacity(items.count)
        func place(from root: Int) {
            guard !placed[root] else { return }
            var stack: [(node: Int, next: Int)] = [(root, 0)]
            placed[root] = true
            while let top = stack.last {
                let prerequisites = items[top.node].spec.prerequisites
                if top.next < prerequisites.count {
                    stack[stack.count - 1].next += 1
                    if let p = index[prerequisites[top.next].id], !placed[p] {
                        placed[p] = true
                        stack.append((p, 0))
                    }
                } else {
                    order.append(top.node)
                    stack.removeLast()
                }
            }
        }
        for (i, item) in items.enumerated()
        where !item.unique.isEmpty || item.spec.prerequisites.contains(where: { index[$0.id] == nil }) {
            place(from: i)
        }
        let firstCount = order.count
        for i in items.indices { place(from: i) }
        return (order.map { items[$0] }, firstCount)
    }
}
