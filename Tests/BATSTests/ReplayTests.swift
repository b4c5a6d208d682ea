import Foundation
import ModelSelection
import Replay
import SpendLedger
import Testing

@Suite("Replay and audit")
struct ReplayTests {
    static func fixture() throws -> URL {
        try #require(Bundle.module.url(forResource: "trading-30d", withExtension: "jsonl", subdirectory: "Resources/workloads"))
    }

    static let limits = BudgetLimits(daily: .dollars(2), monthly: .dollars(50))

    static func replay(
        _ url: URL, limits: BudgetLimits = limits, commit: ReplayEngine.CommitMode = .batched(), catalog: ModelCatalog? = nil, ledgerIn dir: URL,
        name: String = "replay.sqlite"
    ) throws -> (ReplayReport, SQLiteLedger) {
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent(name).path, configuration: .init(limits: limits))
        let engine = ReplayEngine(
            selector: try ModelSelector(catalog: try catalog ?? ModelCatalog.bundled()),
            configuration: .init(limits: limits, failureRate: 0.02, seed: 7, commitMode: commit))
        var it = WorkloadReader(url: url).makeIterator()
        return (try engine.run(next: { try it.next() }, into: ledger), ledger)
    }

    @Test("The 30-day fixture under a tight budget: windows hold, refusals happen, CRITICAL stays on Opus, audit = report")
    func thirtyDays() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (r, ledger) = try Self.replay(try Self.fixture(), ledgerIn: dir)
        #expect(r.tasks == 63_096)
        #expect(r.days.count == 30)
        #expect(r.refusals > 0 && r.downgrades > 0 && r.retries > 0 && r.providerFallbacks > 0)
        #expect(r.criticalTotal == 462)
        #expect(r.criticalOnPinnedModel + r.failed >= r.criticalTotal)
        #expect(r.criticalOnPinnedModel >= r.criticalTotal - 1)
        for w in r.days + r.months {
            #expect(!w.nonCriticalOverBudget, "non-critical spend passed the limit in \(w.key)")
            #expect(w.nonCriticalSpend <= w.limit!)
        }
        #expect(r.cost < r.baselineNoBudget && r.baselineNoBudget < r.baselineOpusOnly)

        // The audit of the replay's ledger equals the report to the micro-dollar.
        let byDay = try ledger.audit(by: .day)
        #expect(byDay.totals.spend == r.cost)
        #expect(byDay.totals.criticalSpend == r.days.reduce(.zero) { $0 + $1.criticalSpend })
        #expect(byDay.totals.refused == r.refusals)
        #expect(byDay.totals.openReservations == 0)
        for (row, day) in zip(byDay.rows, r.days) {
            #expect(row.group == day.key && row.spend == day.spend && row.limit == day.limit)
        }
        let byModel = try ledger.audit(by: .model)
        for row in byModel.rows where row.group != "(none)" {
            #expect(row.spend == r.byModel[row.group]?.cost)
        }
        // Every settled critical call ran on Opus.
        let critical = try ledger.audit(by: .tier).rows.first { $0.group == "critical" }
        #expect(critical?.spend == r.byModel["claude-opus"]?.cost)
        #expect(try ledger.windowTotals().allSatisfy { w in w.limit.map { w.nonCriticalSettled <= $0 } ?? true })
        #expect(try ledger.verify().isIntact)
    }

    @Test("One commit per call gives the same result as batched commits; the same seed gives the same report")
    func commitModes() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The first 3,000 tasks are enough to compare.
        let lines = try String(contentsOf: try Self.fixture(), encoding: .utf8).split(separator: "\n").prefix(3_000).joined(separator: "\n")
        let small = dir.appendingPathComponent("small.jsonl")
        try Data(lines.utf8).write(to: small)
        let tight = BudgetLimits(daily: MicroDollars(micros: 300_000), monthly: .dollars(5))
        let (a, _) = try Self.replay(small, limits: tight, commit: .batched(500), ledgerIn: dir, name: "a.sqlite")
        let (b, _) = try Self.replay(small, limits: tight, commit: .perCall, ledgerIn: dir, name: "b.sqlite")
        let (c, _) = try Self.replay(small, limits: tight, commit: .batched(7), ledgerIn: dir, name: "c.sqlite")
        for other in [b, c] {
            #expect(a.cost == other.cost && a.refusals == other.refusals && a.byModel == other.byModel && a.days == other.days)
            #expect(a.retries == other.retries && a.providerFallbacks == other.providerFallbacks)
        }
        #expect(a.refusals > 0)
    }

    @Test("What-if: re-pricing a past ledger re-routes its tasks")
    func whatIf() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = try String(contentsOf: try Self.fixture(), encoding: .utf8).split(separator: "\n").prefix(2_000).joined(separator: "\n")
        let small = dir.appendingPathComponent("small.jsonl")
        try Data(lines.utf8).write(to: small)
        let (original, past) = try Self.replay(small, limits: .unlimited, ledgerIn: dir, name: "past.sqlite")

        // Double DeepSeek V3's prices.
        var json = try String(contentsOf: ModelCatalogURL.bundled(), encoding: .utf8)
        json = json.replacingOccurrences(of: "\"input_per_mtok\": \"0.30\"", with: "\"input_per_mtok\": \"0.60\"")
            .replacingOccurrences(of: "\"output_per_mtok\": \"1.20\"", with: "\"output_per_mtok\": \"2.40\"")
        let doubled = try ModelCatalog.decode(Data(json.utf8), source: "doubled.json")
        #expect(doubled.model(.deepseekV3)?.inputPerMillionTokens == MicroDollars(micros: 600_000))

        var source = LedgerWorkload(ledger: past)
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent("whatif.sqlite").path)
        let engine = ReplayEngine(selector: try ModelSelector(catalog: doubled), configuration: .init())
        let r = try engine.run(next: { try source.next() }, into: ledger)
        #expect(r.tasks == original.tasks - original.failed)
        let v3Before = try #require(original.byModel["deepseek-v3"])
        let v3After = try #require(r.byModel["deepseek-v3"])
        #expect(v3After.inputTokens == v3Before.inputTokens && v3After.outputTokens == v3Before.outputTokens)
        #expect(v3After.cost > v3Before.cost)
        #expect(r.byModel["claude-opus"]?.cost == original.byModel["claude-opus"]?.cost)
    }

    @Test("The report's JSON has the documented fields, dollars with micro-dollar precision")
    func reportJSON() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = try String(contentsOf: try Self.fixture(), encoding: .utf8).split(separator: "\n").prefix(500).joined(separator: "\n")
        let small = dir.appendingPathComponent("small.jsonl")
        try Data(lines.utf8).write(to: small)
        let (r, _) = try Self.replay(small, ledgerIn: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try r.json().utf8)) as? [String: Any])
        for key in [
            "tasks", "by_tier", "by_model", "cost_usd", "baseline_opus_only_usd", "baseline_no_budget_usd", "savings_vs_opus", "days", "months",
            "downgrades", "refusals", "provider_fallbacks", "retries", "critical_total", "critical_on_opus", "tasks_per_second",
            "overhead_us_p50", "overhead_us_p99",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        // Money is exact to the micro-dollar: decoded as a Decimal, the number is the amount itself.
        struct Money: Decodable { var cost_usd: Decimal }
        #expect(try JSONDecoder().decode(Money.self, from: Data(try r.json().utf8)).cost_usd == r.cost.decimalValue)
        let day = try #require((object["days"] as? [[String: Any]])?.first)
        for key in ["date", "spend_usd", "non_critical_spend_usd", "critical_spend_usd", "limit_usd", "over_budget"] {
            #expect(day[key] != nil, "missing days[].\(key)")
        }
    }
}

/// Finds the bundled catalog file for tests that edit it.
enum ModelCatalogURL {
    static func bundled() -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ModelSelection/Resources/catalog.json")
    }
}
