import Hummingbird
import JobqCore

/// The dashboard's responses: HTML pages, JSON (the CLI's `--json` shapes, rendered the same
/// way), and errors in the form the request asked for (JSON under `/api/`, HTML elsewhere).
package enum Responses {
    package static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        body(html, type: "text/html; charset=utf-8", status: status)
    }

    package static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        body(value.rendered() + "\n", type: "application/json", status: status)
    }

    package static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        body(text + "\n", type: "text/plain; charset=utf-8", status: status)
    }

    static func body(_ text: String, type: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// 303 See Other to a page: what an HTML form's POST answers, so a reload does not repeat it.
    package static func seeOther(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// A refusal with a stable code, as JSON for the API and text otherwise.
    package static func refusal(_ request: Request, _ status: HTTPResponse.Status, code: String, _ message: String) -> Response {
        if isAPI(request) {
            return json(.object([("error", .object([("code", .string(code)), ("message", .string(message))]))]), status: status)
        }
        return text(status, message + " [\(code)]")
    }

    /// A ``JobqError`` as the CLI's `--json` error object (`code`, `message`, `subject`) or an
    /// HTML page, with the HTTP status of its kind.
    package static func error(_ error: JobqError, request: Request, layout: Layout) -> Response {
        let status = status(for: error.code)
        if isAPI(request) {
            var fields: [(String, JSONValue)] = [("code", .string(error.code.rawValue)), ("message", .string(error.message))]
            if let subject = error.subject { fields.append(("subject", .string(subject))) }
            return json(.object([("error", .object(fields))]), status: status)
        }
        let page = layout.page(title: "Error", current: "", live: nil,
            "<p class=\"error\" role=\"alert\">\(HTML.escape(error.message)) <code>[\(HTML.escape(error.code.rawValue))]</code></p>")
        return html(page, status: status)
    }

    package static func isAPI(_ request: Request) -> Bool {
        request.uri.path.contains("/api/v1/")
    }

    /// not_found → 404, a state that forbids it → 409, bad input → 400, Redis away → 503.
    package static func status(for code: JobqError.Code) -> HTTPResponse.Status {
        switch code {
        case .notFound: .notFound
        case .invalidState, .staleToken, .prerequisiteFailed, .notAsking: .conflict
        case .redisUnavailable, .redisError, .redisOutOfMemory: .serviceUnavailable
        case .internalError, .corruptRecord: .internalServerError
        default: .badRequest
        }
    }
}
