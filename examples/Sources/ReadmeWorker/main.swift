// README.md, "The Swift library": the worker for the producer's workflow. This file is the
// README's snippet verbatim (scripts/check-snippets.sh); scripts/run-readme-example.sh runs it.
import Foundation
import JobqWorker

struct Day: Codable { var day: String }
struct Sales: Codable { var amounts: [Double] }
struct Currency: Codable { var currency: String }
struct Total: Codable { var total: Double; var currency: String }

var handlers = HandlerRegistry()
handlers.register("sales.fetch") { (input: Day, context: HandlerContext) async throws -> Sales in
    Sales(amounts: [120.5, 80, 42.25])                                   // your query for input.day
}
handlers.register("sales.total") { (input: Currency, context: HandlerContext) async throws -> Total in
    let sales = try context.result(of: "fetch", as: Sales.self)          // a prerequisite's result
    context.progress(percent: 50, status: "adding up")
    return Total(total: sales.amounts.reduce(0, +), currency: input.currency)  // throwing retries with backoff
}
handlers.register("sales.notify") { (_: JSONNull, context: HandlerContext) async throws in
    let total = try context.result(of: "total", as: Total.self)
    context.log("nightly total: \(total.total) \(total.currency)")      // kept with the task: jobq logs
}
let client = try JobqClient(url: ProcessInfo.processInfo.environment["JOBQ_REDIS_URL"] ?? "redis://127.0.0.1:6379")
let worker = try Worker(client: client, registry: handlers,
                        configuration: WorkerConfiguration(queues: ["default"], concurrency: 8))
try await worker.run()   // a swift-service-lifecycle Service: in a ServiceGroup, SIGTERM finishes or hands back work
