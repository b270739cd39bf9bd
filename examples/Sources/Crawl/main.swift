// examples/crawl.yaml's worker: a crawl that maps over what it finds, grows the graph as it
// reads (each page spawns a child per local link it has not been told to skip), and asks for
// confirmation before it publishes. scripts/run-crawl-example.sh runs it end to end.
//
//   crawl-worker &                    # from the checkout's root; JOBQ_REDIS_URL as for jobq
//   jobq submit -f examples/crawl.yaml
//   jobq status RUN                   # … "asks: Publish an index of 4 pages? [yes/no]"
//   jobq answer RUN/confirm yes       # crawl-index.tsv, one line per page
import Foundation
import Jobq
import JobqWorker

/// One page read: its path, how many words it has and the pages it links to (read by its
/// children, one level down at most).
struct Page: Codable {
    var path: String
    var words: Int
    var links: [String]
    var linked: [Page]?
}

struct Root: Codable { var root: String }
struct PageInput: Codable { var path: String; var depth: Int }
struct Pages: Codable { var pages: [Page] }
struct Decision: Codable { var pages: [Page]; var answer: String; var out: String }

/// The local Markdown links of `text`: `[label](file.md)` whose target is not a URL.
func markdownLinks(_ text: String) -> [String] {
    var links: [String] = []
    var rest = text[...]
    while let open = rest.range(of: "](") {
        rest = rest[open.upperBound...]
        guard let close = rest.firstIndex(of: ")") else { break }
        let target = String(rest[..<close])
        if target.hasSuffix(".md"), !target.contains("://") { links.append(target) }
        rest = rest[close...]
    }
    return links
}

var handlers = HandlerRegistry()
// The map's list: every Markdown file directly under `root`.
handlers.register("crawl.list") { (input: Root, context: HandlerContext) async throws -> [String] in
    let names = try FileManager.default.contentsOfDirectory(atPath: input.root).filter { $0.hasSuffix(".md") }.sorted()
    context.log("found \(names.count) pages under \(input.root)")
    return names.map { input.root + "/" + $0 }
}
// One page: read it; with depth left, spawn a child per link and wait for them (holding no
// slot), then run again from the top and collect their results in order.
handlers.register("crawl.page") { (input: PageInput, context: HandlerContext) async throws -> Page in
    let text = try String(contentsOfFile: input.path, encoding: .utf8)
    let directory = (input.path as NSString).deletingLastPathComponent
    let links = markdownLinks(text).map { directory + "/" + $0 }
    var page = Page(path: input.path, words: text.split(whereSeparator: \.isWhitespace).count, links: links)
    guard input.depth > 0, !links.isEmpty else { return page }
    var children = Workflow("crawl-links")
    for (index, link) in links.enumerated() {
        try children.add("link-\(index)", handler: "crawl.page", payload: PageInput(path: link, depth: input.depth - 1))
    }
    try await context.spawn(children, key: "links", onChildFailure: .wakeParent) // attaches when spawned before
    try await context.waitForChildren(key: "links")  // the first time: waits, no slot held
    page.linked = try await context.childResults(key: "links").compactMap { child in
        try child.result.map { try PayloadCoding.decode(Page.self, from: $0) }
    }
    return page
}
// upsies' prompt: the task waits (no slot) until `jobq answer RUN/confirm yes|no`.
handlers.register("crawl.confirm") { (input: Pages, context: HandlerContext) async throws -> String in
    try await context.ask("Publish an index of \(input.pages.count) pages?", choices: ["yes", "no"])
}
handlers.register("crawl.publish") { (input: Decision, context: HandlerContext) async throws -> Int in
    guard input.answer == "yes" else { throw HandlerError.skip("not confirmed") }
    let index = input.pages.map { "\($0.path)\t\($0.words) words\t\($0.links.count) links\t\($0.linked?.count ?? 0) read below" }
    try (index.joined(separator: "\n") + "\n").write(toFile: input.out, atomically: true, encoding: .utf8)
    context.log("wrote \(index.count) lines to \(input.out)")
    return index.count
}

let client = try JobqClient(url: ProcessInfo.processInfo.environment["JOBQ_REDIS_URL"] ?? "redis://127.0.0.1:6379")
let worker = try Worker(client: client, registry: handlers, configuration: WorkerConfiguration(queues: ["default"], concurrency: 4))
try await worker.run()
