import Foundation
import Hummingbird
import Jobq
import JobqCore

/// The actions: POST only (the middleware refuses them in read-only mode and from other sites),
/// each an existing ``JobqClient`` operation. An HTML form gets 303 See Other back to the page
/// it acted on; `/api/v1/actions/...` gets JSON. Bulk actions on a whole run ask for
/// confirmation first (`confirm=yes`), in HTML only: an API client has decided already.
extension Dashboard {
    /// What one action does, from its form fields and who asked; returns the JSON reply and
    /// the page to go back to.
    struct Action: Sendable {
        let name: String
        /// Fields that must be present and not empty.
        let required: [String]
        /// The question of the confirmation step, for bulk actions; `nil`: none.
        let confirmation: (@Sendable ([String: String]) -> String)?
        let perform: @Sendable (JobqClient, [String: String], String) async throws(JobqError) -> (JSONValue, String)
    }

    static let actions: [Action] = [
        Action(name: "retry-task", required: ["id"], confirmation: nil) { client, form, actor throws(JobqError) in
            let id = form["id"]!
            let reopened = try await client.retry(id, actor: actor)
            return (.object([("retried", .array(reopened.map { .string($0) }))]), "/tasks/" + HTML.component(id))
        },
        Action(name: "cancel-task", required: ["id"], confirmation: nil) { client, form, actor throws(JobqError) in
            let id = form["id"]!
            let outcome = try await client.cancel(id, message: "cancelled by \(actor) from the dashboard", actor: actor)
            return (.object([("id", .string(id)), ("outcome", .string("\(outcome)"))]), "/tasks/" + HTML.component(id))
        },
        Action(name: "retry-run", required: ["run"], confirmation: { "Retry every FAILED or CANCELLED task of run \($0["run"] ?? "") and the dependents they took down?" }) { client, form, actor throws(JobqError) in
            let run = form["run"]!
            let reopened = try await client.retry(run: run, actor: actor)
            return (.object([("run", .string(run)), ("retried", .array(reopened.map { .string($0) }))]), "/runs/" + HTML.component(run))
        },
        Action(name: "cancel-run", required: ["run"], confirmation: { "Cancel every unfinished task of run \($0["run"] ?? "")? Running handlers are told to stop." }) { client, form, actor throws(JobqError) in
            let run = form["run"]!
            _ = try await client.run(run)
            let cancellation = try await client.cancel(workflow: run, message: "run cancelled by \(actor) from the dashboard", actor: actor)
            return (.object([("run", .string(run)), ("outcome", .string("\(cancellation)"))]), "/runs/" + HTML.component(run))
        },
        Action(name: "pause-queue", required: ["queue"], confirmation: nil) { client, form, actor throws(JobqError) in
            let changed = try await client.pause(queue: form["queue"]!, actor: actor)
            return (.object([("queue", .string(form["queue"]!)), ("paused", .bool(true)), ("changed", .bool(changed))]), "/queues")
        },
        Action(name: "resume-queue", required: ["queue"], confirmation: nil) { client, form, actor throws(JobqError) in
            let changed = try await client.resume(queue: form["queue"]!, actor: actor)
            return (.object([("queue", .string(form["queue"]!)), ("paused", .bool(false)), ("changed", .bool(changed))]), "/queues")
        },
        Action(name: "answer", required: ["id", "choice"], confirmation: nil) { client, form, actor throws(JobqError) in
            let id = form["id"]!
            let delivery = try await client.answer(task: id, choice: form["choice"]!, actor: actor)
            return (.object([("id", .string(id)), ("delivery", .string("\(delivery)"))]), "/tasks/" + HTML.component(id))
        },
        Action(name: "signal", required: ["id", "name"], confirmation: nil) { client, form, actor throws(JobqError) in
            let id = form["id"]!
            let payload = form["payload"].flatMap { $0.isEmpty ? nil : $0 } ?? "null"
            let delivery = try await client.signal(task: id, name: form["name"]!, payloadJSON: Array(payload.utf8), actor: actor)
            return (.object([("id", .string(id)), ("delivery", .string("\(delivery)"))]), "/tasks/" + HTML.component(id))
        },
    ]

    func addActions<Context: RequestContext>(to group: RouterGroup<Context>, layout: Layout) {
        for action in Self.actions {
            group.post(RouterPath("/actions/" + action.name)) { request, context in
                await perform(action, request: request, context: context, layout: layout, api: false)
            }
            group.post(RouterPath("/api/v1/actions/" + action.name)) { request, context in
                await perform(action, request: request, context: context, layout: layout, api: true)
            }
        }
    }

    func perform<Context: RequestContext>(_ action: Action, request: Request, context: Context, layout: Layout, api: Bool) async -> Response {
        var request = request
        let form: [String: String]
        do {
            form = Self.form(String(buffer: try await request.collectBody(upTo: 256 * 1024)))
        } catch {
            return Responses.refusal(request, .contentTooLarge, code: "invalid_option", "the form is larger than 256 KiB")
        }
        for field in action.required where (form[field] ?? "").isEmpty {
            return Responses.error(JobqError(.invalidOption, "\(action.name) needs the form field \(field)", subject: field), request: request, layout: layout)
        }
        if !api, let confirmation = action.confirmation, form["confirm"] != "yes" {
            let fields = form.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + [("confirm", "yes")]
            let body = "<p class=\"notice\">\(HTML.escape(confirmation(form)))</p><p>"
                + HTML.actionForm(layout.base + "/actions/" + action.name, fields: fields, label: "Yes, \(action.name.replacingOccurrences(of: "-", with: " "))", danger: true)
                + " " + layout.link(form["run"].map { "/runs/" + HTML.component($0) } ?? "/", "No, go back") + "</p>"
            return Responses.html(layout.page(title: "Confirm", current: "", live: nil, body))
        }
        do throws(JobqError) {
            let (json, page) = try await action.perform(client, form, Self.actor(request: request, context: context, auth: options.auth))
            return api ? Responses.json(json) : Responses.seeOther(layout.base + page)
        } catch {
            return Responses.error(error, request: request, layout: layout)
        }
    }

    /// Who acts: the authenticated user ("token" for a bare token; "dashboard" without
    /// authentication) at the client's address, `alice@10.0.0.5`. It is the `by` of the event
    /// lines the action writes, and named in a cancellation's message.
    static func actor<Context: RequestContext>(request: Request, context: Context, auth: DashboardAuth?) -> String {
        let user = auth.flatMap { $0.actor(authorization: request.headers[.authorization]) } ?? "dashboard"
        let address = (context as? any RemoteAddressRequestContext)?.remoteAddress.flatMap { $0.ipAddress } ?? "unknown"
        return user + "@" + address
    }

    /// `application/x-www-form-urlencoded` fields (the first value of each name).
    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            let key = decode(parts[0])
            if fields[key] == nil { fields[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }
}
