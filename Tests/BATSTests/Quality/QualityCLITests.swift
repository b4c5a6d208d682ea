import ArgumentParser
import BATSCommands
import Foundation
import Testing

@Suite("Command line: RouteLLM import and policy comparison")
struct QualityCLITests {
    static let policies = "static,cheap:deepseek-v3,strong:claude-opus,random:0.5,oracle,cascade:0.9/0.9,council"

    @Test("import routellm, then replay --compare: one table, JSON with every policy, and the cost-versus-quality chart")
    func importAndCompare() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try RouteLLMImportTests.fixture()
        let workload = dir.appendingPathComponent("gsm8k.jsonl").path
        let imported = try await BATSRun.run([
            "workload", "import", "routellm", csv.path, "--weak", RouteLLMImportTests.weakColumn, "--strong", RouteLLMImportTests.strongColumn,
            "--map-weak", "deepseek-v3", "--map-strong", "claude-opus", "--seed", "1", "--output", workload,
        ], in: dir)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("imported 1319 tasks") && imported.stderr.contains("deepseek-v3 correct on 842"))

        let chart = dir.appendingPathComponent("q.svg").path
        let report = dir.appendingPathComponent("q.json").path
        let table = try await BATSRun.run(["replay", workload, "--compare", Self.policies, "--chart", chart, "--report", report], in: dir)
        #expect(table.status == 0, "\(table.stderr)")
        for name in Self.policies.split(separator: ",") { #expect(table.stdout.contains(String(name)), "\(name)") }
        #expect(table.stdout.contains("oracle bound (some labelled model correct): 92.9%"))
        #expect(table.stdout.contains("SIMULATED"))

        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let rows = try #require(json["policies"] as? [[String: Any]])
        #expect(rows.map { $0["policy"] as? String } == Self.policies.split(separator: ",").map(String.init))
        let strong = try #require(rows.first { $0["policy"] as? String == "strong:claude-opus" })
        #expect(((strong["quality"] as? [String: Any])?["correct"] as? Int) == 1_130)
        #expect(strong["cost_usd"] is NSNumber && strong["refused"] as? Int == 0)
        #expect(json["note"] is String)

        let svg = try String(contentsOfFile: chart, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        // One point per policy with labelled answers (static answers on an unlabelled model; the oracle is drawn as a
        // bound), the frontier, the axes.
        #expect(svg.components(separatedBy: "<circle").count - 1 == 5)
        #expect(svg.contains("class=\"bound\" ") && svg.contains("oracle (bound)"))
        #expect(svg.contains("class=\"frontier\"") && svg.contains("Cost of the workload (USD") && svg.contains("Quality (share of labelled"))
        #expect(!svg.contains("data-policy=\"static\""))

        let asJSON = try await BATSRun.run(["replay", workload, "--compare", "cheap,strong", "--format", "json", "--daily-budget", "2"], in: dir)
        #expect(asJSON.status == 0, "\(asJSON.stderr)")
        let budgeted = try #require(try JSONSerialization.jsonObject(with: Data(asJSON.stdout.utf8)) as? [String: Any])
        let limited = try #require((budgeted["policies"] as? [[String: Any]])?.last)
        #expect((limited["refused"] as? Int ?? 0) > 0, "the daily budget applies to each policy")
    }

    @Test("bad flags and files say what is wrong")
    func errors() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("r.csv")
        try Data("prompt,weak,strong\nq,True,maybe\n".utf8).write(to: csv)
        let bad = try await BATSRun.run([
            "workload", "import", "routellm", csv.path, "--weak", "weak", "--strong", "strong", "--map-weak", "deepseek-v3", "--map-strong", "claude-opus",
        ], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("r.csv:2: field 'strong': record 1: must be True or False, got 'maybe'"), "\(bad.stderr)")
        let missing = try await BATSRun.run([
            "workload", "import", "routellm", csv.path, "--weak", "weak", "--strong", "gpt-4", "--map-weak", "deepseek-v3", "--map-strong", "claude-opus",
        ], in: dir)
        #expect(missing.stderr.contains("no strong model column 'gpt-4' (columns: prompt, weak, strong)"), "\(missing.stderr)")
        let unknown = try await BATSRun.run([
            "workload", "import", "routellm", csv.path, "--weak", "weak", "--strong", "strong", "--map-weak", "gpt-9", "--map-strong", "claude-opus",
        ], in: dir)
        #expect(unknown.status != 0 && unknown.stderr.contains("--map-weak gpt-9: not a chat model of the catalog"), "\(unknown.stderr)")

        let workload = dir.appendingPathComponent("w.jsonl")
        try Data(#"{"ts":1,"complexity":"medium","input_tokens":10,"output_tokens":5}"#.utf8).write(to: workload)
        let noLabels = try await BATSRun.run(["replay", workload.path, "--compare", "oracle"], in: dir)
        #expect(noLabels.status != 0 && noLabels.stderr.contains("policy 'oracle' routes over the workload's labelled models"), "\(noLabels.stderr)")
    }

    @Test("--compare is checked when parsing", arguments: [
        (["replay", "w.jsonl", "--compare", "best"], "unknown policy 'best'"),
        (["replay", "w.jsonl", "--compare", "cascade:2/1"], "precision must be in (0, 1]"),
        (["replay", "w.jsonl", "--compare", "oracle", "--ledger", "l.sqlite"], "drop --ledger"),
        (["replay", "--from-ledger", "l.sqlite", "--compare", "oracle"], "not --from-ledger"),
        (["workload", "import", "routellm", "r.csv", "--weak", "a", "--strong", "b", "--map-weak", "x", "--map-strong", "x"], "different models"),
    ])
    func usage(arguments: [String], message: String) {
        #expect {
            _ = try BATSCommand.parseAsRoot(arguments)
        } throws: { error in
            BATSCommand.message(for: error).contains(message) && BATSCommand.exitCode(for: error) == .validationFailure
        }
    }
}
