// docs/flow-control.md, "Backpressure": the snippet, verbatim (compiled, not run), inside a
// handler because only main.swift may hold top-level code.
import Jobq
import JobqWorker

struct Charge: Codable { var tenant: Int }

func registerCharge(in registry: inout HandlerRegistry) {
    registry.register("charge") { (input: Charge, context: HandlerContext) async throws -> Int in
        let tooManyRequests = input.tenant < 0 // (the service's answer was an HTTP 429)
        if tooManyRequests {
throw HandlerError.rateLimited(retryAfter: .seconds(30))
        }
        return input.tenant
    }
}
