import Foundation
import ModelSelection
import SpendLedger
import Testing

/// Money is exact and checked: an overflow is a `MoneyError`, never a trap or a saturated amount.
@Suite("Money: checked arithmetic and costs")
struct MoneyTests {
    static let catalog = try! ModelCatalog.bundled()
    static let max = MicroDollars(micros: .max)
    static let min = MicroDollars(micros: .min)

    // MARK: - Checked arithmetic

    @Test("adding, subtracting and multiplying are exact in range")
    func exactInRange() throws {
        #expect(try MicroDollars(micros: 1_234_567).adding(MicroDollars(micros: 1)) == MicroDollars(micros: 1_234_568))
        #expect(try Self.max.subtracting(Self.max) == .zero)
        #expect(try MicroDollars(micros: -1).adding(Self.min.adding(MicroDollars(micros: 1))) == Self.min)
        #expect(try MicroDollars(micros: 3).multiplied(by: -4) == MicroDollars(micros: -12))
        #expect(try MicroDollars.sum([Self.max, Self.min, MicroDollars(micros: 1)]) == .zero)
        #expect(try MicroDollars.sum([MicroDollars]()) == .zero)
        #expect(MicroDollars.max == Self.max && MicroDollars.min == Self.min)
    }

    @Test("an overflow is a MoneyError naming the operation and operands", arguments: ["addition", "subtraction", "multiplication", "sum"])
    func overflow(operation: String) {
        do throws(MoneyError) {
            switch operation {
            case "addition": _ = try Self.max.adding(MicroDollars(micros: 1))
            case "subtraction": _ = try Self.min.subtracting(MicroDollars(micros: 1))
            case "multiplication": _ = try MicroDollars.dollars(5_000_000_000_000).multiplied(by: 2)
            default: _ = try MicroDollars.sum([Self.max, .zero, MicroDollars(micros: 1)])
            }
            Issue.record("\(operation) did not throw")
        } catch {
            #expect(error.operation.description == operation)
            #expect(error.isSameKind(as: .overflow(.addition, operands: [])))
            #expect(error.description.contains("money overflow") && error.description.contains("$"), "\(error)")
            #expect(error.operands.count == 2)
        }
    }

    @Test("dollars(_:) saturates instead of trapping for constants past $9.2 trillion")
    func dollarsConstant() {
        #expect(MicroDollars.dollars(3) == MicroDollars(micros: 3_000_000))
        #expect(MicroDollars.dollars(.max) == .max && MicroDollars.dollars(.min) == .min)
        #expect(MicroDollars(parsing: "9223372036855") == nil)
    }

    // MARK: - Literals

    @Test("cents(_:) is exact for every Int32, so a literal can neither trap nor saturate")
    func centsLiteral() {
        #expect(MicroDollars.cents(5) == MicroDollars(micros: 50_000))
        #expect(MicroDollars.cents(1_250) == MicroDollars(parsing: "12.50"))
        #expect(MicroDollars.cents(-3) == MicroDollars(micros: -30_000))
        #expect(MicroDollars.cents(0) == .zero)
        #expect(MicroDollars.cents(.max) == MicroDollars(parsing: "21474836.47"))
        #expect(MicroDollars.cents(.min) == MicroDollars(parsing: "-21474836.48"))
        #expect(BudgetLimits(daily: .cents(5), monthly: .dollars(1)).daily == MicroDollars(micros: 50_000))
    }

    @Test("init(dollars:) and init(cents:) are exact in range, up to the last count that fits")
    func checkedInits() throws {
        for (dollars, micros): (Int64, Int64) in [(12, 12_000_000), (-7, -7_000_000), (9_223_372_036_854, 9_223_372_036_854_000_000)] {
            #expect(try MicroDollars(dollars: dollars) == MicroDollars(micros: micros))
            #expect(try MicroDollars(dollars: dollars) == MicroDollars.dollars(dollars))
        }
        for (cents, micros): (Int64, Int64) in [(1_250, 12_500_000), (-7, -70_000), (922_337_203_685_477, 9_223_372_036_854_770_000)] {
            #expect(try MicroDollars(cents: cents) == MicroDollars(micros: micros))
        }
        #expect(try MicroDollars(cents: -922_337_203_685_477) == MicroDollars(micros: -9_223_372_036_854_770_000))
    }

