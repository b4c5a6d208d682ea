import Foundation
import ModelSelection
import Testing

@Suite("Model selection")
struct SelectionTests {
    static let catalog = try! ModelCatalog.bundled()
    static let selector = try! ModelSelector(catalog: catalog)

    /// A task of 1,000 prompt tokens and 500 completion tokens.
    static func task(_ tier: Complexity) -> TaskProfile { TaskProfile(complexity: tier, inputTokens: 1_000, maxOutputTokens: 500) }
    static func estimate(_ tier: Complexity, _ model: ModelID) -> MicroDollars {
        // Small, fixed counts: the estimate always fits.
        try! selector.estimate(task(tier), on: catalog.model(model)!)
    }
    static func budget(daily: MicroDollars?, monthly: MicroDollars? = nil) -> BudgetSnapshot {
        .init(daily: .init(limit: daily), monthly: .init(limit: monthly))
    }

    @Test("Catalog prices and the 5% margin give exact micro-dollar costs")
    func exactCosts() throws {
        let v3 = Self.catalog.model(.deepseekV3)!
        // 1,000 × $0.30/M + 500 × $1.20/M = $0.0009; × 1.05 = $0.000945.
        #expect(try Self.catalog.cost(of: v3, inputTokens: 1_000, outputTokens: 500) == MicroDollars(micros: 945))
        let opus = Self.catalog.model(.claudeOpus)!
        // 1,000 × $15/M + 500 × $75/M = $0.0525; × 1.05 = $0.055125.
        #expect(try Self.catalog.cost(of: opus, inputTokens: 1_000, outputTokens: 500) == MicroDollars(micros: 55_125))
        // Fractions of a micro-dollar round up: 1 token of V3 input = 0.3 µ$ × 1.05 → 1 µ$.
        #expect(try Self.catalog.cost(of: v3, inputTokens: 1, outputTokens: 0) == MicroDollars(micros: 1))
        #expect(try Self.catalog.cost(of: v3, inputTokens: 0, outputTokens: 0) == .zero)
        #expect(Self.catalog.models.filter { $0.kind == .chat }.count == 5)
        // Images cost per image from the catalog: 3 × $0.04 × 1.05 = $0.126; embeddings per input token.
        let image = try #require(Self.catalog.model("gpt-image-1"))
        #expect(try image.kind == .image && Self.catalog.cost(of: image, inputTokens: 0, outputTokens: 0, images: 3) == MicroDollars(micros: 126_000))
        #expect(Self.catalog.cost(of: "text-embedding-3-small", inputTokens: 1_000_000, outputTokens: 0) == MicroDollars(micros: 21_000))
        #expect(Self.catalog.model(.kimiK2)?.contextWindow == 256_000)
    }

    @Test("Money parses and prints exactly")
    func money() {
        #expect(MicroDollars(parsing: "12.50") == MicroDollars(micros: 12_500_000))
        #expect(MicroDollars(parsing: "$0.000001") == MicroDollars(micros: 1))
        #expect(MicroDollars(parsing: "1.0000001") == nil)
        #expect(MicroDollars(parsing: "abc") == nil)
        #expect(MicroDollars(parsing: "-3") == MicroDollars(micros: -3_000_000))
        #expect(MicroDollars(micros: 1_234_567).description == "$1.234567")
        #expect(MicroDollars(micros: 1_235_000).formatted(decimals: 2) == "$1.24")
        #expect(MicroDollars(micros: -500).decimalString == "-0.000500")
    }

    enum BudgetState: String, CaseIterable, CustomTestStringConvertible {
        case unlimited, ample, preferredDoesNotFit, onlyCheapestFits, exhausted, zero
        var testDescription: String { rawValue }
    }

