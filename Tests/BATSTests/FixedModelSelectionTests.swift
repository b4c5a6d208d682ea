import ModelSelection
import Testing

@Suite("Fixed-model selection (embeddings, images)")
struct FixedModelSelectionTests {
    static let catalog = try! ModelCatalog.bundled()
    static let image: ModelID = "gpt-image-1"
    static let embedding: ModelID = "text-embedding-3-small"
    /// One image: $0.04 × 1.05.
    static let oneImage = MicroDollars(micros: 42_000)

    static func selector(reservePartsPerMillion: Int64 = 0) -> ModelSelector {
        try! ModelSelector(catalog: catalog, configuration: .init(criticalReservePartsPerMillion: reservePartsPerMillion))
    }

    static func window(_ limit: Int64?, settled: Int64 = 0, reserved: Int64 = 0) -> BudgetSnapshot.Window {
        .init(limit: limit.map { MicroDollars(micros: $0) }, settled: MicroDollars(micros: settled), reserved: MicroDollars(micros: reserved))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var tier: Complexity = .simple
        var daily: BudgetSnapshot.Window = window(nil)
        var monthly: BudgetSnapshot.Window = window(nil)
        var reservePartsPerMillion: Int64 = 0
        /// `nil`: refused.
        var reason: SelectionReason?
        var exceedsDaily = false
        var exceedsMonthly = false
        /// For a refusal: what the refusal says was available (`nil`: unlimited).
        var dailyAvailable: Int64?
        var monthlyAvailable: Int64?
        var testDescription: String { name }
    }

    /// One image (estimate 42,000 µ$) against each budget state.
    static let cases: [Case] = [
        Case(name: "unlimited", reason: .fixedModel),
        Case(name: "daily exactly fits", daily: window(42_000), reason: .fixedModel),
        Case(name: "daily one micro-dollar short", daily: window(41_999), reason: nil, dailyAvailable: 41_999),
        Case(name: "daily settled leaves too little", daily: window(100_000, settled: 60_000), reason: nil, dailyAvailable: 40_000),
        Case(name: "daily reserved leaves too little", daily: window(100_000, reserved: 60_001), reason: nil, dailyAvailable: 39_999),
        Case(name: "monthly short, daily ample", daily: window(1_000_000), monthly: window(100_000, settled: 58_001), reason: nil,
             dailyAvailable: 1_000_000, monthlyAvailable: 41_999),
        Case(name: "medium tier fits", tier: .medium, daily: window(50_000), reason: .fixedModel),
        Case(name: "critical reserve keeps half: refused", daily: window(80_000), reservePartsPerMillion: 500_000, reason: nil, dailyAvailable: 40_000),
        Case(name: "critical reserve keeps half: fits", daily: window(84_000), reservePartsPerMillion: 500_000, reason: .fixedModel),
        Case(name: "critical uses the reserve", tier: .critical, daily: window(80_000), reservePartsPerMillion: 500_000, reason: .pinnedCritical),
        Case(name: "critical on a zero budget", tier: .critical, daily: window(0), monthly: window(0), reason: .pinnedCritical,
             exceedsDaily: true, exceedsMonthly: true),
        Case(name: "critical over the daily window only", tier: .critical, daily: window(100_000, settled: 70_000), monthly: window(10_000_000),
             reason: .pinnedCritical, exceedsDaily: true),
    ]

    @Test("One image against every budget state", arguments: cases)
    func table(_ c: Case) throws {
        let selector = Self.selector(reservePartsPerMillion: c.reservePartsPerMillion)
        let call = try selector.fixedModelCall(Self.image, kind: .image, tier: c.tier, inputTokens: 0, images: 1)
        let s = selector.select(call, budget: BudgetSnapshot(daily: c.daily, monthly: c.monthly))
        #expect(s.tier == c.tier && s.inputTokens == 0 && s.maxOutputTokens == 0)
        #expect(s.exceedsDailyLimit == c.exceedsDaily && s.exceedsMonthlyLimit == c.exceedsMonthly)
        if let reason = c.reason {
            #expect(s.model == Self.image && s.reason == reason && s.estimate == Self.oneImage && s.refusal == nil)
            #expect(s.candidates.map(\.model) == [Self.image] && s.candidates[0].estimate == Self.oneImage && s.candidates[0].skipped == nil)
        } else {
            #expect(s.isRefused && s.reason == .refused && s.estimate == .zero)
            #expect(s.candidates.map(\.model) == [Self.image] && s.candidates[0].estimate == Self.oneImage && s.candidates[0].skipped == .budget)
            let r = try #require(s.refusal)
            #expect(r.dailyAvailable == c.dailyAvailable.map { MicroDollars(micros: $0) })
            #expect(r.monthlyAvailable == c.monthlyAvailable.map { MicroDollars(micros: $0) })
            #expect(r.cheapestEstimate == Self.oneImage && r.cheapestModel == Self.image)
        }
    }

