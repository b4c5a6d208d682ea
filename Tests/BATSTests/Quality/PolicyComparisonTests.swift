import Foundation
import ModelSelection
import Replay
import SpendLedger
import Testing

@Suite("Policies compared on labelled workloads")
struct PolicyComparisonTests {
    static let catalog = try! ModelCatalog.bundled()

    static func compare(
        _ policies: String, tasks: [WorkloadTask], limits: BudgetLimits = .unlimited, seed: UInt64 = 1
    ) throws -> PolicyComparison {
        let selector = try ModelSelector(catalog: catalog)
        let ladder = QualityLadder(tasks: tasks, catalog: catalog)
        return try PolicyComparison.run(
            try QualityPolicy.list(parsing: policies, seed: seed), selector: selector, configuration: .init(limits: limits, seed: seed),
            ladder: ladder
        ) {
            var it = tasks.makeIterator()
            return { it.next() }
        }
    }

    static func row(_ c: PolicyComparison, _ name: String) throws -> PolicyComparison.Row {
        try #require(c.rows.first { $0.name == name }, "no row \(name)")
    }

    static func cost(_ model: ModelID, _ t: WorkloadTask) throws -> MicroDollars {
        try #require(catalog.cost(of: model, inputTokens: t.inputTokens, outputTokens: t.outputTokens(on: model)))
    }

