// README.md, "The Swift library": the producer. This file is the README's snippet verbatim
// (scripts/check-snippets.sh); scripts/run-readme-example.sh runs it with ReadmeWorker.
import Foundation
import Jobq

let client = try JobqClient(url: ProcessInfo.processInfo.environment["JOBQ_REDIS_URL"] ?? "redis://127.0.0.1:6379")
var flow = Workflow("nightly")                                 // a definition: each submit is a new run
flow.window = 2                                                // at most 2 of its tasks running at once
let fetch = try flow.add("fetch", handler: "sales.fetch", payload: ["day": "2026-12-01"])
let total = try flow.add("total", handler: "sales.total", payload: ["currency": "EUR"], requires: [fetch])
try flow.add("notify", handler: "sales.notify", requires: [total], policy: .always)
let run = try await client.submit(flow)                        // run.id: "nightly-01J…", tasks "nightly-01J…/fetch", …
let outcome = try await run.wait()                             // blocks on events, no polling
print("\(run.id): \(outcome.state) \(outcome.summary)")         // "nightly-01J…: DONE 3D": three tasks DONE
