import Foundation

/// `text` wrapped to lines of at most `width` characters (plain text, no ANSI codes): its own
/// line breaks are kept, lines break at spaces where they can and inside a word longer than a
/// line; tabs become spaces and trailing spaces are dropped. Nothing is cut.
func wrapped(_ text: String, to width: Int) -> [String] {
    let width = max(1, width)
    var result: [String] = []
    let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\t", with: " ")
    for paragraph in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
        var rest = Substring(paragraph)
        while rest.count > width {
            let window = rest.prefix(width + 1)
            // Break at the last space that leaves something on this line; else mid-word.
            if let space = window.lastIndex(of: " "), space > rest.startIndex {
                result.append(String(rest[..<space]).replacingOccurrences(of: " +$", with: "", options: .regularExpression))
                rest = rest[rest.index(after: space)...]
            } else {
                let cut = rest.index(rest.startIndex, offsetBy: width)
                result.append(String(rest[..<cut]))
                rest = rest[cut...]
            }
        }
        result.append(String(rest).replacingOccurrences(of: " +$", with: "", options: .regularExpression))
    }
    while result.count > 1, result.last?.isEmpty == true { result.removeLast() }
    return result
}
