import JobqRedis

/// `jobq doctor`: finds records and indexes that disagree, and repairs them.
///
/// Finding is plain reads (SCAN over `t:*`, pipelined HMGETs, the indexes); every candidate is
/// then confirmed by the doctor script in `check` mode, atomically, and a repair runs the same
/// script in `repair` mode, which checks again before writing, so a task that moved on since the
/// scan is never clobbered. Nothing here is needed in normal operation: it is for records
/// damaged by hand, by eviction, by a partial restore, or by a bug.
extension Maintenance {
    /// Scans the namespace and reports every inconsistency; changes nothing. The
    /// concurrency-limit counts are recounted while at most `limitCap` tasks run (and keys are
    /// counted or parked): ``LimitCountCheck/defaultCap``; tests pass a smaller one.
    package func diagnose(limitCap: Int = LimitCountCheck.defaultCap) async throws(JobqError) -> DoctorReport {
        do {
            var report = try await DoctorScan(maintenance: self).run()
            report.limits = try await runner.run(DoctorLimitsCall(mode: .check, cap: limitCap))
            return report
        } catch let error as JobqError {
            throw error
        } catch {
            throw JobqError(translating: error, doing: "doctor", isWrite: false)
        }
    }

    /// Repairs the problems of `report` (from ``diagnose()``), most fundamental first: corrupt
    /// records, leases, stale entries, then pending tasks. Returns the report with each
    /// problem's ``DoctorReport/Problem/outcome`` filled in.
    package func repair(_ report: DoctorReport) async throws(JobqError) -> DoctorReport {
        var repaired = report
        let outcomes = try await doctor(mode: .repair, report.problems.map(DoctorItem.init(problem:)))
        for index in repaired.problems.indices { repaired.problems[index].outcome = outcomes[index] }
        // Repairs that failed or cancelled a task leave any cascade beyond one call's budget on the
        // settle list: finish it, so the namespace is consistent when this returns.
        try await runner.settleAll()
        repaired.limits = try await repairLimits(report.limits)
        return repaired
    }

    /// The concurrency-limit counts, after the task repairs (a RUNNING task re-indexed in
    /// `leases` counts): recounted and written in one call (which checks again, so only what is
    /// still wrong is written), then the old-format keys migrated in bounded calls, after the
    /// recount so the free slots they wake by are exact. Above the cap no count is changed; the
    /// old-format keys are migrated all the same (their parked tasks would otherwise wait for
    /// good), waking by the stored counts: a task woken too many is parked again by its claim.
    private func repairLimits(_ checked: LimitCountCheck) async throws(JobqError) -> LimitCountCheck {
        var result = checked
        let done = try await runner.run(DoctorLimitsCall(mode: checked.recounted ? .repair : .check, cap: checked.cap))
        if !checked.recounted || !done.recounted {
            // above the cap (or grown past it since the check): nothing was written
            result.recounted = false
            (result.runningTasks, result.countedKeys, result.parkedKeys) = (done.runningTasks, done.countedKeys, done.parkedKeys)
            return try await migrateLegacyLimits(result, found: done.legacyKeys)
        }
        let fixed = Dictionary(done.problems.map { ($0.key, $0.fix) }, uniquingKeysWith: { first, _ in first })
        for index in result.problems.indices { result.problems[index].outcome = fixed[result.problems[index].key] ?? "ok" }
        let known = Set(checked.problems.map(\.key))
        for var problem in done.problems where !known.contains(problem.key) {
            problem.outcome = problem.fix
            result.problems.append(problem)
        }
        return try await migrateLegacyLimits(result, found: done.legacyKeys)
    }

    /// The old-format keys (before 2026-12-07), `legacyBatch` per script call.
    private func migrateLegacyLimits(_ check: LimitCountCheck, found: Int) async throws(JobqError) -> LimitCountCheck {
        guard found > 0 else { return check }
        var result = check
        var migrated = 0
        var indexed = 0
        // Bounded: each call takes up to `legacyBatch` keys off the set; the margin only guards
        // against a writer of the old format still running (an old version's claim adds keys).
        for _ in 0..<(found / LimitCountCheck.legacyBatch + 10) {
            let step = try await runner.run(DoctorLegacyLimitsCall(mode: .repair, batch: LimitCountCheck.legacyBatch))
            migrated += step.taken
            indexed += step.indexed
            if step.left == 0 || step.taken == 0 { break }
        }
        result.legacyKeys = max(result.legacyKeys, found, migrated)
        result.legacyMigrated = migrated
        result.legacyIndexed = indexed
        return result
    }