    /// What each tier gets in each budget state, per the default chains.
    @Test("Every tier in every budget state", arguments: Complexity.allCases, BudgetState.allCases)
    func table(tier: Complexity, state: BudgetState) {
        let chain = Self.selector.chain(for: tier)
        let preferred = Self.estimate(tier, chain[0])
        let cheapest = Self.estimate(tier, chain.last!)
        let daily: MicroDollars?
        switch state {
        case .unlimited: daily = nil
        case .ample: daily = .dollars(100)
        case .preferredDoesNotFit: daily = preferred - MicroDollars(micros: 1)
        case .onlyCheapestFits: daily = cheapest
        case .exhausted: daily = cheapest - MicroDollars(micros: 1)
        case .zero: daily = .zero
        }
        let s = Self.selector.select(Self.task(tier), budget: Self.budget(daily: daily))
        if tier == .critical {
            #expect(s.model == .claudeOpus)
            #expect(s.reason == .pinnedCritical)
            // The critical chain is Opus alone: a budget of exactly its estimate still fits.
            #expect(s.exceedsDailyLimit == ([.preferredDoesNotFit, .exhausted, .zero].contains(state)))
            return
        }
        switch state {
        case .unlimited, .ample:
            #expect(s.model == chain[0])
            #expect(s.reason == .preferred)
        case .preferredDoesNotFit:
            // The first cheaper model down the chain that fits (chains are quality-ordered, not price-ordered).
            let expected = chain.dropFirst().first { Self.estimate(tier, $0) <= daily! }
            #expect(s.model == expected)
            #expect(s.reason == (expected == nil ? .refused : .downgradedForBudget))
            if expected != nil { #expect(s.estimate <= daily!) }
        case .onlyCheapestFits:
            #expect(s.model == chain.last)
            #expect(s.reason == (chain.count == 1 ? .preferred : .downgradedForBudget))
        case .exhausted, .zero:
            #expect(s.isRefused)
            #expect(s.refusal?.cheapestEstimate == cheapest)
            #expect(s.refusal?.dailyAvailable == daily)
        }
    }

    @Test("The monthly window constrains as the daily one does")
    func monthlyWindow() {
        let est = Self.estimate(.complex, .kimiK2)
        let s = Self.selector.select(Self.task(.complex), budget: Self.budget(daily: .dollars(10), monthly: est - MicroDollars(micros: 1)))
        // Mistral Medium 3 costs more than Kimi K2 for this shape, so the first fit is DeepSeek V3.
        #expect(s.model == .deepseekV3)
        #expect(s.reason == .downgradedForBudget)
        // Spent and reserved amounts count against the limit.
        var b = Self.budget(daily: .dollars(1))
        b.daily.settled = .dollars(1) - est
        b.daily.reserved = MicroDollars(micros: 1)
        #expect(Self.selector.select(Self.task(.complex), budget: b).model == .deepseekV3)
    }

    @Test("Critical is pinned to Opus with both budgets at zero and flags the overrun")
    func criticalAtZero() {
        var b = Self.budget(daily: .zero, monthly: .zero)
        b.daily.settled = .dollars(5)
        let s = Self.selector.select(Self.task(.critical), budget: b, excluding: [.claudeOpus])
        #expect(s.model == .claudeOpus)
        #expect(s.reason == .pinnedCritical)
        #expect(s.exceedsDailyLimit && s.exceedsMonthlyLimit)
    }

    @Test("Provider failures move down the chain; the reasoning chain puts R1 above Kimi")
    func providerFallback() {
        #expect(Self.selector.chain(for: .reasoning) == [.deepseekR1, .kimiK2, .mistralMedium3, .deepseekV3])
        let s = Self.selector.select(Self.task(.reasoning), budget: .unlimited, excluding: [.deepseekR1])
        #expect(s.model == .kimiK2)
        #expect(s.reason == .downgradedForProviderFailure)
        let all = Self.selector.select(Self.task(.medium), budget: .unlimited, excluding: [.mistralMedium3, .deepseekV3])
        #expect(all.isRefused)
    }

    @Test("Downgrade-threshold policy starts one step lower when remaining falls below the share")
    func thresholdPolicy() throws {
        let sel = try ModelSelector(catalog: Self.catalog, configuration: .init(downgradeThresholdPartsPerMillion: 200_000))
        var b = Self.budget(daily: .dollars(10))
        b.daily.settled = MicroDollars(micros: 7_000_000)  // 30% left
        #expect(sel.select(Self.task(.complex), budget: b).model == .kimiK2)
        b.daily.settled = MicroDollars(micros: 8_500_000)  // 15% left
        let s = sel.select(Self.task(.complex), budget: b)
        #expect(s.model == .mistralMedium3)
        #expect(s.reason == .downgradedForBudget)
        // Off by default.
        #expect(Self.selector.select(Self.task(.complex), budget: b).model == .kimiK2)
    }

    @Test("Reserve-share policy keeps part of each budget for critical calls")
    func reserveShare() throws {
        let sel = try ModelSelector(catalog: Self.catalog, configuration: .init(criticalReservePartsPerMillion: 500_000))
        let est = Self.estimate(.simple, .deepseekV3)
        let b = Self.budget(daily: est * 2 - MicroDollars(micros: 2))  // half is just under one estimate
        #expect(sel.select(Self.task(.simple), budget: b).isRefused)
        #expect(Self.selector.select(Self.task(.simple), budget: b).model == .deepseekV3)
        #expect(sel.select(Self.task(.critical), budget: b).model == .claudeOpus)
    }

    @Test("Task kinds map to tiers; unknown kinds follow the explicit rule")
    func taskTiers() throws {
        #expect(try Self.selector.tier(for: "parse_market_data").tier == .simple)
        #expect(try Self.selector.tier(for: "analyze_technicals").tier == .medium)
        #expect(try Self.selector.tier(for: "options_structure").tier == .complex)
        #expect(try Self.selector.tier(for: "pre_trade_reasoning").tier == .reasoning)
        #expect(try Self.selector.tier(for: "execute_trade").tier == .critical)
        let unknown = try Self.selector.tier(for: "summarize_news")
        #expect(unknown.tier == .medium && unknown.byUnknownRule)
        let strict = try ModelSelector(catalog: Self.catalog, configuration: .init(unknownTask: .reject))
        #expect(throws: SelectionError.unknownTaskKind("summarize_news")) { try strict.tier(for: "summarize_news") }
    }

    @Test("Capabilities and context windows filter candidates")
    func capabilities() {
        var t = Self.task(.medium)
        t.requiredCapabilities = .vision
        #expect(Self.selector.select(t, budget: .unlimited).model == .mistralMedium3)
        t.requiredCapabilities = [.vision, .reasoning]
        #expect(Self.selector.select(t, budget: .unlimited).isRefused)
        var big = Self.task(.complex)
        big.inputTokens = 200_000
        #expect(Self.selector.select(big, budget: .unlimited).model == .kimiK2)
        big.inputTokens = 300_000
        #expect(Self.selector.select(big, budget: .unlimited).isRefused)
    }

    @Test("Output caps default per tier and never pass the model's maximum")
    func outputCaps() {
        let t = TaskProfile(complexity: .simple, inputTokens: 10, maxOutputTokens: 0)
        #expect(Self.selector.select(t, budget: .unlimited).maxOutputTokens == 512)
        let huge = TaskProfile(complexity: .simple, inputTokens: 10, maxOutputTokens: 1_000_000)
        #expect(Self.selector.select(huge, budget: .unlimited).maxOutputTokens == 8_192)
    }
}
