// docs/worker.md, "Signals and questions": the snippet, verbatim (compiled, not run), inside a
// function because only main.swift may hold top-level code.
import Jobq
import JobqWorker

struct Deploy: Codable { var version: String }
struct Approval: Codable { var by: String }
func build(_ deploy: Deploy) async throws {}
func ship(_ deploy: Deploy, approvedBy: String) async throws -> String { "shipped \(deploy.version), approved by \(approvedBy)" }

func registerDeploy(in registry: inout HandlerRegistry) {
registry.register("deploy") { (input: Deploy, context: HandlerContext) async throws -> String in
    if try context.checkpoint(as: Int.self) == nil {          // work before the wait: once
        try await build(input)
        try await context.checkpoint(1)
    }
    let approval = try await context.waitForSignal("approve", as: Approval.self, timeout: .seconds(3600))
    guard try await context.ask("Deploy \(input.version) to production?", choices: ["yes", "no"]) == "yes" else {
        throw HandlerError.skip("declined")
    }
    return try await ship(input, approvedBy: approval.by)
}
}