    /// Deletes the script libraries of other jobq versions (``Inspector/otherScriptLibraries()``)
    /// with `FUNCTION DELETE`; returns those that are gone afterwards (one deleted meanwhile by
    /// another doctor included). Safe while workers of those versions still run: their next call
    /// finds its function missing and loads the library again (RedisClient.callFunction).
    package func deleteScriptLibraries(_ names: [String]) async throws(JobqError) -> [String] {
        let candidates = names.filter { Scripts.isJobqLibrary($0) && $0 != Scripts.library.name }
        guard !candidates.isEmpty else { return [] }
        for name in candidates {
            do {
                _ = try await runner.redis.send(RedisCommand("FUNCTION", ["DELETE", RedisArgument(name)]))
            } catch let error as RedisError where error.code == .server && error.serverError?.prefix != "NOPERM" {
                // "Library not found": gone meanwhile; the list read below says what is left
            } catch {
                throw JobqError(translating: error, doing: "delete old script libraries", isWrite: true)
            }
        }
        let left = Set(try await Inspector(runner: runner).otherScriptLibraries() ?? [])
        return candidates.filter { !left.contains($0) }
    }

    /// Diagnoses and repairs in one call.
    package func repair() async throws(JobqError) -> DoctorReport {
        try await repair(try await diagnose())
    }

    /// Runs the doctor script for `items`, grouped by action in repair order, in batches; returns
    /// one answer per item, in the order given.
    func doctor(mode: DoctorMode, _ items: [DoctorItem]) async throws(JobqError) -> [String] {
        var answers = [String](repeating: "ok", count: items.count)
        for action in DoctorItem.Action.allCases {
            let positions = items.indices.filter { items[$0].action == action }
            var start = 0
            while start < positions.count {
                let batch = Array(positions[start..<min(start + 200, positions.count)])
                let batchAnswers = try await runner.run(DoctorCall(mode: mode, action: action, items: batch.map { items[$0] }))
                for (offset, position) in batch.enumerated() { answers[position] = batchAnswers[offset] }
                start += batch.count
            }
        }
        return answers
    }
}

/// One doctor script item: an action and its arguments.
package struct DoctorItem: Sendable, Hashable {
    /// In repair order: corrupt records first (failing one settles its dependents), pending last.
    package enum Action: String, CaseIterable, Sendable {
        case corrupt, lease, ready, index, pending
    }

    let action: Action
    /// `ready`: the queue; `index`: the index name (`leases`, `waiting`, `delayed`, a terminal state).
    let location: String?
    let task: String
    let kind: DoctorReport.Problem.Kind

    package init(_ action: Action, _ task: String, location: String? = nil, kind: DoctorReport.Problem.Kind) {
        self.action = action
        self.task = task
        self.location = location
        self.kind = kind
    }

    init(problem: DoctorReport.Problem) {
        self.init(problem.action, problem.task, location: problem.argument, kind: problem.kind)
    }

    /// How the report names the place: `q:<queue>`, `leases`, `waiting`, `delayed`, `s:<STATE>`.
    var reportedLocation: String? {
        switch action {
        case .ready: location.map { "q:" + $0 }
        case .index: location.map { ["leases", "waiting", "delayed"].contains($0) ? $0 : "s:" + $0 }
        case .corrupt, .lease, .pending: nil
        }
    }
}

/// The read-only scan behind ``Coordinator/diagnose()``.
private struct DoctorScan {
    let maintenance: Maintenance
    var keys: Keyspace { maintenance.runner.keys }
    var redis: RedisClient { maintenance.runner.redis }

    /// The fields of a task record the checks need.
    struct Record {
        var state: String?
        var queue: String?
        var usableSpec: Bool
        var depsTotal: Int
        /// Absent means 0 (submit writes it only when there is something to wait for); nil: garbage.
        var depsLeft: Int?
        var lease: Int64
        var hasPayload: Bool

        var isTerminal: Bool { state.flatMap(TaskState.init(rawValue:))?.isTerminal ?? false }
        /// The same test as the prelude's `unusable`, for records that have not ended.
        var isCorrupt: Bool {
            guard !isTerminal else { return false }
            return state.flatMap(TaskState.init(rawValue:)) == nil || !usableSpec || !hasPayload
        }
    }

