import HTTPTypes
import Hummingbird

/// Applied to every dashboard route: authentication, the POST checks (read-only mode, same-origin
/// requests only), and the security headers on every response (CSP `default-src 'self'`: no
/// inline script or style can run, so injected markup cannot either).
struct DashboardMiddleware<Context: RequestContext>: RouterMiddleware {
    let auth: DashboardAuth?
    let readOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if let auth, auth.actor(authorization: request.headers[.authorization]) == nil {
            response = Responses.text(.unauthorized, "authentication required")
            response.headers[.wwwAuthenticate] = "Basic realm=\"jobq dashboard\", charset=\"UTF-8\""
        } else if request.method == .post, readOnly {
            response = Responses.refusal(request, .forbidden, code: "read_only", "this dashboard is read-only (--read-only): actions are refused")
        } else if request.method == .post, let reason = Self.crossSite(request) {
            response = Responses.refusal(request, .forbidden, code: "cross_origin", reason)
        } else {
            response = try await next(request, context)
        }
        Self.secure(&response.headers)
        return response
    }

    /// Why a POST is refused as cross-site, or `nil` when it is same-origin. Browsers send
    /// `Sec-Fetch-Site` (and `Origin` on every POST): a form on another site cannot act here
    /// with the user's credentials. A client that sends neither (curl, a script) is no browser
    /// and cannot be tricked into a request; authentication still applies to it.
    static func crossSite(_ request: Request) -> String? {
        if let site = request.headers[.secFetchSite] {
            return site == "same-origin" || site == "none" ? nil : "cross-site request refused (Sec-Fetch-Site: \(site))"
        }
        guard let origin = request.headers[.origin] else { return nil }
        let host = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init)
        guard let host, let authority = request.head.authority, host.lowercased() == authority.lowercased() else {
            return "cross-origin request refused (Origin: \(origin))"
        }
        return nil
    }

    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "same-origin"
        headers[.xFrameOptions] = "DENY"
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
