import BATS
import BATSConfiguration
import BATSTestSupport
import Foundation
import Gateway
import ModelSelection
import SpendLedger
import Testing

/// The catalog's prices beyond input and output: cache reads and writes, a per-request fee, a model's own margin,
/// and prices that are missing rather than zero.
@Suite("Catalog prices")
struct CatalogPriceTests {
    func load(_ json: String) throws -> ModelCatalog { try ModelCatalog.decode(Data(json.utf8), source: "prices.json") }

    static let full = """
        {"gateway_margin": "0.05", "models": [
          {"id": "a", "input_per_mtok": "2", "output_per_mtok": "8", "cached_input_per_mtok": "0.5", "cache_write_per_mtok": "2.5",
           "per_request": "0.001", "gateway_margin": "0.10", "context_window": 1000, "max_output_tokens": 100},
          {"id": "b", "input_per_mtok": "1", "output_per_mtok": "2", "context_window": 1000, "max_output_tokens": 100}
        ]}
        """

    @Test("Cache read and write prices, a per-request fee and a model's own margin load; absent ones stay absent")
    func loadsEveryPrice() throws {
        let c = try load(Self.full)
        let a = try #require(c.model("a")), b = try #require(c.model("b"))
        #expect(a.cachedInputPerMillionTokens == MicroDollars(micros: 500_000))
        #expect(a.cacheWritePerMillionTokens == MicroDollars(micros: 2_500_000))
        #expect(a.perRequest == MicroDollars(micros: 1_000))
        #expect(a.marginPartsPerMillion == 100_000 && c.margin(for: a) == 100_000)
        #expect(b.cachedInputPerMillionTokens == nil && b.cacheWritePerMillionTokens == nil && b.perRequest == .zero)
        #expect(b.marginPartsPerMillion == nil && c.margin(for: b) == 50_000)
    }

    @Test("Each part is priced at its own rate, with the fee and the model's margin, rounded up once")
    func pricesEachPart() throws {
        let c = try load(Self.full)
        let a = try #require(c.model("a")), b = try #require(c.model("b"))
        // a: (1000×2 + 4000×0.5 + 500×2.5 + 100×8) µ$ + 1000 µ$ fee = 6050 + 1000 = 7050 µ$, × 1.10 = 7755 µ$.
        let parts = BillableUsage(inputTokens: 1_000, cacheReadTokens: 4_000, cacheWriteTokens: 500, outputTokens: 100)
        #expect(try c.cost(of: a, parts) == MicroDollars(micros: 7_755))
        // The one-call form prices every prompt token at the input rate, fee included: (5500×2 + 100×8 + 1000) × 1.10.
        #expect(try c.cost(of: a, inputTokens: 5_500, outputTokens: 100) == MicroDollars(micros: 14_080))
        // b has no cache prices: cached and written tokens cost the input price. (5500×1 + 100×2) × 1.05 = 5985.
        #expect(try c.cost(of: b, parts) == MicroDollars(micros: 5_985))
        #expect(try c.cost(of: b, parts) == c.cost(of: b, inputTokens: 5_500, outputTokens: 100))
        // Two requests pay the fee twice.
        #expect(try c.cost(of: a, BillableUsage(inputTokens: 0, outputTokens: 0, requests: 2)) == MicroDollars(micros: 2_200))
    }

