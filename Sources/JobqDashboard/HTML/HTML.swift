import Foundation

/// Building HTML as strings: escaping (the dashboard's pages branch has the full version; this
/// subset is what the live parts use, with the same names, so one replaces the other at merge).
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
}
