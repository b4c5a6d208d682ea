public import ModelSelection

/// Renders a cost-versus-quality chart as a standalone SVG document: one point per policy, the frontier (the points
/// no other point beats on both cost and quality) joined by a line, both axes labelled.
///
/// Cost stays in ``MicroDollars`` (tick labels are exact dollars); only pixel positions use `Double`. Points whose
/// answers came from simulated verdicts (cascades) are drawn hollow, and the chart says so. The output is
/// deterministic: the same points give the same bytes.
public struct QualityChart: Sendable {
    /// One policy on the chart.
    public struct Point: Sendable, Hashable {
        /// The policy's name (the point's label).
        public var name: String
        /// What the policy cost.
        public var cost: MicroDollars
        /// The share of its labelled answers that were correct, `0...1`.
        public var quality: Double
        /// Its answers depend on simulated verifier verdicts.
        public var simulated: Bool
        /// A bound (the oracle), not a runnable policy: drawn apart and left off the frontier.
        public var bound: Bool

        /// Creates a point.
        /// - Parameters:
        ///   - name: The label.
        ///   - cost: The cost.
        ///   - quality: The quality share, `0...1` (clamped).
        ///   - simulated: Whether its verdicts were simulated.
        ///   - bound: Whether it is a bound rather than a policy.
        public init(name: String, cost: MicroDollars, quality: Double, simulated: Bool = false, bound: Bool = false) {
            self.name = name
            self.cost = cost
            self.quality = quality.isFinite ? min(1, max(0, quality)) : 0
            self.simulated = simulated
            self.bound = bound
        }
    }

    /// The chart's size and title.
    public struct Configuration: Sendable, Hashable {
        /// Width in pixels.
        public var width: Int
        /// Height in pixels.
        public var height: Int
        /// The title at the top.
        public var title: String

        /// Creates a configuration.
        /// - Parameters:
        ///   - width: Width in pixels (default 960).
        ///   - height: Height in pixels (default 560).
        ///   - title: The title (default "Cost vs. quality by policy").
        public init(width: Int = 960, height: Int = 560, title: String = "Cost vs. quality by policy") {
            self.width = max(200, width)
            self.height = max(160, height)
            self.title = title
        }
    }

    /// The points, in legend order.
    public var points: [Point]
    /// Size and title.
    public var configuration: Configuration

    /// Creates a chart.
    /// - Parameters:
    ///   - points: The policies.
    ///   - configuration: Size and title.
    public init(points: [Point], configuration: Configuration = .init()) {
        self.points = points
        self.configuration = configuration
    }

    /// Creates the chart of a comparison: one point per policy that has labelled answers.
    /// - Parameters:
    ///   - comparison: The comparison.
    ///   - configuration: Size and title.
    public init(_ comparison: PolicyComparison, configuration: Configuration = .init()) {
        self.init(
            points: comparison.rows.compactMap { row in
                row.quality.share.map {
                    Point(name: row.name, cost: row.cost, quality: $0, simulated: row.policy.simulatesVerdicts, bound: row.policy.isBound)
                }
            }, configuration: configuration)
    }

    /// The points on the frontier, by cost: those that no other point matches or beats on both axes with one strictly
    /// (bounds left out).
    public var frontier: [Point] {
        let runnable = points.filter { !$0.bound }
        return runnable.filter { p in
            !runnable.contains { o in o.cost <= p.cost && o.quality >= p.quality && (o.cost < p.cost || o.quality > p.quality) }
        }.sorted { $0.cost != $1.cost ? $0.cost < $1.cost : $0.quality < $1.quality }
    }

    // MARK: - Rendering

