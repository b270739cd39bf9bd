// docs/worker.md, "Spawning children": the snippet, verbatim (compiled, not run), inside a
// function because only main.swift may hold top-level code.
import Jobq
import JobqWorker

func registerThumbnails(in registry: inout HandlerRegistry) {
registry.register("thumbnails") { (files: [String], context: HandlerContext) async throws -> Int in
    var children = Workflow("thumbnail")
    for (index, file) in files.enumerated() {
        try children.add("thumb-\(index)", handler: "image.thumbnail", payload: ["file": file])
    }
    try await context.spawn(children, onChildFailure: .wakeParent)  // attaches when spawned before
    try await context.waitForChildren()       // throws: waits, no slot; then runs again from the top
    let results = try await context.childResults()                  // submission order, paged
    return results.filter { $0.state == .done }.count
}
}