    @Test("a dollar or cent count past 64-bit micro-dollars is a MoneyError naming the count", arguments: [
        9_223_372_036_855, Int64.max, Int64.min, -9_223_372_036_855,
    ])
    func checkedInitsOverflow(count: Int64) {
        #expect {
            try MicroDollars(dollars: count)
        } throws: { error in
            guard let e = error as? MoneyError else { return false }
            return e.operation == .multiplication && e.operands.first == "\(count) dollars" && e.description.contains("money overflow")
        }
        let cents = count.multipliedReportingOverflow(by: 100).overflow ? count : count * 100
        #expect {
            try MicroDollars(cents: cents)
        } throws: { error in
            (error as? MoneyError)?.operands.first == "\(cents) cents"
        }
    }

    // MARK: - Costs

    @Test("a cost past 64-bit micro-dollars is a MoneyError, not a saturated amount")
    func costOverflow() throws {
        let opus = try #require(Self.catalog.model(.claudeOpus))
        #expect(throws: MoneyError.self) { try Self.catalog.cost(of: opus, inputTokens: .max, outputTokens: 0) }
        #expect(throws: MoneyError.self) { try Self.catalog.cost(of: opus, inputTokens: .max, outputTokens: .max) }
        let image = try #require(Self.catalog.model("gpt-image-1"))
        #expect(throws: MoneyError.self) { try Self.catalog.cost(of: image, inputTokens: 0, outputTokens: 0, images: .max) }
        do {
            _ = try Self.catalog.cost(of: opus, inputTokens: 9_223_372_036_854_775_807, outputTokens: 0)
        } catch {
            #expect(error.operation == .cost && error.model == .claudeOpus)
            #expect(error.operands.contains("input_tokens=9223372036854775807"), "\(error.operands)")
            #expect("\(error)".contains("claude-opus"))
        }
        // The ModelID convenience gives nil rather than a made-up amount.
        #expect(Self.catalog.cost(of: ModelID.claudeOpus, inputTokens: .max, outputTokens: 0) == nil)
    }

    @Test("a cost near the limit is exact, computed in 128 bits")
    func costNearLimit() throws {
        let opus = try #require(Self.catalog.model(.claudeOpus))
        // Opus input is $15/M with a 5% margin: 1e14 tokens cost 1e14 × 15 / 1e6 × 1.05 = $1,575,000,000 exactly.
        #expect(try Self.catalog.cost(of: opus, inputTokens: 100_000_000_000_000, outputTokens: 0) == .dollars(1_575_000_000))
        // The largest count that still fits: floor(max / (15 × 1.05)) × 1e6 / 1e6 tokens ≈ 5.855e17.
        let fits = Int(Int64.max / 15_750_000 * 1_000_000)
        let c = try Self.catalog.cost(of: opus, inputTokens: fits, outputTokens: 0)
        #expect(c.rawValue > Int64.max - 15_750_000 && c.rawValue <= Int64.max)
    }

    @Test("a negative token or image count is a MoneyError, not silently zero")
    func negativeCounts() throws {
        let v3 = try #require(Self.catalog.model(.deepseekV3))
        for (i, o, n) in [(-1, 0, 0), (0, -5, 0), (0, 0, -2)] {
            do {
                _ = try Self.catalog.cost(of: v3, inputTokens: i, outputTokens: o, images: n)
                Issue.record("(\(i), \(o), \(n)) did not throw")
            } catch {
                #expect(error.isSameKind(as: .negativeQuantity(model: "x", operands: [])) && error.model == .deepseekV3)
                #expect("\(error)".contains("must not be negative"))
            }
        }
    }

    @Test("a model built in code with absurd prices and margin still cannot trap")
    func absurdModelInCode() throws {
        var c = Self.catalog
        c.marginPartsPerMillion = .max
        let weird = ModelInfo(
            id: "weird", name: "weird", gatewayID: "weird", kind: .image, inputPerMillionTokens: .max, outputPerMillionTokens: .max,
            perImage: .max, contextWindow: 10, maxOutputTokens: 10, capabilities: [])
        #expect(throws: MoneyError.self) { try c.cost(of: weird, inputTokens: 1, outputTokens: 0) }
        #expect(throws: MoneyError.self) { try c.cost(of: weird, inputTokens: .max, outputTokens: .max, images: .max) }
        #expect(try c.cost(of: weird, inputTokens: 0, outputTokens: 0) == .zero)
    }

    // MARK: - Catalog ceilings

    @Test(
        "absurd prices are refused at load, naming the field",
        arguments: [
            (#"{"models": [{"id": "a", "input_per_mtok": 9000000000000, "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].input_per_mtok"),
            (#"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1000000.000001", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].output_per_mtok"),
            (#"{"models": [{"id": "a", "kind": "image", "input_per_mtok": "0", "output_per_mtok": "0", "per_image": "10000.01", "context_window": 10, "max_output_tokens": 0}]}"#, "models[0].per_image"),
            (#"{"models": [{"id": "a", "input_per_mtok": 9e13, "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].input_per_mtok"),
        ])
    func absurdPrices(json: String, field: String) {
        #expect {
            try ModelCatalog.decode(Data(json.utf8), source: "p.json")
        } throws: { error in
            guard let e = error as? CatalogError else { return false }
            return e.field == field && e.source == "p.json"
        }
    }

    @Test("prices at the ceilings load")
    func pricesAtCeilings() throws {
        let json = #"{"models": [{"id": "a", "input_per_mtok": "1000000", "output_per_mtok": 1000000, "per_image": "10000", "context_window": 10, "max_output_tokens": 1}]}"#
        let c = try ModelCatalog.decode(Data(json.utf8), source: "p.json")
        #expect(c.model("a")?.inputPerMillionTokens == ModelCatalog.maxPricePerMillionTokens)
        #expect(c.model("a")?.perImage == ModelCatalog.maxPricePerImage)
        #expect(ModelCatalog.maxPricePerMillionTokens == .dollars(1_000_000) && ModelCatalog.maxPricePerImage == .dollars(10_000))
    }

    // MARK: - Selector

    static let selector = try! ModelSelector(catalog: catalog)

    @Test("an estimate that overflows makes a model not fit, and a task nothing can price is refused saying why", arguments: Complexity.allCases)
    func selectorOverflow(tier: Complexity) throws {
        let task = TaskProfile(complexity: tier, inputTokens: .max, maxOutputTokens: 100)
        let budget = BudgetSnapshot(daily: .init(limit: .dollars(50)), monthly: .init(limit: nil))
        let s = Self.selector.select(task, budget: budget)
        #expect(s.isRefused && s.reason == .refused && s.estimate == .zero)
        if tier == .critical {
            #expect(s.candidates.map(\.skipped) == [.unpriceable] && s.candidates[0].estimate == .max)
            #expect(s.refusal?.priceOverflow?.model == .claudeOpus)
            #expect(s.refusal?.summary.contains("cannot be priced") == true, "\(s.refusal?.summary ?? "")")
        } else {
            // Past every context window: unsuitable before it is priced.
            #expect(s.candidates.allSatisfy { $0.skipped == .unsuitable })
        }
        #expect(throws: MoneyError.self) { try Self.selector.estimate(task, on: Self.catalog.model(.claudeOpus)!) }
    }

    @Test("a chain whose models cannot price the task skips them as unpriceable")
    func selectorUnpriceableWithinContext() throws {
        // A model with a context window as large as the count: suitable, but its estimate overflows.
        let huge = ModelInfo(
            id: "huge", name: "huge", gatewayID: "huge", kind: .chat, inputPerMillionTokens: .dollars(1_000_000),
            outputPerMillionTokens: .dollars(1), perImage: .zero, contextWindow: .max, maxOutputTokens: 10, capabilities: [])
        let cheap = ModelInfo(
            id: "cheap", name: "cheap", gatewayID: "cheap", kind: .chat, inputPerMillionTokens: .zero,
            outputPerMillionTokens: .zero, perImage: .zero, contextWindow: .max, maxOutputTokens: 10, capabilities: [])
        let catalog = try ModelCatalog(models: [huge, cheap], marginPartsPerMillion: 0)
        var config = ModelSelector.Configuration()
        for tier in Complexity.allCases { config.chains[tier] = ["huge"] }
        config.chains[.simple] = ["huge", "cheap"]
        let selector = try ModelSelector(catalog: catalog, configuration: config)
        let task = TaskProfile(complexity: .simple, inputTokens: 100_000_000_000_000, maxOutputTokens: 10)
        let s = selector.select(task, budget: .unlimited)
        #expect(s.model == "cheap" && s.candidates.map(\.skipped) == [.unpriceable, nil])
        let only = selector.select(TaskProfile(complexity: .medium, inputTokens: 100_000_000_000_000, maxOutputTokens: 10), budget: .unlimited)
        #expect(only.isRefused && only.refusal?.priceOverflow != nil && only.refusal?.cheapestEstimate == nil)
        let critical = selector.select(TaskProfile(complexity: .critical, inputTokens: 100_000_000_000_000, maxOutputTokens: 10), budget: .unlimited)
        #expect(critical.isRefused && critical.refusal?.priceOverflow?.model == "huge")
    }

    @Test("a fixed-model call that cannot be priced is refused, critical or not")
    func fixedModelOverflow() throws {
        for tier in [Complexity.simple, .critical] {
            let call = try Self.selector.fixedModelCall("gpt-image-1", kind: .image, tier: tier, inputTokens: 0, images: .max)
            #expect(throws: MoneyError.self) { try Self.selector.estimate(call) }
            let s = Self.selector.select(call, budget: .unlimited)
            #expect(s.isRefused && s.candidates.map(\.skipped) == [.unpriceable] && s.refusal?.priceOverflow != nil)
        }
    }

    @Test("budget windows with absurd totals compare right instead of trapping")
    func snapshotExtremes() {
        let w = BudgetSnapshot.Window(limit: .max, settled: .max, reserved: .max)
        #expect(w.remaining == .min || w.remaining! < .zero)
        let deep = BudgetSnapshot.Window(limit: .zero, settled: .max, reserved: .max)
        #expect(deep.remaining == .min && deep.available(reservePartsPerMillion: 1_000_000) == .min)
        #expect(BudgetSnapshot.Window(limit: .dollars(10), settled: .dollars(3)).available(reservePartsPerMillion: 500_000) == .dollars(2))
        let s = Self.selector.select(
            TaskProfile(complexity: .simple, inputTokens: 10, maxOutputTokens: 10), budget: .init(daily: deep, monthly: .init(limit: nil)))
        #expect(s.isRefused)
    }

    @Test("the token estimator saturates instead of trapping")
    func estimatorExtremes() {
        #expect(TokenEstimator.upperBound.estimate(utf8Bytes: .max, messages: .max, images: .max) == .max)
        var e = TokenEstimator.typical
        e.bytesPerToken = 0
        #expect(e.estimate(utf8Bytes: 10, messages: 1) == 10 + 4 + 3)
        #expect(TokenEstimator.typical.estimate(utf8Bytes: 9, messages: 0) == 3 + 3)
    }

    @Test("money converts to an exact Decimal for JSON")
    func decimalValue() throws {
        let encoder = JSONEncoder()
        for micros: Int64 in [0, 1, -1, 1_234_567, 500_000, .max, .min] {
            let m = MicroDollars(micros: micros)
            #expect(m.decimalValue == Decimal(string: m.decimalString))
            let text = String(decoding: try encoder.encode([m.decimalValue]), as: UTF8.self)
            #expect(Decimal(string: String(text.dropFirst().dropLast())) == Decimal(string: m.decimalString), "\(text)")
        }
    }
}
