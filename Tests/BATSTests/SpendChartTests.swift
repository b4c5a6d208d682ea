import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Spend chart")
struct SpendChartTests {
    static let days: [SpendChart.Day] = [
        .init(date: "2026-10-01", byModel: [
            .init(model: "claude-opus-4", spend: MicroDollars(micros: 9_000_000)),
            .init(model: "claude-sonnet-4", spend: MicroDollars(micros: 6_500_001)),
        ], limit: .dollars(20)),
        .init(date: "2026-10-02", byModel: [
            .init(model: "claude-opus-4", spend: MicroDollars(micros: 19_000_000)),
            .init(model: "claude-haiku-3.5", spend: MicroDollars(micros: 2_000_000)),
            .init(model: "claude-sonnet-4", spend: MicroDollars(micros: 3_000_000)),
        ], limit: .dollars(20), criticalSpend: .dollars(19)),
        .init(date: "2026-10-05", byModel: [], limit: .dollars(20)),
    ]

    @Test("a series per model, the limit line, the legend and the over-limit mark")
    func content() throws {
        let svg = try SpendChart(days: Self.days).render()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        for model in ["claude-opus-4", "claude-sonnet-4", "claude-haiku-3.5"] {
            #expect(svg.contains(#"<g class="series" data-model="\#(model)""#))
        }
        #expect(svg.components(separatedBy: "class=\"limit-line\"").count == 2)
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains("daily limit $20.00"))
        #expect(svg.contains(#"class="over-limit""#))
        #expect(svg.contains("$4.00 over the limit"))
        #expect(svg.contains("over limit (critical)"))
        #expect(svg.contains("Total $39.50 over 3 days · 1 day over the limit"))
        #expect(svg.contains(">$20</text>"))
    }

    @Test("models are stacked and listed by total, largest first, with exact totals")
    func order() throws {
        let chart = SpendChart(days: Self.days)
        #expect(try chart.models.map(\.model) == ["claude-opus-4", "claude-sonnet-4", "claude-haiku-3.5"])
        #expect(try chart.models.map(\.total) == [.dollars(28), MicroDollars(micros: 9_500_001), .dollars(2)])
        let svg = try chart.render()
        let opus = svg.range(of: "data-model=\"claude-opus-4\"")!.lowerBound
        let haiku = svg.range(of: "data-model=\"claude-haiku-3.5\"")!.lowerBound
        #expect(opus < haiku)
    }

    @Test("deterministic, escaped, and fine without days or limits")
    func edgeCases() throws {
        #expect(try SpendChart(days: Self.days).render() == SpendChart(days: Self.days).render())
        let odd = [SpendChart.Day(date: "d1", byModel: [.init(model: "a<b>&\"c", spend: .dollars(1))], limit: nil)]
        let svg = try SpendChart(days: odd, configuration: .init(title: "T & <1>")).render()
        #expect(svg.contains("a&lt;b&gt;&amp;&quot;c"))
        #expect(svg.contains("T &amp; &lt;1&gt;"))
        #expect(!svg.contains("limit-line"))
        #expect(try SpendChart(days: []).render().contains("No spend recorded"))
    }

    @Test("totals past $9.2 trillion are a MoneyError, not a trap")
    func overflow() throws {
        let huge = SpendChart.Day(
            date: "2026-10-01", byModel: [.init(model: "a", spend: .max), .init(model: "b", spend: MicroDollars(micros: 1))], limit: .dollars(1))
        #expect(throws: MoneyError.self) { try huge.total }
        #expect(throws: MoneyError.self) { try huge.overLimit }
        #expect(throws: MoneyError.self) { try SpendChart(days: [huge]).render() }
        // Each day fits, the period does not.
        let full = SpendChart.Day(date: "2026-10-02", byModel: [.init(model: "a", spend: .max)], limit: nil)
        #expect(try full.total == .max)
        #expect(throws: MoneyError.self) { try SpendChart(days: [full, full]).models }
        #expect(throws: MoneyError.self) { try SpendChart(days: [full, full]).render() }
        // One day at the maximum still renders (the axis is computed in 128 bits).
        #expect(try SpendChart(days: [full]).render().contains("<svg"))
    }
}
