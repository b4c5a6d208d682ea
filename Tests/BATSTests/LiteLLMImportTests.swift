import Foundation
import ModelSelection
import Testing

@Suite("LiteLLM price map import")
struct LiteLLMImportTests {
    static func resource(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/prices"))
    }

    static func shipped() throws -> LiteLLMPriceMap {
        try LiteLLMPriceMap.load(contentsOf: resource("litellm-1.80.0-model_prices"))
    }

    static func shippedMapping() throws -> [String: String] {
        try LiteLLMImport.mapping(Data(contentsOf: resource("litellm-mapping")), source: "litellm-mapping.json")
    }

    static func map(_ json: String) throws(PriceImportError) -> LiteLLMPriceMap {
        try LiteLLMPriceMap.decode(Data(json.utf8), source: "test.json")
    }

    static func micros(_ text: String) -> MicroDollars { MicroDollars(parsing: text) ?? .max }

    @Test("the shipped 1.80.0 map gives the five chat models' prices, read from the file, under their gateway ids")
    func shippedPrices() throws {
        let result = try LiteLLMImport(map: Self.shipped(), catalog: .bundled(), mapping: Self.shippedMapping())
        let c = result.catalog
        // (catalog id, key, input, output, cache read, cache write) as the JSON has them, in $/token × 1e6.
        let expected: [(String, String, String, String, String?, String?)] = [
            // 2.7e-07, 1.1e-06, cache read 7e-08 (and input_cost_per_token_cache_hit 7e-08), cache creation 0.0
            ("deepseek-v3", "deepseek/deepseek-chat", "0.27", "1.10", "0.07", "0"),
            // 4e-07, 2e-06 (mistral/mistral-medium-2505 agrees)
            ("mistral-medium-3", "azure_ai/mistral-medium-2505", "0.40", "2.00", nil, nil),
            ("kimi-k2", "moonshot/kimi-k2-0711-preview", "0.60", "2.50", "0.15", nil),  // 6e-07, 2.5e-06, 1.5e-07
            ("deepseek-r1", "deepseek/deepseek-reasoner", "0.55", "2.19", "0.14", nil),  // 5.5e-07, 2.19e-06, hit 1.4e-07
            ("claude-opus", "claude-opus-4-1", "15", "75", "1.50", "18.75"),  // 1.5e-05, 7.5e-05, 1.5e-06, 1.875e-05
        ]
        for (id, key, input, output, read, write) in expected {
            let m = try #require(c.model(ModelID(id)))
            let r = try #require(result.results.first { $0.model == ModelID(id) })
            #expect(r.imported && r.key == key, "\(id): \(r)")
            #expect(m.inputPerMillionTokens == Self.micros(input), "\(id) input")
            #expect(m.outputPerMillionTokens == Self.micros(output), "\(id) output")
            #expect(m.cachedInputPerMillionTokens == read.map(Self.micros), "\(id) cache read")
            #expect(m.cacheWritePerMillionTokens == write.map(Self.micros), "\(id) cache write")
        }
        // claude-opus-4-1 by gateway id (vertex_ai's entry agrees), Mistral by provider prefix (two providers agree);
        // DeepSeek's and Kimi's need the mapping file.
        let claude = try #require(result.results.first { $0.model == "claude-opus" })
        #expect(claude.rule == .gatewayID && claude.candidates == ["vertex_ai/claude-opus-4-1"])
        let mistral = try #require(result.results.first { $0.model == "mistral-medium-3" })
        #expect(mistral.rule == .providerPrefix && mistral.candidates == ["mistral/mistral-medium-2505"])
        #expect(result.results.first { $0.model == "deepseek-v3" }?.rule == .mapping)
        // Anthropic's 1-hour cache write and web-search prices are not mapped: reported, not guessed.
        #expect(result.results.first { $0.model == "claude-opus" }?.unknownFields == ["cache_creation_input_token_cost_above_1hr", "search_context_cost_per_query"])
        // gpt-image-1 is priced per pixel in LiteLLM: no price this catalog holds, reported, its prices kept.
        let image = try #require(result.results.first { $0.model == "gpt-image-1" })
        #expect(!image.imported && image.problems.contains { $0.contains("entry 'gpt-image-1' has no prices") })
        #expect(c.model("gpt-image-1") == (try ModelCatalog.bundled()).model("gpt-image-1"))
    }

