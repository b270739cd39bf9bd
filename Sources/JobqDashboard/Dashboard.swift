import Hummingbird
import Jobq
import JobqCore
import JobqMetrics
import ServiceLifecycle

/// The jobq web dashboard: every page and its `/api/v1` twin, as routes over one ``JobqClient``.
///
/// All state lives in Redis, so any number of dashboard processes may serve the same namespace.
/// Mount the routes in a Hummingbird app with ``addRoutes(to:at:)`` and run ``services`` beside
/// it (the one event reader that feeds every open page); `jobq dashboard` does exactly that.
public struct Dashboard: Sendable {
    let client: JobqClient
    let options: Options
    /// The one transition-stream reader of this process, feeding every tab's `/events`; run it
    /// beside the server (it is a `Service`).
    let hub: EventHub

    /// How the dashboard guards itself.
    public struct Options: Sendable {
        /// Required credentials; `nil`: none (only safe on loopback, which `jobq dashboard`
        /// enforces).
        public var auth: DashboardAuth?
        /// Serve pages and the API, refuse every action (POST) with 403 `read_only`.
        public var readOnly: Bool

        public init(auth: DashboardAuth? = nil, readOnly: Bool = false) {
            self.auth = auth
            self.readOnly = readOnly
        }
    }

    public init(client: JobqClient, options: Options = Options()) {
        self.client = client
        self.options = options
        self.hub = EventHub(client: client)
    }

    /// A dashboard over a hub the caller made (tests: a hub with a short heartbeat).
    package init(client: JobqClient, hub: EventHub, options: Options = Options()) {
        self.client = client
        self.options = options
        self.hub = hub
    }

    /// What the app must run beside its server (with its ServiceGroup).
    public var services: [any Service] { [hub] }

    /// Adds every page, asset, action and `/api/v1` route under `path` ("" for the root,
    /// "/jobq" to share an app). Every route checks ``Options/auth`` and sends the security
    /// headers.
    public func addRoutes<Context: RequestContext>(to router: some RouterMethods<Context>, at path: String = "") {
        let base = path == "/" ? "" : (path.hasSuffix("/") ? String(path.dropLast()) : path)
        let group = router.group(RouterPath(base))
        group.add(middleware: DashboardMiddleware<Context>(auth: options.auth, readOnly: options.readOnly))
        let layout = Layout(base: base, namespace: client.namespace, readOnly: options.readOnly)
        group.get("/assets/dashboard.css") { _, _ in
            var response = Responses.body(Stylesheet.css + RunGraphSection.css, type: "text/css; charset=utf-8", status: .ok)
            response.headers[.cacheControl] = "max-age=300"
            return response
        }
        // The cluster's state for Prometheus, the same text `jobq coordinator --metrics-port` serves.
        group.get("/metrics") { request, _ in
            do throws(JobqError) {
                return Responses.body(try await ClusterMetrics.prometheusText(client: client), type: "text/plain; version=0.0.4; charset=utf-8", status: .ok)
            } catch {
                return Responses.error(error, request: request, layout: layout)
            }
        }
        addPages(to: group, layout: layout)
        addActions(to: group, layout: layout)
        addLiveRoutes(to: group)
    }

    /// A page and its API twin from one loader: the model is read once per request, then
    /// rendered as HTML or as the CLI's JSON.
    func route<Context: RequestContext, Model: Sendable>(
        _ group: RouterGroup<Context>, _ path: String, api: String? = nil, layout: Layout,
        load: @escaping @Sendable (Request, Context) async throws(JobqError) -> Model,
        json: @escaping @Sendable (Model) -> JSONValue,
        html: @escaping @Sendable (Model, Request) async throws(JobqError) -> String
    ) {
        group.get(RouterPath(path)) { request, context in
            do throws(JobqError) {
                return Responses.html(try await html(try await load(request, context), request))
            } catch {
                return Responses.error(error, request: request, layout: layout)
            }
        }
        group.get(RouterPath("/api/v1" + (api ?? path))) { request, context in
            do throws(JobqError) {
                return Responses.json(json(try await load(request, context)))
            } catch {
                return Responses.error(error, request: request, layout: layout)
            }
        }
    }
}