    func run() async throws -> DoctorReport {
        let ids = try await taskIDs()
        var records: [String: Record] = [:]
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let page = Array(ids[start..<min(start + 1000, ids.count)])
            var commands: [RedisCommand] = []
            for id in page {
                commands.append(RedisCommand("HMGET", [RedisArgument(keys.task(id)), "state", "spec", "deps_left", "lease"]))
                commands.append(RedisCommand("HEXISTS", [RedisArgument(keys.task(id)), "payload"]))
            }
            let replies = try await pipeline(commands)
            for (offset, id) in page.enumerated() {
                let fields = replies[2 * offset].array ?? []
                func text(_ index: Int) -> String? { index < fields.count ? fields[index].string : nil }
                let spec = text(1).flatMap(PackedSpec.init)
                records[id] = Record(
                    state: text(0), queue: spec?.queue, usableSpec: spec?.maxAttempts != nil, depsTotal: spec?.prerequisiteCount ?? 0,
                    depsLeft: text(2).map { Int($0) } ?? 0, lease: text(3).flatMap { Int64($0) } ?? 0,
                    hasPayload: replies[2 * offset + 1].int == 1
                )
            }
        }

        // The indexes, and the current state of ids they hold that the scan did not see.
        let leases = try await members(keys.leases)
        let waiting = try await members(keys.waiting)
        let delayed = try await members(keys.delayed)
        var ended: [TaskState: [String]] = [:]
        for state in TaskState.terminal { ended[state] = try await members(keys.ended(state)) }
        var queueNames = Set((try await redis.send(RedisCommand("SMEMBERS", [RedisArgument(keys.queues)])).array ?? []).compactMap(\.string))
        queueNames.formUnion(records.values.compactMap(\.queue))
        var ready: [String: [String]] = [:]
        // Every lane of a queue (new work at each priority in use, recovered, quarantine) holds
        // dispatched ids.
        let sortedQueues = queueNames.sorted()
        for (queue, lanes) in zip(sortedQueues, try await Inspector(runner: maintenance.runner).lanes(of: sortedQueues)) {
            var ids: [String] = []
            for lane in lanes { ids += try await members(lane, command: "LRANGE") }
            ready[queue] = ids
        }
        let indexed = leases + waiting + delayed + ended.values.joined() + ready.values.joined()
        var states = records.mapValues(\.state)
        try await fetchStates(Array(Set(indexed.filter { states[$0] == nil })), into: &states)

        var candidates: [DoctorItem] = []
        let leased = Set(leases)
        for (id, record) in records.sorted(by: { $0.key < $1.key }) {
            if record.isCorrupt {
                candidates.append(DoctorItem(.corrupt, id, kind: .corruptRecord))
            } else if record.state == "RUNNING", record.lease <= 0 || !leased.contains(id) {
                candidates.append(DoctorItem(.lease, id, kind: .runningWithoutLease))
            }
        }
        for id in leases where states[id] != "RUNNING" {
            candidates.append(DoctorItem(.index, id, location: "leases", kind: .staleLeaseEntry))
        }
        for (name, members, expected) in [("waiting", waiting, "PENDING"), ("delayed", delayed, "PENDING")] + ended.map({ ($0.key.rawValue, $0.value, $0.key.rawValue) }) {
            for id in members where states[id] != expected {
                candidates.append(DoctorItem(.index, id, location: name, kind: .staleIndexEntry))
            }
        }
        for (queue, members) in ready.sorted(by: { $0.key < $1.key }) {
            for id in Set(members).sorted() where states[id] != "PENDING" {
                candidates.append(DoctorItem(.ready, id, location: queue, kind: .staleReadyEntry))
            }
        }
        candidates += try await pendingCandidates(
            records: records, states: states, waiting: Set(waiting), delayed: Set(delayed), ready: ready.mapValues(Set.init)
        )

