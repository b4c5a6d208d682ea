import ArgumentParser
import BATSCommands
import Foundation
import Testing

/// Runs the built `bats` executable.
enum BATSBinary {
    static var url: URL? {
        let candidates = [
            Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("bats"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/bats"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let binary = try #require(url, "the bats executable is not built: run `swift build` before `swift test`")
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite("Command line")
struct CLITests {
    @Test(
        "Malformed flags are usage errors that say what is wrong",
        arguments: [
            (["budget", "--ledger", "x", "--daily-budget=-5"], "must not be negative"),
            (["budget", "--ledger", "x", "--daily-budget", "ten"], "must be a dollar amount"),
            (["budget", "--ledger", "x", "--monthly-budget", "5000000000"], "absurd"),
            (["budget", "--ledger", "x", "--tz", "Mars/Olympus"], "unknown time zone"),
            (["replay", "w.jsonl", "--failure-rate", "1.5"], "--failure-rate"),
            (["replay"], "give a workload file or --from-ledger"),
            (["audit", "--ledger", "x", "--by", "color"], "--by must be"),
            (["audit", "--ledger", "x", "--since", "yesterday"], "--since must be a date"),
            (["complete", "hello"], "exactly one of --task"),
            (["complete", "--complexity", "epic", "hello"], "--complexity must be one of"),
            (["workload", "generate", "--profile", "crypto"], "unknown --profile"),
            (["workload", "import", "azure", "t.csv", "--mix", "simple=2"], "--mix"),
        ])
    func usageErrors(arguments: [String], message: String) {
        #expect {
            _ = try BATSCommand.parseAsRoot(arguments)
        } throws: { error in
            BATSCommand.message(for: error).contains(message) && BATSCommand.exitCode(for: error) == .validationFailure
        }
    }

    @Test("A zero budget is legal")
    func zeroBudget() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = dir.appendingPathComponent("l.sqlite").path
        _ = FileManager.default.createFile(atPath: ledger, contents: nil)
        _ = try BATSCommand.parseAsRoot(["budget", "--ledger", ledger, "--daily-budget", "0", "--monthly-budget", "0.000000"])
    }

    @Test("End to end: replay, audit, budget and verify agree, and exit codes are right")
    func endToEnd() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload = dir.appendingPathComponent("w.jsonl").path
        let generated = try BATSBinary.run(["workload", "generate", "--profile", "trading", "--days", "2", "--seed", "3", "-o", workload])
        #expect(generated.status == 0, "\(generated.stderr)")
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let report = dir.appendingPathComponent("r.json").path
        let chart = dir.appendingPathComponent("c.svg").path
        let replay = try BATSBinary.run([
            "replay", workload, "--daily-budget", "0.50", "--monthly-budget", "20", "--ledger", ledger, "--report", report, "--chart", chart,
            "--seed", "3", "--failure-rate", "0.05",
        ])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("BATS replay:") && replay.stdout.contains("savings vs opus"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let cost = try #require(json["cost_usd"] as? NSNumber)
        #expect(try String(contentsOfFile: chart, encoding: .utf8).hasPrefix("<svg"))

        let audit = try BATSBinary.run(["audit", "--ledger", ledger, "--format", "json", "--by", "model"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let a = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        let totals = try #require(a["totals"] as? [String: Any])
        #expect((totals["spend_usd"] as? NSNumber)?.decimalValue == cost.decimalValue)

        let csv = try BATSBinary.run(["audit", "--ledger", ledger, "--format", "csv", "--by", "tag:agent"])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("group,calls,spend_usd") && csv.stdout.contains("executor"))

        let verify = try BATSBinary.run(["audit", "verify", "--ledger", ledger])
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok:"))

        let budget = try BATSBinary.run(["budget", "--ledger", ledger, "--format", "json", "--at", "2026-10-02T20:00:00Z"])
        #expect(budget.status == 0, "\(budget.stderr)")
        // Dollars are exact JSON numbers (a Decimal, so trailing zeros are dropped: 0.5, not 0.500000).
        #expect(budget.stdout.contains("\"limit_usd\":0.5,"))

        let bad = try BATSBinary.run(["budget", "--ledger", ledger, "--tz", "Nowhere/Land"])
        #expect(bad.status == 64 && bad.stderr.contains("unknown time zone"))

        let models = try BATSBinary.run(["models", "--format", "json"])
        #expect(models.status == 0 && models.stdout.contains("\"claude-opus\""))
    }

    @Test("Azure trace import is deterministic and replays")
    func azureImport() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try #require(
            Bundle.module.url(forResource: "AzureLLMInferenceTrace_conv", withExtension: "csv", subdirectory: "Resources/traces/azure_llm_2023"))
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        for out in [a, b] {
            let r = try BATSBinary.run(["workload", "import", "azure", csv.path, "--mix", "simple=0.6,medium=0.3,critical=0.1", "--seed", "9", "--time-scale", "24", "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
        let replay = try BATSBinary.run(["replay", a, "--daily-budget", "1", "--monthly-budget", "10", "--format", "json"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any])
        #expect((report["tasks"] as? Int ?? 0) > 1_000)
        #expect(report["critical_total"] as? Int == report["critical_on_opus"] as? Int)
    }

    @Test("A malformed workload line names the file, line and field, and exits non-zero")
    func badWorkload() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload = dir.appendingPathComponent("bad.jsonl")
        try Data(
            """
            {"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}
            {"ts":"2026-10-01T13:30:01Z","task":"parse_market_data","input_tokens":-5,"output_tokens":50}

            """.utf8
        ).write(to: workload)
        let r = try BATSBinary.run(["replay", workload.path, "--daily-budget", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.jsonl:2") && r.stderr.contains("input_tokens"))
        let skipped = try BATSBinary.run(["replay", workload.path, "--daily-budget", "1", "--skip-invalid", "--format", "json"])
        #expect(skipped.status == 0 && skipped.stdout.contains("\"invalid_lines\":1"))
    }
}
