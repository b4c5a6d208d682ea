import BATSServer
import Foundation
import SpendLedger
import Testing

/// The dashboard in a real headless browser (Debian's chromium): it loads, runs its script, and shows the numbers
/// `/v1/bats/budget` gives after routed calls; a screenshot is kept under `.build/test-artifacts/`.
@Suite(
    "bats serve: the dashboard in headless chromium",
    .enabled(if: ExternalTool.chromium != nil || ExternalTool.inCI, Comment(rawValue: ExternalTool.chromiumHint)))
struct DashboardBrowserTests {
    /// Where the screenshot is kept after the test, for a person to look at.
    static let artifacts = ExternalTool.root.appendingPathComponent(".build/test-artifacts")

    /// Runs chromium headless on `url` with its own profile; `extra` adds `--dump-dom` or `--screenshot=…`.
    static func chromium(_ url: String, _ extra: [String]) async throws -> ExternalTool.Output {
        let browser = try #require(ExternalTool.chromium, Comment(rawValue: ExternalTool.chromiumHint))
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("bats-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        return try await ExternalTool.run(
            browser,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile.path)",
                "--virtual-time-budget=10000", "--window-size=1280,1700",
            ] + extra + [url],
            timeout: .seconds(90))
    }

    /// The text of the element with `id` in a dumped DOM.
    static func element(_ id: String, in dom: String) -> String? {
        guard let r = dom.range(of: #"id="\#(id)"[^>]*>([^<]*)<"#, options: .regularExpression) else { return nil }
        let tag = dom[r]
        guard let gt = tag.firstIndex(of: ">") else { return nil }
        return String(tag[tag.index(after: gt)...].dropLast())
    }

    /// The rows (`data-group` or `data-scope` and the cells' text) of a table's body in a dumped DOM.
    static func rows(_ table: String, in dom: String) -> [[String]] {
        guard let start = dom.range(of: #"id="\#(table)""#), let end = dom.range(of: "</table>", range: start.upperBound..<dom.endIndex) else { return [] }
        let body = dom[start.upperBound..<end.lowerBound]
        return body.components(separatedBy: "<tr").dropFirst(2).map { row in
            row.components(separatedBy: "<td").dropFirst().map { cell in
                guard let gt = cell.firstIndex(of: ">") else { return "" }
                return String(cell[cell.index(after: gt)...].prefix { $0 != "<" })
            }
        }
    }

    static func usd(_ v: Any?) -> String {
        guard let n = v as? NSNumber else { return "unlimited" }
        return String(format: "$%.6f", n.doubleValue)
    }

    @Test("The page loads in chromium and its spend, limits, groups, scopes and refusals match /v1/bats/budget")
    func dashboardMatchesBudget() async throws {
        let limits = BudgetLimits(
            daily: try .init(dollars: 2), monthly: try .init(dollars: 30),
            scopes: [try BudgetScope(name: "tag:agent=pricer", daily: .zero, monthly: nil)])
        try await ServerHarness.with(limits: limits) { h in
            for (model, agent) in [("bats/simple", "scanner"), ("bats/medium", "scanner"), ("bats/complex", "news"), ("bats/simple", "pricer")] {
                let r = try await h.chat(model: model, headers: [("X-BATS-Tags", "agent=\(agent)")])
                #expect(r.status == (agent == "pricer" ? 429 : 200), "\(r.body)")
            }
            let budget = try #require(try await h.send(.GET, "/v1/bats/budget").json)
            let dump = try await Self.chromium(h.baseURL + "/dashboard", ["--dump-dom"])
            #expect(dump.status == 0, "chromium: \(dump.stderr.suffix(2_000))")
            let dom = dump.stdout
            #expect(dom.contains("data-as-of="), "the page's script filled it in: \(dom.prefix(3_000))")
            #expect(Self.element("error", in: dom) == "", "the page read the budget")

            let day = try #require(budget["day"] as? [String: Any]), month = try #require(budget["month"] as? [String: Any])
            for (prefix, w) in [("day", day), ("month", month)] {
                for field in ["spent": "settled_usd", "reserved": "reserved_usd", "limit": "limit_usd", "remaining": "remaining_usd"] {
                    #expect(Self.element("\(prefix)-\(field.key)", in: dom) == Self.usd(w[field.value]), "\(prefix)-\(field.key)")
                }
            }
            #expect(Self.element("day-spent", in: dom) != "$0.000000", "calls were made")

            let today = try #require(budget["today"] as? [String: Any])
            for (table, key) in [("by-model", "by_model"), ("by-tier", "by_tier"), ("by-agent", "by_agent")] {
                let expected = try #require(today[key] as? [[String: Any]]).filter { ($0["calls"] as? Int ?? 0) > 0 }
                let shown = Self.rows(table, in: dom)
                for row in expected {
                    let group = try #require(row["group"] as? String)
                    let line = shown.first { $0.first == group }
                    #expect(line?[1] == "\(row["calls"] ?? "")" && line?[2] == Self.usd(row["spent_usd"]), "\(table) \(group): \(line ?? [])")
                }
            }
            #expect(Self.rows("by-agent", in: dom).contains { $0.first == "scanner" && $0[1] == "2" })
            let scopes = Self.rows("scopes", in: dom)
            #expect(scopes.contains { $0.first == "tag:agent=pricer" && $0[2] == "$0.000000" }, "\(scopes)")
            let recent = Self.rows("recent", in: dom)
            #expect(recent.contains { $0.count > 1 && $0[1] == "refused" }, "the refusal is listed: \(recent)")

            let chart = try await h.send(.GET, "/dashboard/chart.svg")
            #expect(chart.status == 200 && chart.header("content-type") == "image/svg+xml" && chart.body.contains("<svg"))
            #expect(chart.body.contains("deepseek-v3") && !chart.body.contains("(none)"), "a series per model that spent, none for refusals")

            try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
            let png = Self.artifacts.appendingPathComponent("dashboard.png")
            try? FileManager.default.removeItem(at: png)
            let shot = try await Self.chromium(h.baseURL + "/dashboard", ["--screenshot=\(png.path)", "--hide-scrollbars"])
            #expect(shot.status == 0, "chromium: \(shot.stderr.suffix(2_000))")
            let size = (try? FileManager.default.attributesOfItem(atPath: png.path)[.size] as? Int) ?? 0
            #expect(size > 10_000, "a screenshot of the filled page at \(png.path)")
            print("dashboard screenshot: \(png.path)")
        }
    }
}
