public import ModelSelection

/// Renders a day-by-day spend chart as a standalone SVG document: one stacked bar per day (a segment per model),
/// the daily limit as a dashed line, and the part of a day over its limit hatched in red.
///
/// Models are stacked and listed by total spend, largest first, each with its own colour and its period total
/// in the legend. Money stays in ``MicroDollars``; only pixel positions use `Double`. The output is
/// deterministic: the same days give the same bytes.
public struct SpendChart: Sendable {
    /// One model's spend on a day.
    public struct ModelSpend: Sendable, Hashable {
        /// The model's name.
        public var model: String
        /// What it cost that day.
        public var spend: MicroDollars

        /// Creates an entry.
        /// - Parameters:
        ///   - model: The model's name.
        ///   - spend: What it cost.
        public init(model: String, spend: MicroDollars) {
            self.model = model
            self.spend = spend
        }
    }

    /// One day (one bar) of the chart.
    public struct Day: Sendable, Hashable {
        /// The label of the day, usually `YYYY-MM-DD` (drawn as `MM-DD`).
        public var date: String
        /// The day's spend per model (a model may be absent or appear once).
        public var byModel: [ModelSpend]
        /// The daily limit in force, if any.
        public var limit: MicroDollars?
        /// Spend on critical calls that day (shown in the tooltip of an over-limit day).
        public var criticalSpend: MicroDollars

        /// Creates a day.
        /// - Parameters:
        ///   - date: The day's label.
        ///   - byModel: Spend per model.
        ///   - limit: The daily limit, if any.
        ///   - criticalSpend: Spend on critical calls (default zero).
        public init(date: String, byModel: [ModelSpend], limit: MicroDollars?, criticalSpend: MicroDollars = .zero) {
            self.date = date
            self.byModel = byModel
            self.limit = limit
            self.criticalSpend = criticalSpend
        }

        /// The day's total spend.
        /// - Throws: ``ModelSelection/MoneyError`` when the total does not fit in 64-bit micro-dollars.
        public var total: MicroDollars {
            get throws(MoneyError) { try MicroDollars.sum(byModel.lazy.map(\.spend)) }
        }

        /// How much the day went over its limit (zero when under or without a limit).
        /// - Throws: ``ModelSelection/MoneyError`` when the total or the excess does not fit in 64-bit micro-dollars.
        public var overLimit: MicroDollars {
            get throws(MoneyError) {
                let total = try self.total
                guard let limit, total > limit else { return .zero }
                return try total.subtracting(limit)
            }
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
        ///   - height: Height in pixels (default 520).
        ///   - title: The title (default "Daily spend by model vs. daily limit").
        public init(width: Int = 960, height: Int = 520, title: String = "Daily spend by model vs. daily limit") {
            self.width = width
            self.height = height
            self.title = title
        }
    }

    /// Colours for models, in legend order (colour-blind-safe first); cycles after the last.
    public static let palette = [
        "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#1F3A93",
    ]

    /// The days to draw, in order.
    public var days: [Day]
    /// Size and title.
    public var configuration: Configuration

    /// Creates a chart.
    /// - Parameters:
    ///   - days: The days, left to right.
    ///   - configuration: Size and title.
    public init(days: [Day], configuration: Configuration = .init()) {
        self.days = days
        self.configuration = configuration
    }

    /// Models ordered by total spend over all days, largest first (ties by name).
    /// - Throws: ``ModelSelection/MoneyError`` when a model's total does not fit in 64-bit micro-dollars.
    public var models: [(model: String, total: MicroDollars)] {
        get throws(MoneyError) {
            var totals: [String: MicroDollars] = [:]
            for day in days {
                for entry in day.byModel { totals[entry.model] = try (totals[entry.model] ?? .zero).adding(entry.spend) }
            }
            return totals.map { (model: $0.key, total: $0.value) }
                .sorted { $0.total != $1.total ? $0.total > $1.total : $0.model < $1.model }
        }
    }

    // MARK: - Rendering

