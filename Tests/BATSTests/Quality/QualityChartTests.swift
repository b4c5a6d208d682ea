import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Cost-versus-quality chart")
struct QualityChartTests {
    static let points = [
        QualityChart.Point(name: "cheap", cost: .dollars(1), quality: 0.6),
        QualityChart.Point(name: "mid", cost: .dollars(5), quality: 0.8, simulated: true),
        QualityChart.Point(name: "dominated", cost: .dollars(6), quality: 0.7),
        QualityChart.Point(name: "strong", cost: .dollars(12), quality: 0.86),
        QualityChart.Point(name: "oracle", cost: .dollars(4), quality: 0.93, bound: true),
    ]

    @Test("the frontier keeps the points nothing beats on both axes, by cost, bounds left out")
    func frontier() {
        let chart = QualityChart(points: Self.points)
        #expect(chart.frontier.map(\.name) == ["cheap", "mid", "strong"])
    }

    @Test("the SVG: a point per policy, the frontier through its points in cost order, labelled axes, deterministic")
    func render() throws {
        let svg = QualityChart(points: Self.points).render()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        for p in Self.points { #expect(svg.contains("data-policy=\"\(p.name)\""), "\(p.name)") }
        let path = try #require(svg.split(separator: "\n").first { $0.contains("class=\"frontier\"") })
        #expect(path.components(separatedBy: " L").count == 3, "three frontier points: \(path)")
        #expect(svg.contains("Cost of the workload (USD") && svg.contains("Quality (share of labelled answers correct)"))
        #expect(svg.contains(">$12<") || svg.contains(">$15<"))
        #expect(svg.contains("hollow points") && svg.contains("oracle (bound)"))
        #expect(QualityChart(points: Self.points).render() == svg)
        #expect(QualityChart(points: []).render().contains("No labelled answers"))
    }
}