    @Test("the ladder orders the labelled models by price and counts their labels")
    func ladder() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let ladder = QualityLadder(tasks: tasks, catalog: Self.catalog)
        #expect(ladder.models == [.deepseekV3, .claudeOpus])
        #expect(ladder.rungs.map(\.correct) == [842, 1_130])
        #expect(ladder.anyCorrect == 1_225 && ladder.labelledTasks == 1_319)
    }

    @Test("always-strong: quality is the strong model's label share, cost is its calls at the labels' output tokens")
    func alwaysStrong() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let c = try Self.compare("strong:claude-opus,cheap", tasks: tasks)
        let strong = try Self.row(c, "strong:claude-opus")
        #expect(strong.quality.correct == tasks.filter { $0.outcomes[.claudeOpus]?.correct == true }.count)
        #expect(strong.quality.labelled == 1_319 && strong.quality.unlabelled == 0)
        #expect(strong.quality.share == c.ladder.baseRate(of: .claudeOpus))
        #expect(strong.cost == (try MicroDollars.sum(tasks.map { try Self.cost(.claudeOpus, $0) })))
        let cheap = try Self.row(c, "cheap")
        #expect(cheap.quality.correct == 842)
        #expect(cheap.cost == (try MicroDollars.sum(tasks.map { try Self.cost(.deepseekV3, $0) })))
        #expect(strong.report.byModel.keys.sorted() == ["claude-opus"])
    }

    @Test("the oracle bound: the share with some model correct, at least every other policy's quality")
    func oracleBound() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let c = try Self.compare(
            "static,cheap,strong,random:0.25,random:0.5,random:0.75,oracle,cascade,cascade:0.9/0.9,cascade:0.6/0.95,council", tasks: tasks)
        let oracle = try Self.row(c, "oracle")
        #expect(oracle.quality.correct == 1_225)
        #expect(oracle.quality.share == c.ladder.oracleShare)
        for row in c.rows {
            #expect(row.quality.correct <= oracle.quality.correct, "\(row.name)")
        }
        // Cheapest correct model, else the cheap one: the weak model whenever it is right.
        let expected = try MicroDollars.sum(tasks.map { t in
            try Self.cost(t.outcomes[.deepseekV3]?.correct == false && t.outcomes[.claudeOpus]?.correct == true ? .claudeOpus : .deepseekV3, t)
        })
        #expect(oracle.cost == expected)
        // A bound, not a policy: reported, but never on the frontier.
        #expect(!c.frontier.contains { $0.name == "oracle" })
        #expect(c.frontier.map(\.name).first == "cheap")
    }

    @Test("a cascade with a perfect verifier has the oracle's quality, at the weak cost plus the strong cost where the weak is wrong")
    func perfectCascade() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let c = try Self.compare("cascade:1/1,oracle", tasks: tasks)
        let cascade = try Self.row(c, "cascade:1/1")
        #expect(cascade.quality == (try Self.row(c, "oracle")).quality)
        let expected = try MicroDollars.sum(tasks.map { t in
            let weak = try Self.cost(.deepseekV3, t)
            return t.outcomes[.deepseekV3]?.correct == true ? weak : try weak.adding(try Self.cost(.claudeOpus, t))
        })
        #expect(cascade.cost == expected)
        #expect(cascade.report.calls == 1_319 + 477)
        #expect(cascade.report.simulatedVerdicts)
        #expect(c.table().contains("SIMULATED"))
    }

    @Test("a council of two: the tie goes to the first seat, and every seat is paid")
    func council() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let c = try Self.compare("council,cheap,strong", tasks: tasks)
        let council = try Self.row(c, "council")
        #expect(council.quality == (try Self.row(c, "cheap")).quality)
        #expect(council.cost == (try (try Self.row(c, "cheap")).cost.adding((try Self.row(c, "strong")).cost)))
        #expect(council.report.calls == 2 * 1_319)
    }

    @Test("seeded: the same seed gives the same replay, another seed another; the route is a pure function")
    func seeded() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let a = try Self.compare("random:0.5,cascade:0.8/0.8", tasks: tasks, seed: 7)
        let b = try Self.compare("random:0.5,cascade:0.8/0.8", tasks: tasks, seed: 7)
        let other = try Self.compare("random:0.5,cascade:0.8/0.8", tasks: tasks, seed: 8)
        for (x, y) in zip(a.rows, b.rows) { #expect(x.cost == y.cost && x.quality == y.quality) }
        for (x, y) in zip(a.rows, other.rows) { #expect(x.cost != y.cost, "\(x.name)") }
        let random = try #require(a.rows.first?.report)
        #expect(random.byModel["claude-opus"].map { abs($0.tasks - 660) < 80 } == true, "about half on the strong model")
        let policy = try QualityPolicy(parsing: "cascade:0.9/0.7", seed: 3)
        let task = tasks[5]
        #expect(policy.route(for: task, ordinal: 6, ladder: a.ladder) == policy.route(for: task, ordinal: 6, ladder: a.ladder))
    }

    @Test("the simulated verifier: recall is P(accept | correct), precision is P(correct | accept) at the model's base rate")
    func verifierModel() throws {
        let v = try SimulatedVerifier(precision: 0.9, recall: 0.8)
        let q = 0.6
        let f = v.falseAcceptance(baseRate: q)
        #expect(abs(v.recall * q / (v.recall * q + f * (1 - q)) - 0.9) < 1e-12)
        #expect(v.acceptance(correct: true, baseRate: q) == 0.8)
        #expect(SimulatedVerifier.perfect.acceptance(correct: false, baseRate: q) == 0)
        #expect(try SimulatedVerifier(precision: 0.3, recall: 1).falseAcceptance(baseRate: 0.6) == 1)
        // Realized on GSM8K: the weak answers a 0.9/0.8 cascade accepts are about 90% correct.
        let tasks = try RouteLLMImportTests.gsm8k()
        let ladder = QualityLadder(tasks: tasks, catalog: Self.catalog)
        let policy = QualityPolicy.cascade(v, seed: 11)
        var accepted = 0, right = 0, correctSeen = 0, correctAccepted = 0
        for (n, t) in tasks.enumerated() {
            guard case .cascade(_, let accepts) = policy.route(for: t, ordinal: n + 1, ladder: ladder) else { continue }
            let ok = t.outcomes[.deepseekV3]?.correct == true
            if accepts[0] { accepted += 1; if ok { right += 1 } }
            if ok { correctSeen += 1; if accepts[0] { correctAccepted += 1 } }
        }
        #expect(abs(Double(right) / Double(accepted) - 0.9) < 0.03)
        #expect(abs(Double(correctAccepted) / Double(correctSeen) - 0.8) < 0.03)
        #expect(throws: ReplayError.self) { try SimulatedVerifier(precision: 0, recall: 0.5) }
        #expect(throws: ReplayError.self) { try SimulatedVerifier(precision: 0.5, recall: 1.5) }
    }

    @Test("budgets apply to each policy: a tight daily limit refuses strong calls, and no run passes it")
    func budgets() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let limits = BudgetLimits(daily: .dollars(2), monthly: .dollars(50))
        let c = try Self.compare("strong,cheap,cascade:0.9/0.9", tasks: tasks, limits: limits)
        let strong = try Self.row(c, "strong")
        #expect(strong.refused > 0)
        #expect(strong.cost <= .dollars(2))
        #expect(strong.quality.labelled + strong.refused == 1_319)
        #expect(try Self.row(c, "cheap").refused == 0)
        let cascade = try Self.row(c, "cascade:0.9/0.9")
        #expect(cascade.cost <= .dollars(2))
        // A refused escalation keeps the weak answer: the cascade answers more tasks than always-strong does.
        #expect(cascade.quality.labelled + cascade.refused == 1_319)
        #expect(cascade.quality.labelled > strong.quality.labelled)
    }

    @Test("the tier map answers with models that have no label: counted as unlabelled, never guessed")
    func staticUnlabelled() throws {
        let tasks = try RouteLLMImportTests.gsm8k()
        let c = try Self.compare("static", tasks: tasks)
        let r = try Self.row(c, "static").report
        #expect(r.byModel.keys.sorted() == ["mistral-medium-3"])
        #expect(r.quality.unlabelled == 1_319 && r.quality.labelled == 0 && r.quality.share == nil)
        #expect(r.table().contains("unlabelled answers 1319"))
    }

    @Test("a plain replay of a labelled workload reports quality per tier and in total, in the table and the JSON")
    func reportQuality() throws {
        var tasks = try RouteLLMImportTests.gsm8k()
        for k in tasks.indices where k % 2 == 0 { tasks[k].complexity = .simple }
        let ledger = try SQLiteLedger.inMemory()
        let engine = ReplayEngine(selector: try ModelSelector(catalog: Self.catalog), configuration: .init())
        var it = tasks.makeIterator()
        let r = try engine.run(next: { it.next() }, into: ledger)
        let simple = try #require(r.byTier[.simple])
        #expect(simple.quality.labelled == 660)
        #expect(simple.quality.correct == tasks.enumerated().filter { $0.offset % 2 == 0 && $0.element.outcomes[.deepseekV3]?.correct == true }.count)
        #expect(r.byTier[.medium]?.quality.unlabelled == 659)
        #expect(r.quality.labelled == 660 && r.quality.unlabelled == 659)
        #expect(r.table().contains("quality  correct/labelled  unlabelled"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try r.json().utf8)) as? [String: Any])
        let quality = try #require(json["quality"] as? [String: Any])
        #expect((quality["correct"] as? Int) == simple.quality.correct && (quality["unlabelled"] as? Int) == 659)
        let byTier = try #require(json["by_tier"] as? [String: [String: Any]])
        #expect((byTier["simple"]?["quality"] as? [String: Any])?["labelled"] as? Int == 660)
        // Without labels, the report carries no quality.
        let plain = WorkloadTask(epochNanoseconds: 0, complexity: .simple, inputTokens: 10, outputTokens: 5)
        var one = [plain].makeIterator()
        let unlabelled = try engine.run(next: { one.next() }, into: try SQLiteLedger.inMemory())
        #expect(!unlabelled.table().contains("quality"))
        #expect(!(try unlabelled.json()).contains("\"quality\""))
    }

    @Test("per tier and per policy: the comparison's table and JSON break quality down by tier")
    func perTier() throws {
        var tasks = try RouteLLMImportTests.gsm8k()
        for k in tasks.indices where k % 3 == 0 { tasks[k].complexity = .complex }
        let c = try Self.compare("cheap,strong", tasks: tasks)
        let cheap = try Self.row(c, "cheap")
        let complex = try #require(cheap.report.byTier[.complex])
        #expect(complex.tasks == 440)
        #expect(complex.quality.correct == tasks.enumerated().filter { $0.offset % 3 == 0 && $0.element.outcomes[.deepseekV3]?.correct == true }.count)
        #expect(complex.quality.labelled + (cheap.report.byTier[.medium]?.quality.labelled ?? 0) == 1_319)
        let table = c.table()
        #expect(table.contains("cheap                       complex       440"), "\(table)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try c.json().utf8)) as? [String: Any])
        let first = try #require((json["policies"] as? [[String: Any]])?.first)
        let tiers = try #require(first["by_tier"] as? [String: [String: Any]])
        #expect((tiers["complex"]?["quality"] as? [String: Any])?["correct"] as? Int == complex.quality.correct)
    }

    @Test("policy lists parse and name themselves; bad ones say what is wrong", arguments: [
        ("static,cheap:deepseek-v3,strong:claude-opus,random:0.5,oracle,cascade:0.9/0.9,council", nil),
        ("random", "needs the strong share"), ("random:1.5", "[0, 1]"), ("cascade:0.9", "PRECISION/RECALL"),
        ("cascade:0/0.5", "precision must be in (0, 1]"), ("oracle:x", "takes no argument"), ("best", "unknown policy 'best'"),
        ("static,,oracle", "an empty policy"), ("oracle,oracle", "given twice"), ("cheap:", "needs a model id"),
    ] as [(String, String?)])
    func parsing(text: String, fragment: String?) {
        do {
            let list = try QualityPolicy.list(parsing: text)
            #expect(fragment == nil)
            #expect(list.map(\.name).joined(separator: ",") == text)
        } catch {
            #expect(fragment.map { error.message.contains($0) } == true, "\(error)")
        }
    }

    @Test("policies naming models outside the catalog, or needing labels the workload lacks, are refused before any replay")
    func checks() throws {
        let ladder = QualityLadder(catalog: Self.catalog)
        #expect(throws: ReplayError.self) { try PolicyComparison.check([.strong("gpt-9")], catalog: Self.catalog, ladder: ladder) }
        #expect(throws: ReplayError.self) { try PolicyComparison.check([.oracle], catalog: Self.catalog, ladder: ladder) }
        try PolicyComparison.check([.staticTiers, .cheap(.deepseekV3)], catalog: Self.catalog, ladder: ladder)
    }
}
