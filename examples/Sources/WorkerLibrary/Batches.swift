// docs/worker.md, "Batch handlers in Swift": the snippet, verbatim (compiled, not run), inside a
// function because only main.swift may hold top-level code.
import Jobq
import JobqWorker

struct Mail: Codable, Sendable { var tenant: String; var to: String }
struct Receipt: Codable, Sendable { var messageID: String }
func send(_ mail: Mail) async throws -> Receipt { Receipt(messageID: "") }

func registerSendMail(in registry: inout HandlerRegistry) {
registry.register(batch: "send-mail", max: 100, wait: .milliseconds(200), key: "{payload.tenant}") {
    (items: [BatchItem<Mail>]) async throws -> [String: BatchOutcome<Receipt>] in
    var outcomes: [String: BatchOutcome<Receipt>] = [:]
    for item in items where !item.isStopRequested {
        do {
            outcomes[item.id] = .done(try await send(item.input))
        } catch {
            outcomes[item.id] = .failed(error)   // a HandlerError (.permanent, .snooze, …) keeps its meaning
        }
    }
    return outcomes
}
}