        // Confirm each candidate atomically; keep those the script would change.
        let answers = try await maintenance.doctor(mode: .check, candidates)
        var problems: [DoctorReport.Problem] = []
        for (item, answer) in zip(candidates, answers) where answer != "ok" {
            problems.append(DoctorReport.Problem(
                kind: item.kind, task: item.task, location: item.reportedLocation, fix: answer, action: item.action, argument: item.location
            ))
        }
        return DoctorReport(tasksScanned: records.count, problems: problems)
    }

    /// PENDING tasks whose counter, dispatch or `waiting` entry disagrees with their prerequisites.
    private func pendingCandidates(
        records: [String: Record], states: [String: String?], waiting: Set<String>, delayed: Set<String>, ready: [String: Set<String>]
    ) async throws -> [DoctorItem] {
        let pending = records.filter { $0.value.state == "PENDING" && !$0.value.isCorrupt }.keys.sorted()
        let withDeps = pending.filter { (records[$0]?.depsTotal ?? 0) > 0 }
        var edges: [String: [(String, String)]] = [:]
        for start in stride(from: 0, to: withDeps.count, by: 1000) {
            let page = Array(withDeps[start..<min(start + 1000, withDeps.count)])
            let replies = try await pipeline(page.map { RedisCommand("HGETALL", [RedisArgument(keys.prerequisites($0))]) })
            for (id, reply) in zip(page, replies) {
                edges[id] = ScriptRunner.hash(reply).map { ($0.key, String(decoding: $0.value, as: UTF8.self)) }
            }
        }
        var states = states
        try await fetchStates(Array(Set(edges.values.joined().map(\.0).filter { states[$0] == nil })), into: &states)

        var items: [DoctorItem] = []
        for id in pending {
            guard let record = records[id] else { continue }
            var left = 0
            var doomed = false
            for (prerequisite, policy) in edges[id] ?? [] {
                switch (states[prerequisite] ?? nil) ?? "GONE" {
                case "FAILED", "CANCELLED": if policy != "always" { doomed = true }
                case "DONE", "GONE": break
                default: left += 1
                }
            }
            let dispatched = delayed.contains(id) || ready[record.queue ?? ""]?.contains(id) == true
            let kind: DoctorReport.Problem.Kind? =
                if doomed { .dependencyFailed }
                else if record.depsLeft != left { .wrongDepsLeft }
                else if left == 0 && !dispatched { .stranded }
                else if left == 0 && waiting.contains(id) { .staleIndexEntry }
                else if left > 0 && !waiting.contains(id) { .notWaiting }
                else { nil }
            if let kind { items.append(DoctorItem(.pending, id, kind: kind)) }
        }
        return items
    }

    /// Ids of task records: SCAN over `t:*` hashes, auxiliary keys (`t:<id>:deps`…) left out.
    private func taskIDs() async throws -> [String] {
        let prefix = keys.task("")
        var ids: [String] = []
        var cursor = "0"
        // Bounded: SCAN ends when the cursor comes back to 0; the bound only guards a server bug.
        for _ in 0..<10_000_000 {
            let reply = try await redis.send(RedisCommand("SCAN", [
                RedisArgument(cursor), "MATCH", RedisArgument(Self.escapeGlob(prefix) + "*"), "COUNT", 1000, "TYPE", "hash",
            ]))
            let parts = reply.array ?? []
            guard parts.count == 2, let next = parts[0].string else {
                throw JobqError(.internalError, "doctor: unexpected SCAN reply \(reply)")
            }
            for key in parts[1].array ?? [] {
                guard let name = key.string, name.hasPrefix(prefix) else { continue }
                let id = String(name.dropFirst(prefix.count))
                if !id.isEmpty && !id.contains(":") { ids.append(id) }
            }
            cursor = next
            if cursor == "0" { break }
        }
        return Array(Set(ids)).sorted()  // SCAN may return a key twice
    }

    /// A glob pattern that matches `text` literally (the namespace's `{`/`}` are not special to
    /// Redis globs, but `[`, `?`, `*` and `\` would be).
    static func escapeGlob(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "*?[]\\".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// `commands` in one round trip; an error reply (NOPERM, WRONGTYPE…) is thrown, not skipped.
    private func pipeline(_ commands: [RedisCommand]) async throws -> [RedisValue] {
        let replies = try await redis.pipeline(commands)
        for reply in replies { try reply.throwIfError() }
        return replies
    }

    /// Every member of a sorted set (or, with `LRANGE`, a list), in pages of 1,000: each read
    /// stays well under a millisecond of Redis time, like every script call (bounded work).
    private func members(_ key: String, command: String = "ZRANGE") async throws -> [String] {
        var members: [String] = []
        let page = 1000
        var offset = 0
        while true {
            let reply = try await redis.send(RedisCommand(command, [RedisArgument(key), RedisArgument(offset), RedisArgument(offset + page - 1)]))
            let chunk = (reply.array ?? []).compactMap(\.string)
            members += chunk
            if chunk.count < page { return members }
            offset += page
        }
    }

    /// The current `state` of `ids` (nil for gone), pipelined.
    private func fetchStates(_ ids: [String], into states: inout [String: String?]) async throws {
        for start in stride(from: 0, to: ids.count, by: 1000) {
            let page = Array(ids[start..<min(start + 1000, ids.count)])
            let replies = try await pipeline(page.map { RedisCommand("HGET", [RedisArgument(keys.task($0)), "state"]) })
            for (id, reply) in zip(page, replies) { states[id] = .some(reply.string) }
        }
    }
}