    @Test("without the mapping file: deepseek-chat is ambiguous (two entries disagree), kimi-k2-instruct has no entry")
    func withoutMapping() throws {
        let result = try LiteLLMImport(map: Self.shipped(), catalog: .bundled())
        let v3 = try #require(result.results.first { $0.model == "deepseek-v3" })
        #expect(!v3.imported && v3.key == nil)
        #expect(v3.candidates == ["deepseek-chat", "deepseek/deepseek-chat"])
        #expect(v3.problems.first?.hasPrefix("ambiguous") == true)
        let kimi = try #require(result.results.first { $0.model == "kimi-k2" })
        #expect(!kimi.imported && kimi.candidates.contains("groq/moonshotai/kimi-k2-instruct"))
        #expect(result.catalog.model("kimi-k2") == (try ModelCatalog.bundled()).model("kimi-k2"))
    }

    @Test("the changes are listed price by price: current, LiteLLM, change")
    func diff() throws {
        let result = try LiteLLMImport(map: Self.shipped(), catalog: .bundled(), mapping: Self.shippedMapping())
        let v3 = result.changes.filter { $0.model == "deepseek-v3" }
        #expect(v3.map(\.field) == ["input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "cache_write_per_mtok"])
        let input = try #require(v3.first)
        #expect(input.current == Self.micros("0.30") && input.litellm == Self.micros("0.27") && input.change == Self.micros("-0.03"))
        #expect(v3[2].change == Self.micros("-0.008"))
        #expect(v3[3].current == nil && v3[3].litellm == .zero)
        // Kimi K2 has no cache price in the catalog: LiteLLM's is new.
        let kimiRead = try #require(result.changes.first { $0.model == "kimi-k2" && $0.field == "cached_input_per_mtok" })
        #expect(kimiRead.current == nil && kimiRead.change == nil)
        #expect(!result.changes.contains { $0.model == "claude-opus" })
    }

