import Foundation
import ModelSelection
import Testing

@Suite("Model catalog loading")
struct CatalogTests {
    static let valid = """
        {"gateway_margin": "0.05", "models": [
          {"id": "a", "gateway_id": "prov/a", "input_per_mtok": "0.30", "output_per_mtok": 1.2, "context_window": 1000, "max_output_tokens": 100, "capabilities": ["tools"]},
          {"id": "b", "input_per_mtok": "1", "output_per_mtok": "2", "context_window": 1000, "max_output_tokens": 100}
        ]}
        """

    func load(_ json: String) throws -> ModelCatalog { try ModelCatalog.decode(Data(json.utf8), source: "test.json") }

    @Test("A user's catalog loads, numbers or strings")
    func loads() throws {
        let c = try load(Self.valid)
        #expect(c.marginPartsPerMillion == 50_000)
        #expect(c.model("a")?.outputPerMillionTokens == MicroDollars(micros: 1_200_000))
        #expect(c.model("a")?.gatewayID == "prov/a")
        #expect(c.model("b")?.gatewayID == "b")
        #expect(c.model("a")?.capabilities == .tools)
    }

    @Test("A catalog file on disk loads and a missing one says so")
    func fromFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-cat-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("prices.json")
        try Data(Self.valid.utf8).write(to: f)
        #expect(try ModelCatalog.load(contentsOf: f).models.count == 2)
        #expect {
            try ModelCatalog.load(contentsOf: dir.appendingPathComponent("nope.json"))
        } throws: { e in
            "\(e)".contains("nope.json")
        }
    }

    @Test(
        "Malformed catalogs are rejected naming the field",
        arguments: [
            (#"{"models": [{"id": "a", "input_per_mtok": "-0.30", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].input_per_mtok"),
            (#"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}, {"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[1].id"),
            (#"{"models": [{"id": "a", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].input_per_mtok"),
            (#"{"models": [{"id": "a", "input_per_mtok": "x", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1}]}"#, "models[0].input_per_mtok"),
            (#"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": 0, "max_output_tokens": 1}]}"#, "models[0].context_window"),
            (#"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": "big", "max_output_tokens": 1}]}"#, "models[0].context_window"),
            (#"{"models": [{"id": "a", "input_per_mtok": "1", "output_per_mtok": "1", "context_window": 10, "max_output_tokens": 1, "capabilities": ["telepathy"]}]}"#, "models[0].capabilities[0]"),
            (#"{"gateway_margin": "-1", "models": []}"#, "gateway_margin"),
            (#"{"models": "none"}"#, "models"),
            (#"[1, 2]"#, ""),
            (#"{"models": [{"id": "a""#, ""),
        ])
    func malformed(json: String, field: String) {
        #expect {
            try load(json)
        } throws: { error in
            guard let e = error as? CatalogError else { return false }
            return e.field == field && e.source == "test.json" && e.description.contains("test.json")
        }
    }

    @Test("Selector chains are checked against the catalog")
    func chains() throws {
        let c = try ModelCatalog.bundled()
        var cfg = ModelSelector.Configuration()
        cfg.chains[.medium] = ["mistral-medium-3", "gpt-9"]
        #expect {
            try ModelSelector(catalog: c, configuration: cfg)
        } throws: { ($0 as? CatalogError)?.field == "chains.medium[1]" }
        cfg = .init()
        cfg.chains[.simple] = []
        #expect(throws: CatalogError.self) { try ModelSelector(catalog: c, configuration: cfg) }
        cfg = .init()
        cfg.chains[.complex] = ["kimi-k2", "kimi-k2"]
        #expect(throws: CatalogError.self) { try ModelSelector(catalog: c, configuration: cfg) }
        cfg = .init()
        cfg.chains[.simple] = ["text-embedding-3-small"]
        #expect(throws: CatalogError.self) { try ModelSelector(catalog: c, configuration: cfg) }
    }
}
