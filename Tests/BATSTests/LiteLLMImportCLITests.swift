import Foundation
import ModelSelection
import Testing

@Suite("bats prices import litellm")
struct LiteLLMImportCLITests {
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-litellm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("through the built binary: the diff table, the reports, and --write output that loads")
    func importsAndWrites() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let map = try LiteLLMImportTests.resource("litellm-1.80.0-model_prices").path
        let mapping = try LiteLLMImportTests.resource("litellm-mapping").path
        let out = dir.appendingPathComponent("new-catalog.json")
        let r = try await BATSRun.run(
            ["prices", "import", "litellm", map, "--mapping", mapping, "--write", out.path], in: dir)
        #expect(r.status == 0, "stderr: \(r.stderr.prefix(400))")
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows.contains("deepseek-v3 input_per_mtok 0.300000 0.270000 -0.030000"), "\(r.stdout)")
        #expect(rows.contains("deepseek-r1 output_per_mtok 2.500000 2.190000 -0.310000"))
        #expect(rows.contains("kimi-k2 cached_input_per_mtok none 0.150000 new"))
        #expect(rows.contains("imported claude-opus ← claude-opus-4-1 (gateway id)"))
        #expect(rows.contains("not understood, left out: cache_creation_input_token_cost_above_1hr, search_context_cost_per_query"))
        #expect(rows.contains("NOT imported gpt-image-1 (gateway id gpt-image-1) ← gpt-image-1 (gateway id)"))
        #expect(rows.contains("6 of 7 models imported; 10 prices differ, 8 are the same"))
        #expect(r.stdout.contains("wrote \(out.path): 7 models"))
        let written = try ModelCatalog.load(contentsOf: out)
        #expect(written.model("deepseek-r1")?.inputPerMillionTokens == MicroDollars(parsing: "0.55"))
        // Without --write nothing is written, and the bundled catalog is unchanged.
        let dry = try await BATSRun.run(["prices", "import", "litellm", map], in: dir)
        #expect(dry.status == 0 && !dry.stdout.contains("wrote"))
        #expect(dry.stdout.contains("ambiguous: deepseek-chat, deepseek/deepseek-chat give different prices for 'deepseek-chat'"))
        #expect(try ModelCatalog.bundled().model("deepseek-r1")?.inputPerMillionTokens == MicroDollars(parsing: "0.7"))
    }

    @Test("a malformed map fails with one error line naming the entry")
    func malformedMap() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"deepseek-chat": {"input_cost_per_token": "cheap"}}"#.utf8).write(to: bad)
        let r = try await BATSRun.run(["prices", "import", "litellm", bad.path], in: dir)
        #expect(r.status == 1 && !r.crashed)
        #expect(r.errorLines.first?.hasPrefix("Error: invalid LiteLLM price map") == true, "\(r.stderr)")
        #expect(r.stderr.contains("entry 'deepseek-chat': input_cost_per_token must be a number, not a string"))
        let missing = try await BATSRun.run(["prices", "import", "litellm", dir.appendingPathComponent("none.json").path], in: dir)
        #expect(missing.status == 1 && missing.stderr.contains("no LiteLLM price map file"))
    }
}