    /// Renders the chart.
    /// - Returns: A standalone SVG document.
    /// - Throws: ``ModelSelection/MoneyError`` when a day's, a model's or the period's total does not fit in 64-bit
    ///   micro-dollars.
    public func render() throws(MoneyError) -> String {
        let w = Double(configuration.width)
        let h = Double(configuration.height)
        let left = 84.0, right = 220.0, top = 64.0, bottom = 64.0
        let plotW = max(w - left - right, 10), plotH = max(h - top - bottom, 10)
        let models = try self.models
        // Each day's total and excess over its limit, computed once and checked.
        let totals = try days.map { (day) throws(MoneyError) in try day.total }
        let excess = try days.map { (day) throws(MoneyError) in try day.overLimit }
        let colours = Dictionary(
            uniqueKeysWithValues: models.enumerated().map { ($1.model, Self.palette[$0 % Self.palette.count]) })

        let maxValue = zip(days, totals).reduce(Int64(0)) { max($0, $1.1.rawValue, $1.0.limit?.rawValue ?? 0) }
        let (step, yMax) = Self.ticks(maxValue)
        func y(_ m: Int64) -> Double { top + plotH - Double(m) / Double(yMax) * plotH }
        func y(_ m: Int128) -> Double { top + plotH - Double(m) / Double(yMax) * plotH }
        let slot = plotW / Double(max(days.count, 1))
        let barW = min(max(slot * 0.72, 1), 90)

        var svg = SVG()
        svg.line(
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(configuration.width)" height="\##(configuration.height)" "##
                + ##"viewBox="0 0 \##(configuration.width) \##(configuration.height)" font-family="Helvetica, Arial, sans-serif">"##)
        svg.line(
            ##"<defs><pattern id="over-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">"##
                + ##"<rect width="6" height="6" fill="#FDECEA"/><line x1="0" y1="0" x2="0" y2="6" stroke="#C62828" stroke-width="3"/>"##
                + "</pattern></defs>")
        svg.line(##"<rect width="100%" height="100%" fill="#FFFFFF"/>"##)

        // Title and subtitle.
        let total = try MicroDollars.sum(totals)
        let overDays = excess.filter { $0 > .zero }.count
        svg.line(##"<text x="\##(f(left))" y="28" font-size="18" font-weight="bold" fill="#222">\##(escape(configuration.title))</text>"##)
        var subtitle = "Total \(total.formatted(decimals: 2)) over \(days.count) day\(days.count == 1 ? "" : "s")"
        if days.contains(where: { $0.limit != nil }) {
            subtitle += " · \(overDays) day\(overDays == 1 ? "" : "s") over the limit"
        }
        svg.line(##"<text x="\##(f(left))" y="48" font-size="12" fill="#555">\##(escape(subtitle))</text>"##)

        // Grid and y axis.
        let decimals = step % 1_000_000 == 0 ? 0 : step % 10_000 == 0 ? 2 : 4
        var tick: Int128 = 0
        while tick <= yMax {
            let ty = y(tick)
            svg.line(##"<line x1="\##(f(left))" y1="\##(f(ty))" x2="\##(f(left + plotW))" y2="\##(f(ty))" stroke="#E5E5E5" stroke-width="1"/>"##)
            svg.line(
                ##"<text x="\##(f(left - 8))" y="\##(f(ty + 4))" font-size="11" fill="#444" text-anchor="end">"##
                    + "\(Self.dollarsLabel(tick, decimals: decimals))</text>")
            tick += step
        }
        svg.line(
            ##"<text transform="translate(18 \##(f(top + plotH / 2))) rotate(-90)" font-size="12" fill="#444" "##
                + ##"text-anchor="middle">Spend per day (USD)</text>"##)

        // Bars, stacked by model in legend order.
        for model in models {
            svg.line(##"<g class="series" data-model="\##(escape(model.model))" fill="\##(colours[model.model]!)">"##)
            for (index, day) in days.enumerated() {
                let below = try MicroDollars.sum(day.byModel.lazy.filter { entry in
                    models.firstIndex { $0.model == entry.model }! < models.firstIndex { $0.model == model.model }!
                }.map(\.spend))
                let spend = try MicroDollars.sum(day.byModel.lazy.filter { $0.model == model.model }.map(\.spend))
                guard spend > .zero else { continue }
                let x = left + Double(index) * slot + (slot - barW) / 2
                let y0 = y(below.rawValue), y1 = y(Int128(below.rawValue) + Int128(spend.rawValue))
                svg.line(
                    ##"<rect x="\##(f(x))" y="\##(f(y1))" width="\##(f(barW))" height="\##(f(max(y0 - y1, 0.5)))">"##
                        + "<title>\(escape(day.date)) · \(escape(model.model)): \(spend.formatted(decimals: 2))</title></rect>")
            }
            svg.line("</g>")
        }

        // Over-limit portions (only critical calls may exceed the limit).
        let overs = days.indices.filter { excess[$0] > .zero }
        if !overs.isEmpty {
            svg.line(##"<g class="over-limit">"##)
            for index in overs {
                let day = days[index], overLimit = excess[index]
                let x = left + Double(index) * slot + (slot - barW) / 2
                let yTop = y(totals[index].rawValue), yLimit = y(day.limit!.rawValue)
                svg.line(
                    ##"<rect x="\##(f(x))" y="\##(f(yTop))" width="\##(f(barW))" height="\##(f(max(yLimit - yTop, 0.5)))" "##
                        + ##"fill="url(#over-hatch)" stroke="#C62828" stroke-width="1.5"><title>\##(escape(day.date)): "##
                        + "\(overLimit.formatted(decimals: 2)) over the limit (critical spend "
                        + "\(day.criticalSpend.formatted(decimals: 2)))</title></rect>")
                if slot >= 18 {
                    svg.line(
                        ##"<text x="\##(f(x + barW / 2))" y="\##(f(yTop - 5))" font-size="10" font-weight="bold" "##
                            + ##"fill="#C62828" text-anchor="middle">+\##(overLimit.formatted(decimals: slot >= 44 ? 2 : 0))</text>"##)
                } else {
                    svg.line(
                        ##"<text x="\##(f(x + barW / 2))" y="\##(f(yTop - 4))" font-size="10" font-weight="bold" "##
                            + ##"fill="#C62828" text-anchor="middle">!</text>"##)
                }
            }
            svg.line("</g>")
        }

        // Daily limit: a dashed step line across each day's slot.
        var limitPath = ""
        var previous: Int64?
        for (index, day) in days.enumerated() {
            guard let limit = day.limit else {
                previous = nil
                continue
            }
            let x0 = left + Double(index) * slot, x1 = x0 + slot, ly = y(limit.rawValue)
            limitPath += previous == nil ? "M\(f(x0)) \(f(ly))" : " L\(f(x0)) \(f(ly))"
            limitPath += " L\(f(x1)) \(f(ly))"
            previous = limit.rawValue
        }
        if !limitPath.isEmpty {
            svg.line(
                ##"<path class="limit-line" d="\##(limitPath)" fill="none" stroke="#222" stroke-width="2" stroke-dasharray="7 5"/>"##)
        }

        // Axes and x labels.
        svg.line(##"<line x1="\##(f(left))" y1="\##(f(top))" x2="\##(f(left))" y2="\##(f(top + plotH))" stroke="#444"/>"##)
        svg.line(##"<line x1="\##(f(left))" y1="\##(f(top + plotH))" x2="\##(f(left + plotW))" y2="\##(f(top + plotH))" stroke="#444"/>"##)
        let every = max(1, Int((40 / slot).rounded(.up)))
        for (index, day) in days.enumerated() where index % every == 0 {
            let cx = left + (Double(index) + 0.5) * slot
            let label = day.date.count == 10 ? String(day.date.dropFirst(5)) : day.date
            svg.line(##"<line x1="\##(f(cx))" y1="\##(f(top + plotH))" x2="\##(f(cx))" y2="\##(f(top + plotH + 4))" stroke="#444"/>"##)
            svg.line(
                ##"<text x="\##(f(cx))" y="\##(f(top + plotH + 17))" font-size="11" fill="#444" text-anchor="middle">\##(escape(label))</text>"##)
        }
        let firstYear = days.first.map { $0.date.count == 10 ? " (\($0.date.prefix(4)))" : "" } ?? ""
        svg.line(
            ##"<text x="\##(f(left + plotW / 2))" y="\##(f(h - 18))" font-size="12" fill="#444" text-anchor="middle">Day\##(firstYear)</text>"##)
        if days.isEmpty {
            svg.line(
                ##"<text x="\##(f(left + plotW / 2))" y="\##(f(top + plotH / 2))" font-size="14" fill="#888" text-anchor="middle">No spend recorded</text>"##)
        }

        // Legend.
        let lx = left + plotW + 20
        var ly = top + 4
        svg.line(##"<g class="legend" font-size="12" fill="#222">"##)
        for model in models {
            svg.line(##"<rect x="\##(f(lx))" y="\##(f(ly))" width="14" height="14" fill="\##(colours[model.model]!)"/>"##)
            svg.line(##"<text x="\##(f(lx + 20))" y="\##(f(ly + 11))">\##(escape(model.model))</text>"##)
            svg.line(##"<text x="\##(f(lx + 20))" y="\##(f(ly + 25))" font-size="10" fill="#666">\##(model.total.formatted(decimals: 2)) total</text>"##)
            ly += 34
        }
        if !limitPath.isEmpty {
            svg.line(##"<line x1="\##(f(lx))" y1="\##(f(ly + 7))" x2="\##(f(lx + 14))" y2="\##(f(ly + 7))" stroke="#222" stroke-width="2" stroke-dasharray="4 3"/>"##)
            let limits = Set(days.compactMap { $0.limit })
            let text = limits.count == 1 ? "daily limit \(limits.first!.formatted(decimals: 2))" : "daily limit"
            svg.line(##"<text x="\##(f(lx + 20))" y="\##(f(ly + 11))">\##(text)</text>"##)
            ly += 24
        }
        if !overs.isEmpty {
            svg.line(##"<rect x="\##(f(lx))" y="\##(f(ly))" width="14" height="14" fill="url(#over-hatch)" stroke="#C62828"/>"##)
            svg.line(##"<text x="\##(f(lx + 20))" y="\##(f(ly + 11))">over limit (critical)</text>"##)
        }
        svg.line("</g>")
        svg.line("</svg>")
        return svg.text
    }

    // MARK: - Helpers

    /// A "nice" tick step (1, 2 or 5 × 10ⁿ micro-dollars) for about five ticks, and the axis maximum.
    ///
    /// In 128 bits: near `Int64.max` micro-dollars the axis maximum passes it.
    static func ticks(_ maxValue: Int64) -> (step: Int128, max: Int128) {
        let top = Int128(max(maxValue, 1_000_000))
        let target = top / 5
        var magnitude: Int128 = 1
        while magnitude * 10 <= target { magnitude *= 10 }
        var step = magnitude * 10
        for multiple: Int128 in [1, 2, 5] where magnitude * multiple >= target {
            step = magnitude * multiple
            break
        }
        let axisMax = (top + step / 10 + step - 1) / step * step
        return (step, axisMax)
    }

    /// A tick label such as `$20` or `$0.25`; ticks past ``ModelSelection/MicroDollars/max`` print as that.
    private static func dollarsLabel(_ micros: Int128, decimals: Int) -> String {
        MicroDollars(micros: Int64(clamping: micros)).formatted(decimals: decimals)
    }

    private func escape(_ text: String) -> String { SVGFormat.escape(text) }

    /// A coordinate with one decimal, formatted without locale or floating-point printing.
    private func f(_ value: Double) -> String { SVGFormat.coordinate(value) }
}

/// Accumulates SVG lines.
struct SVG {
    var text = ""
    mutating func line(_ s: String) {
        text += s
        text += "\n"
    }
}
