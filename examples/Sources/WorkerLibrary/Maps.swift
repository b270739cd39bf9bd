// docs/workflow-files.md, "Map": the Swift snippet, verbatim (compiled, not run), inside a
// function because only main.swift may hold top-level code.
import Jobq

func submitThumbnails(client: JobqClient) async throws {
var flow = Workflow("thumbnails")
let list = try flow.add("list_files", handler: "s3.list", payload: ["bucket": "photos"])
let template = TaskSpec(handler: "img.resize", payload: try PayloadCoding.encode(["file": MapElement.item, "n": MapElement.index]))
let resize = try flow.add("resize", map: .resultOf(list), task: template, width: 20_000, window: 50)
try flow.add("report", handler: "summarize", payload: ["sizes": ["$retval": "resize"]], requires: [resize])
let run = try await client.submit(flow)
_ = try await run.wait(timeout: .seconds(3600))
let sizes = try await client.result(of: "\(run.id)/resize", as: [Int].self)   // one per file, in order
print(sizes.count)
}
