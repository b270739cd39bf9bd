/// Per-item answers of the batch lease scripts (heartbeat, complete, fail): a positive code the
/// script defines, or one of the refusals of ``ScriptCode``.
extension ScriptReply {
    /// Reads the status (it must be OK) and skips `header` more elements.
    package mutating func expectOK(skipping header: [String] = []) throws(JobqError) {
        let code = try self.code()
        guard code == .ok else { throw code.error(subject: nil, detail: details()) }
        for what in header { _ = try int(what) }
    }

    /// Reads exactly `count` per-item codes; `outcome` maps the positive ones.
    package mutating func itemOutcomes(count: Int, _ outcome: (Int) -> LeaseWriteOutcome?) throws(JobqError) -> [LeaseWriteOutcome] {
        guard remaining == count else { throw malformed("\(remaining) item codes for \(count) items") }
        var outcomes: [LeaseWriteOutcome] = []
        outcomes.reserveCapacity(count)
        for index in 0..<count {
            let raw = try int("item \(index)")
            if let success = outcome(raw) {
                outcomes.append(success)
                continue
            }
            switch ScriptCode(rawValue: raw) {
            case .notFound: outcomes.append(.refused(.notFound))
            case .wrongState: outcomes.append(.refused(.invalidState))
            case .staleToken: outcomes.append(.refused(.staleToken))
            case .invalidArgument: throw malformed("item \(index): the script rejected its arguments")
            default: throw malformed("item \(index): unknown code \(raw)")
            }
        }
        return outcomes
    }
}