    @Test("the written catalog loads with ModelCatalog.load and round-trips")
    func writeRoundTrips() throws {
        let result = try LiteLLMImport(map: Self.shipped(), catalog: .bundled(), mapping: Self.shippedMapping())
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("litellm-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try result.catalog.encodedJSON().write(to: url)
        let loaded = try ModelCatalog.load(contentsOf: url)
        #expect(loaded == result.catalog)
        #expect(try ModelCatalog.decode(loaded.encodedJSON(), source: "again") == loaded)
        #expect(try ModelCatalog.decode(ModelCatalog.bundled().encodedJSON(), source: "bundled") == ModelCatalog.bundled())
    }

    @Test(
        "a malformed map is an error naming the entry",
        arguments: [
            (#"[1, 2]"#, "", "top level must be a JSON object"),
            (#"{"m": 3}"#, "m", "must be an object, not a number"),
            (#"{"m": {"input_cost_per_token": "0.000001", "output_cost_per_token": 1e-6}}"#, "m", "input_cost_per_token must be a number, not a string"),
            (#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": -1e-6}}"#, "m", "output_cost_per_token must not be negative"),
            (#"{"m": {"input_cost_per_token": 1e-6, "cache_read_input_token_cost": true}}"#, "m", "must be a number, not a boolean"),
            (#"{"m": "#, "", "not valid JSON"),
            (#"{"m": {"input_cost_per_token": 1e400}}"#, "m", "input_cost_per_token is a number out of range"),
            (#"{"m": {"input_cost_per_token": 1e-300}}"#, "m", "input_cost_per_token is out of range"),
        ])
    func malformed(json: String, key: String, message: String) throws {
        let error = try #require(throws: PriceImportError.self) { try Self.map(json) }
        #expect(error.key == key)
        #expect(error.description.contains(message), "\(error)")
        if !key.isEmpty { #expect(error.description.contains("entry '\(key)'")) }
    }

    @Test("an entry without an input or output price, or with an unknown price field, is reported naming the entry")
    func reported() throws {
        let map = try Self.map(
            #"""
            {"deepseek-chat": {"output_cost_per_token": 1e-6},
             "deepseek-reasoner": {"input_cost_per_token": 5.5e-7, "output_cost_per_token": 2.19e-6,
                                   "input_cost_per_token_above_128k_tokens": 1e-6, "output_cost_per_token_batches": 1e-6},
             "claude-opus-4-1": {"mode": "chat", "litellm_provider": "anthropic"},
             "mistral-medium-2505": {"input_cost_per_token": 1.0000005e-7, "output_cost_per_token": 1e-6}}
            """#)
        let r = try LiteLLMImport(map: map, catalog: .bundled())
        let byModel = { (id: ModelID) in r.results.first { $0.model == id } }
        #expect(byModel("deepseek-v3")?.imported == false)
        #expect(byModel("deepseek-v3")?.problems == ["entry 'deepseek-chat' has no input_cost_per_token: a missing price is not zero"])
        #expect(byModel("deepseek-r1")?.imported == true)
        #expect(byModel("deepseek-r1")?.unknownFields == ["input_cost_per_token_above_128k_tokens", "output_cost_per_token_batches"])
        #expect(r.catalog.model("deepseek-r1")?.inputPerMillionTokens == Self.micros("0.55"))
        #expect(byModel("claude-opus")?.problems.first?.contains("entry 'claude-opus-4-1' has no prices") == true)
        // 1.0000005e-7 $/token is 0.10000005 $/M: not a whole micro-dollar, so not rounded but reported.
        #expect(byModel("mistral-medium-3")?.imported == false)
        #expect(byModel("mistral-medium-3")?.problems.first?.contains("not a whole number of micro-dollars") == true, "\(byModel("mistral-medium-3")?.problems ?? [])")
        #expect(r.catalog.model("mistral-medium-3") == (try ModelCatalog.bundled()).model("mistral-medium-3"))
    }

    @Test("an entry that would make the model invalid (its kept cache price above the new input) is reported, not imported")
    func refusedModel() throws {
        let map = try Self.map(#"{"deepseek-reasoner": {"input_cost_per_token": 1e-7, "output_cost_per_token": 1e-6}}"#)
        let r = try LiteLLMImport(map: map, catalog: .bundled())
        let r1 = try #require(r.results.first { $0.model == "deepseek-r1" })
        #expect(!r1.imported && r.changes.isEmpty)
        #expect(r1.problems.first?.contains("with entry 'deepseek-reasoner' the model would be refused: cached_input_per_mtok") == true, "\(r1.problems)")
        #expect(r.catalog == (try ModelCatalog.bundled()))
    }

    @Test("a mapping file naming an unknown model or entry, or not of strings, is an error naming it")
    func badMapping() throws {
        let map = try Self.map(#"{"x/y": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6}}"#)
        let unknownModel = try #require(throws: PriceImportError.self) {
            try LiteLLMImport(map: map, catalog: .bundled(), mapping: ["gpt-9": "x/y"], mappingSource: "m.json")
        }
        #expect(unknownModel.key == "gpt-9" && unknownModel.description.contains("no model 'gpt-9'"))
        let unknownKey = try #require(throws: PriceImportError.self) {
            try LiteLLMImport(map: map, catalog: .bundled(), mapping: ["kimi-k2": "nope"], mappingSource: "m.json")
        }
        #expect(unknownKey.description.contains("no entry 'nope'"))
        let notString = try #require(throws: PriceImportError.self) {
            try LiteLLMImport.mapping(Data(#"{"kimi-k2": 3}"#.utf8), source: "m.json")
        }
        #expect(notString.key == "kimi-k2" && notString.description.contains("must be a string"))
    }
}
