// README.md, "The Swift library": the producer. This file is the README's snippet verbatim
// (scripts/check-snippets.sh); scripts/run-readme-example.sh runs it with ReadmeWorker.
import Foundation
import Jobq

let client = try JobqClient(url: ProcessInfo.processInfo.environment["JOBQ_REDIS_URL"] ?? "redis://127.0.0.1:6379")
var flow = Workflow(id: "nightly")
let fetch = try flow.add("fetch", handler: "sales.fetch", payload: ["day": "2026-12-01"])
let total = try flow.add("total", handler: "sales.total", payload: ["currency": "EUR"], requires: [fetch])
try flow.add("notify", handler: "sales.notify", requires: [total], policy: .always)
try await client.submit(flow)
let summary = try await client.wait(forWorkflow: "nightly")   // blocks on events, no polling
print("nightly: \(summary)")                                   // "nightly: 3D": three tasks DONE
