// docs/worker.md, "The library": compiled, not run (it would wait for tasks forever). The
// snippet is verbatim below (scripts/check-snippets.sh); what it leaves to the reader
// (DownloadOutput, Message, loadTiles, process, send) is in Placeholders.swift.
import Jobq
import JobqWorker
import Logging
import ServiceLifecycle

struct ResizeInput: Codable { var path: String; var width: Int }
struct ResizeOutput: Codable { var path: String; var bytes: Int }

var registry = HandlerRegistry()
registry.register("resize") { (input: ResizeInput, context: HandlerContext) async throws -> ResizeOutput in
    guard input.width > 0 else { throw HandlerError.permanent("width must be positive", reason: "invalid_input") }
    let source = try context.result(of: "download", as: DownloadOutput.self)    // a prerequisite's result
    context.progress(percent: 10, status: "decoding")
    context.logger.info("resizing", metadata: ["path": "\(input.path)"])     // kept with the task
    let tiles = try await loadTiles(source.path, width: input.width)
    for (index, tile) in tiles.enumerated() {
        try Task.checkCancellation()                                          // cancel / timeout / shutdown
        context.progress(["tiles"], current: index + 1, total: tiles.count)
        try await process(tile)
    }
    return ResizeOutput(path: source.path + ".small", bytes: tiles.count * 4096)
}
registry.register("notify") { (input: Message, context: HandlerContext) async throws in try await send(input) }  // no result: null
registry.register("proxy", raw: { payload, context in payload })                             // JSON bytes in and out
registry.register("thumbnail", command: CommandHandlerConfiguration(command: ["/usr/local/bin/thumbnail"]))

let client = try JobqClient(url: "redis://127.0.0.1:6379", namespace: "default")
var configuration = WorkerConfiguration(queues: ["images", "default"], concurrency: 8)
configuration.shutdownGrace = .seconds(60)
let logger = Logger(label: "worker")
let worker = try Worker(client: client, registry: registry, configuration: configuration, logger: logger)

// Either run it directly …
try await worker.run()
// … or as a Service next to others; SIGTERM triggers its graceful shutdown.
let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm], logger: logger)
try await group.run()