    /// Renders the chart.
    /// - Returns: A standalone SVG document.
    public func render() -> String {
        let w = Double(configuration.width), h = Double(configuration.height)
        let left = 84.0, right = 40.0, top = 64.0, bottom = 72.0
        let plotW = w - left - right, plotH = h - top - bottom
        let (step, xMax) = SpendChart.ticks(points.map(\.cost.rawValue).max() ?? 0)
        // Quality from a whole ten percent at or below the lowest point up to 100%.
        let lowest = points.map(\.quality).min() ?? 0
        let yMin = max(0, (lowest * 10).rounded(.down) / 10 - (lowest * 10 == (lowest * 10).rounded(.down) ? 0.1 : 0))
        func x(_ m: MicroDollars) -> Double { left + Double(m.rawValue) / Double(xMax) * plotW }
        func y(_ q: Double) -> Double { top + plotH - (q - yMin) / max(1 - yMin, 0.01) * plotH }
        let f = SVGFormat.coordinate, e = SVGFormat.escape

        var svg = SVG()
        svg.line(
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(configuration.width)" height="\##(configuration.height)" "##
                + ##"viewBox="0 0 \##(configuration.width) \##(configuration.height)" font-family="Helvetica, Arial, sans-serif">"##)
        svg.line(##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##)
        svg.line(##"<text x="\##(f(left))" y="28" font-size="18" font-weight="bold" fill="#222">\##(e(configuration.title))</text>"##)
        var subtitle = "\(points.count) polic\(points.count == 1 ? "y" : "ies"); the line joins the frontier"
        if points.contains(where: \.simulated) { subtitle += "; hollow points: cascade verdicts simulated from the labels" }
        if points.contains(where: \.bound) { subtitle += "; grey diamond: the oracle bound" }
        svg.line(##"<text x="\##(f(left))" y="48" font-size="12" fill="#555">\##(e(subtitle))</text>"##)

        // Grid, ticks and axis titles.
        let decimals = step % 1_000_000 == 0 ? 0 : step % 10_000 == 0 ? 2 : 4
        var tick: Int128 = 0
        while tick <= xMax {
            let tx = left + Double(tick) / Double(xMax) * plotW
            svg.line(##"<line x1="\##(f(tx))" y1="\##(f(top))" x2="\##(f(tx))" y2="\##(f(top + plotH))" stroke="#EEEEEE"/>"##)
            let label = MicroDollars(micros: Int64(clamping: tick)).formatted(decimals: decimals)
            svg.line(##"<text x="\##(f(tx))" y="\##(f(top + plotH + 18))" font-size="11" fill="#444" text-anchor="middle">\##(label)</text>"##)
            tick += step
        }
        var tenth = Int((yMin * 10).rounded())
        while tenth <= 10 {
            let q = Double(tenth) / 10, ty = y(q)
            svg.line(##"<line x1="\##(f(left))" y1="\##(f(ty))" x2="\##(f(left + plotW))" y2="\##(f(ty))" stroke="#EEEEEE"/>"##)
            svg.line(##"<text x="\##(f(left - 8))" y="\##(f(ty + 4))" font-size="11" fill="#444" text-anchor="end">\##(tenth * 10)%</text>"##)
            tenth += 1
        }
        svg.line(##"<line x1="\##(f(left))" y1="\##(f(top))" x2="\##(f(left))" y2="\##(f(top + plotH))" stroke="#444"/>"##)
        svg.line(##"<line x1="\##(f(left))" y1="\##(f(top + plotH))" x2="\##(f(left + plotW))" y2="\##(f(top + plotH))" stroke="#444"/>"##)
        svg.line(
            ##"<text class="x-axis" x="\##(f(left + plotW / 2))" y="\##(f(h - 24))" font-size="12" fill="#444" "##
                + ##"text-anchor="middle">Cost of the workload (USD, at the catalog's prices)</text>"##)
        svg.line(
            ##"<text class="y-axis" transform="translate(20 \##(f(top + plotH / 2))) rotate(-90)" font-size="12" fill="#444" "##
                + ##"text-anchor="middle">Quality (share of labelled answers correct)</text>"##)

        // The frontier, then the points.
        let front = frontier
        if front.count > 1 {
            let path = front.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f(x($0.element.cost))) \(f(y($0.element.quality)))" }
            svg.line(##"<path class="frontier" d="\##(path.joined(separator: " "))" fill="none" stroke="#0072B2" stroke-width="2"/>"##)
        }
        let onFront = Set(front.map(\.name))
        svg.line(##"<g class="points" font-size="11" fill="#222">"##)
        for p in points {
            let px = x(p.cost), py = y(p.quality)
            let anchor = px > left + plotW * 0.75 ? "end" : "start"
            let dx = anchor == "end" ? -8.0 : 8.0
            if p.bound {
                let d = "M\(f(px)) \(f(py - 7)) L\(f(px + 7)) \(f(py)) L\(f(px)) \(f(py + 7)) L\(f(px - 7)) \(f(py)) Z"
                svg.line(
                    ##"<path class="bound" d="\##(d)" fill="#9E9E9E" data-policy="\##(e(p.name))"><title>\##(e(p.name)) (bound): "##
                        + "\(p.cost.formatted(decimals: 4)), \(ReplayReport.percent(p.quality))</title></path>")
                svg.line(##"<text x="\##(f(px + dx))" y="\##(f(py - 9))" text-anchor="\##(anchor)" fill="#666">\##(e(p.name)) (bound)</text>"##)
                continue
            }
            let colour = onFront.contains(p.name) ? "#0072B2" : "#E69F00"
            let fill = p.simulated ? "#FFFFFF" : colour
            svg.line(
                ##"<circle cx="\##(f(px))" cy="\##(f(py))" r="5" fill="\##(fill)" stroke="\##(colour)" stroke-width="2" "##
                    + ##"data-policy="\##(e(p.name))"><title>\##(e(p.name)): \##(p.cost.formatted(decimals: 4)), "##
                    + "\(ReplayReport.percent(p.quality))\(p.simulated ? " (simulated verdicts)" : "")</title></circle>")
            svg.line(##"<text x="\##(f(px + dx))" y="\##(f(py - 7))" text-anchor="\##(anchor)">\##(e(p.name))</text>"##)
        }
        svg.line("</g>")
        if points.isEmpty {
            svg.line(
                ##"<text x="\##(f(left + plotW / 2))" y="\##(f(top + plotH / 2))" font-size="14" fill="#888" text-anchor="middle">No labelled answers</text>"##)
        }
        svg.line("</svg>")
        return svg.text
    }
}
