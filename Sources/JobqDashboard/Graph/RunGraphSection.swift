import Jobq

/// PLACEHOLDER (helper B's file replaces it): the run page's DAG section (inline SVG + controls).
package enum RunGraphSection {
    package static func html(client: JobqClient, run: String, query: [String: String]) async throws -> String {
        ""
    }
}
