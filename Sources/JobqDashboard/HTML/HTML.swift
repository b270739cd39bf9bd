import Foundation

/// Building HTML as strings: escaping, and the few elements every page repeats.
///
/// Pages are server-rendered and complete without JavaScript; everything that reaches the page
/// from Redis (ids, payloads, errors, handler names) goes through ``escape(_:)``.
package enum HTML {
    /// Text or an attribute value made safe for HTML.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A query-string or path component, percent-encoded.
    package static func component(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A query string from pairs, skipping empty values (`?a=1&b=2`, or "" when none).
    package static func query(_ pairs: [(String, String?)]) -> String {
        let parts = pairs.compactMap { key, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~/:")
            return key + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// A table: a header row and body rows of already-escaped cells. `rowAttributes` gives each
    /// row its attributes (`data-task`, `tabindex`) — B's script and keyboard navigation use them.
    package static func table(caption: String? = nil, headers: [String], rows: [[String]], rowAttributes: [String]? = nil, empty: String = "none") -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(escape(empty))</p>" }
        var html = "<table>"
        if let caption { html += "<caption>\(escape(caption))</caption>" }
        html += "<thead><tr>" + headers.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (index, row) in rows.enumerated() {
            let attributes = rowAttributes.map { " " + $0[index] } ?? ""
            html += "<tr\(attributes)>" + row.map { $0.hasPrefix("<td") ? $0 : "<td>\($0)</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// A state badge: the CSS class `state-STATE` carries its colour.
    package static func state(_ state: String?) -> String {
        guard let state else { return "<span class=\"state\">?</span>" }
        return "<span class=\"badge state-\(escape(state))\">\(escape(state))</span>"
    }

    /// A definition list of label → already-escaped value.
    package static func fields(_ pairs: [(String, String)]) -> String {
        "<dl class=\"fields\">" + pairs.map { "<dt>\(escape($0.0))</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
    }

    /// A POST form with one button (and hidden fields): every action of the dashboard.
    package static func actionForm(_ action: String, fields: [(String, String)], label: String, danger: Bool = false) -> String {
        "<form method=\"post\" action=\"\(escape(action))\" class=\"inline\">"
            + fields.map { "<input type=\"hidden\" name=\"\(escape($0.0))\" value=\"\(escape($0.1))\">" }.joined()
            + "<button type=\"submit\"\(danger ? " class=\"danger\"" : "")>\(escape(label))</button></form>"
    }

    /// `2026-12-07 10:05:00` (UTC) for a time in milliseconds; `-` for none.
    package static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds, milliseconds > 0 else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let text = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        return "<time datetime=\"\(text.replacingOccurrences(of: " ", with: "T"))Z\">\(text)</time>"
    }
}