    @Test(
        "A model without an input or output price is refused at load, naming the model and the field",
        arguments: [
            (#"{"models": [{"id": "m1", "input_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].output_per_mtok", "m1"),
            (#"{"models": [{"id": "ok", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}, {"id": "m2", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[1].input_per_mtok", "m2"),
            (#"{"models": [{"id": "m3", "input_per_mtok": "1", "output_per_mtok": null, "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].output_per_mtok", "m3"),
        ])
    func missingPriceIsNotZero(json: String, field: String, model: String) {
        #expect {
            try load(json)
        } throws: { error in
            guard let e = error as? CatalogError else { return false }
            let key = String(field.split(separator: ".").last ?? "")
            return e.field == field && e.message.contains("'\(model)'") && e.message.contains(key) && "\(e)".contains(field)
        }
    }

    @Test(
        "Nonsense cache prices, fees and margins are refused naming the field",
        arguments: [
            (#""cached_input_per_mtok": "1.5""#, "models[0].cached_input_per_mtok"),
            (#""cached_input_per_mtok": "-0.1""#, "models[0].cached_input_per_mtok"),
            (#""cache_write_per_mtok": "1000000.01""#, "models[0].cache_write_per_mtok"),
            (#""per_request": "-1""#, "models[0].per_request"),
            (#""per_request": "10000.01""#, "models[0].per_request"),
            (#""gateway_margin": "11""#, "models[0].gateway_margin"),
            (#""gateway_margin": "-0.01""#, "models[0].gateway_margin"),
        ])
    func nonsenseRefused(extra: String, field: String) {
        let json = #"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", \#(extra), "context_window": 10, "max_output_tokens": 1}]}"#
        #expect {
            try load(json)
        } throws: { error in
            (error as? CatalogError)?.field == field
        }
    }

    @Test("Inline prices in a deployment file take the same cache prices, fee and margin; a missing output price is named")
    func inlineCatalogPrices() throws {
        let yaml = """
            catalog:
              gateway_margin: 5%
              models:
                - id: m
                  input_per_mtok: 3
                  output_per_mtok: 15
                  cached_input_per_mtok: 0.30
                  cache_write_per_mtok: 3.75
                  per_request: 0.002
                  gateway_margin: 8%
                  context_window: 200000
                  max_output_tokens: 8192
            routing:
              chains: {simple: [m], medium: [m], complex: [m], reasoning: [m], critical: [m]}
            """
        let m = try #require(try DeploymentConfiguration.parse(yaml).catalog.model("m"))
        #expect(m.cachedInputPerMillionTokens == MicroDollars(micros: 300_000) && m.cacheWritePerMillionTokens == MicroDollars(micros: 3_750_000))
        #expect(m.perRequest == MicroDollars(micros: 2_000) && m.marginPartsPerMillion == 80_000)
        let missing = configurationErrors(yaml.replacingOccurrences(of: "      output_per_mtok: 15\n", with: ""))
        #expect(missing.contains { $0.key.hasSuffix("output_per_mtok") }, "\(missing)")
    }

    @Test("bats models --format json prints every price, and reads back as the same catalog")
    func modelsJSONRoundTrip() throws {
        let run = try BATSBinary.run(["models", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let reread = try ModelCatalog.decode(Data(run.stdout.utf8), source: "bats models")
        #expect(reread == (try ModelCatalog.bundled()))
        #expect(run.stdout.contains(#""cache_write_per_mtok":18.750000"#) && run.stdout.contains(#""per_request":0.000000"#))
    }

    @Test("The bundled catalog has the published cache prices; models without one are priced at the full input rate")
    func bundledCachePrices() throws {
        let c = try ModelCatalog.bundled()
        let opus = try #require(c.model(.claudeOpus)), v3 = try #require(c.model(.deepseekV3)), r1 = try #require(c.model(.deepseekR1))
        #expect(opus.cachedInputPerMillionTokens == MicroDollars(micros: 1_500_000))
        #expect(opus.cacheWritePerMillionTokens == MicroDollars(micros: 18_750_000))
        #expect(v3.cachedInputPerMillionTokens == MicroDollars(micros: 78_000))
        #expect(r1.cachedInputPerMillionTokens == MicroDollars(micros: 179_000))
        for id in [ModelID.kimiK2, .mistralMedium3] {
            let m = try #require(c.model(id))
            #expect(m.cachedInputPerMillionTokens == nil && m.cacheWritePerMillionTokens == nil)
            #expect(try c.cost(of: m, BillableUsage(inputTokens: 0, cacheReadTokens: 1_000, outputTokens: 0)) == c.cost(of: m, inputTokens: 1_000, outputTokens: 0))
        }
    }
}

/// Reservations stay an upper bound with the cache: a reservation assumes no cache hit.
@Suite("Reservation upper bound with cached usage")
struct ReservationBoundTests {
    @Test("For 5,000 seeded random usages with cache reads, writes and reasoning, the estimate is never below the settled cost")
    func estimateIsAnUpperBound() throws {
        let selector = LedgerFixture.selector
        let chat = selector.catalog.models.filter { $0.kind == .chat }
        var rng = SplitMix64(seed: 15)
        var compared = 0
        for _ in 0..<5_000 {
            let model = chat[Int.random(in: 0..<chat.count, using: &rng)]
            let promptBound = Int.random(in: 0...200_000, using: &rng)
            let task = TaskProfile(complexity: .simple, inputTokens: promptBound, maxOutputTokens: Int.random(in: 1...model.maxOutputTokens, using: &rng))
            let cap = selector.outputCap(for: task, on: model)
            let estimate = try selector.estimate(task, on: model)
            // What the provider may report within the reservation: any split of the prompt into reads, writes and the rest.
            let prompt = Int.random(in: 0...promptBound, using: &rng)
            let read = Int.random(in: 0...prompt, using: &rng)
            let write = Int.random(in: 0...(prompt - read), using: &rng)
            let completion = Int.random(in: 0...cap, using: &rng)
            let usage = Usage(
                promptTokens: prompt, completionTokens: completion, cachedPromptTokens: read,
                reasoningTokens: Int.random(in: 0...completion, using: &rng), cacheWritePromptTokens: write)
            #expect(usage.isWellFormed)
            let settled = try selector.catalog.cost(of: model, SettlementPolicy.billable(usage))
            #expect(settled <= estimate, "\(model.id): \(usage) settled \(settled) above the estimate \(estimate)")
            // The same call without the cache would cost at most the estimate too.
            #expect(try selector.catalog.cost(of: model, inputTokens: prompt, outputTokens: completion) <= estimate)
            compared += 1
        }
        #expect(compared == 5_000)
    }

    @Test("A model whose cache writes cost more than input reserves every prompt token at the cache-write rate")
    func cacheWriteInTheEstimate() throws {
        let selector = LedgerFixture.selector
        let opus = try #require(selector.catalog.model(.claudeOpus))
        let task = TaskProfile(complexity: .critical, inputTokens: 10_000, maxOutputTokens: 100)
        // (10,000 × $18.75 + 100 × $75) / 1M × 1.05 = $0.204750.
        #expect(try selector.estimate(task, on: opus) == MicroDollars(micros: 204_750))
        let written = Usage(promptTokens: 10_000, completionTokens: 100, cacheWritePromptTokens: 10_000)
        #expect(try selector.catalog.cost(of: opus, SettlementPolicy.billable(written)) == MicroDollars(micros: 204_750))
    }
}