    @Test("Estimates: input tokens for embeddings, per image for images, margin included and rounded up")
    func estimates() throws {
        let selector = Self.selector()
        // 100,000 × $0.02/M = $0.002; × 1.05 = $0.0021.
        let e = try selector.fixedModelCall(Self.embedding, kind: .embedding, inputTokens: 100_000)
        #expect(try selector.estimate(e) == MicroDollars(micros: 2_100) && e.tier == .simple)
        let one = try selector.fixedModelCall(Self.embedding, kind: .embedding, inputTokens: 1)
        #expect(try selector.estimate(one) == MicroDollars(micros: 1))
        let s = selector.select(e, budget: .unlimited)
        #expect(s.model == Self.embedding && s.inputTokens == 100_000 && s.estimate == MicroDollars(micros: 2_100))
        // 3 images: 3 × $0.04 × 1.05 = $0.126; negative counts are 0.
        #expect(try selector.estimate(try selector.fixedModelCall(Self.image, kind: .image, inputTokens: 0, images: 3)) == MicroDollars(micros: 126_000))
        let negative = try selector.fixedModelCall(Self.image, kind: .image, inputTokens: -5, images: -2)
        #expect(try negative.inputTokens == 0 && negative.images == 0 && selector.estimate(negative) == .zero)
    }

    struct BadCall: Sendable, CustomTestStringConvertible {
        var model: ModelID
        var kind: ModelInfo.Kind
        var error: SelectionError
        var testDescription: String { "\(model) as \(kind)" }
    }

    static let badCalls: [BadCall] = [
        BadCall(model: "text-embedding-9", kind: .embedding, error: .unknownModel("text-embedding-9")),
        BadCall(model: "", kind: .image, error: .unknownModel("")),
        BadCall(model: .deepseekV3, kind: .embedding, error: .wrongModelKind(.deepseekV3, expected: .embedding, actual: .chat)),
        BadCall(model: "gpt-image-1", kind: .embedding, error: .wrongModelKind("gpt-image-1", expected: .embedding, actual: .image)),
        BadCall(model: "text-embedding-3-small", kind: .image, error: .wrongModelKind("text-embedding-3-small", expected: .image, actual: .embedding)),
        BadCall(model: .claudeOpus, kind: .chat, error: .wrongModelKind(.claudeOpus, expected: .chat, actual: .chat)),
    ]

    @Test("A model the catalog lacks, or of the wrong kind, is a SelectionError naming it", arguments: badCalls)
    func rejects(_ c: BadCall) {
        #expect(throws: c.error) { try Self.selector().fixedModelCall(c.model, kind: c.kind, tier: .critical, inputTokens: 10, images: 1) }
        #expect(c.error.model == c.model && c.error.taskKind == nil)
        #expect(c.error.description.contains("'\(c.model)'"))
    }

    @Test("Error descriptions say what is wrong")
    func descriptions() {
        #expect(SelectionError.unknownModel("x").description.contains("no price"))
        let wrong = SelectionError.wrongModelKind(.deepseekV3, expected: .embedding, actual: .chat)
        #expect(wrong.description == "model 'deepseek-v3' is of kind chat; this call needs a model of kind embedding")
        #expect(wrong.expectedKind == .embedding && wrong.actualKind == .chat)
        #expect(wrong.isSameKind(as: .wrongModelKind("a", expected: .image, actual: .embedding)))
        #expect(!wrong.isSameKind(as: .unknownModel(.deepseekV3)))
        #expect(SelectionError.unknownTaskKind("k").taskKind == "k" && SelectionError.unknownTaskKind("k").model == nil)
    }
}
