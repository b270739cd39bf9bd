import Jobq

/// The overview's throughput and failure chart: tasks ended DONE and FAILED per minute (or per
/// bucket of minutes for long spans), as inline SVG lines. No script; presentation attributes
/// only (the CSP forbids inline style).
package enum RateChart {
    /// Minutes per point: at most ~500 points whatever the span.
    static func bucket(minutes: Int) -> Int {
        max(1, (minutes + 499) / 500)
    }

    package static func svg(_ rates: MinuteRates) -> String {
        let minutes = rates.done.count
        let size = bucket(minutes: minutes)
        func sums(_ values: [Int]) -> [Int] {
            stride(from: 0, to: values.count, by: size).map { values[$0..<min($0 + size, values.count)].reduce(0, +) }
        }
        let done = sums(rates.done), failed = sums(rates.failed)
        let peak = max(1, (done + failed).max() ?? 1)
        let width = 1000.0, height = 120.0
        func path(_ values: [Int]) -> String {
            guard values.count > 1 else { return "" }
            let step = width / Double(values.count - 1)
            return values.enumerated().map { index, value in
                let x = Double(index) * step, y = height - Double(value) / Double(peak) * (height - 10)
                return (index == 0 ? "M" : "L") + String(format: "%.1f %.1f", x, y)
            }.joined(separator: " ")
        }
        let per = size == 1 ? "minute" : "\(size) minutes"
        let total = (rates.done.reduce(0, +), rates.failed.reduce(0, +))
        let title = "Tasks ended per \(per) over the last \(minutes / 60) h: \(total.0) done, \(total.1) failed; peak \(peak) per \(per)"
        return """
        <figure><svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" preserveAspectRatio="none" role="img" aria-label="\(HTML.escape(title))">\
        <title>\(HTML.escape(title))</title>\
        <line class="axis" x1="0" y1="\(Int(height))" x2="\(Int(width))" y2="\(Int(height))" vector-effect="non-scaling-stroke"/>\
        <path class="done" d="\(path(done))" vector-effect="non-scaling-stroke"/>\
        <path class="failed" d="\(path(failed))" vector-effect="non-scaling-stroke"/>\
        </svg><figcaption class="legend"><span class="done">— done</span> <span class="failed">— failed</span> \
        per \(per), last \(minutes / 60) h (peak \(peak)); \(total.0) done, \(total.1) failed</figcaption></figure>
        """
    }
}
