import ArgumentParser
import BATSCommands
import Foundation
import Testing

/// Runs the built `bats` executable synchronously, for callers that are not async.
///
/// It blocks its thread until the child exits; async tests use ``BATSRun/run(_:in:environment:timeout:)``, which
/// does not. Output goes to files rather than pipes, so a child that fills one stream cannot deadlock the reader.
enum BATSBinary {
    static var url: URL? { BATSRun.url }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `bats ARGS`; `environment`, when given, replaces this process's.
    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let binary = try #require(url, "the bats executable is not built: run `swift build` before `swift test`")
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        var inherited = ProcessInfo.processInfo.environment
        for k in ["BATS_CONFIG", "BATS_LEDGER_URL"] { inherited[k] = nil }  // a caller's ledger never reaches a test's run
        p.environment = environment ?? inherited
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("bats-binary-\(UUID().uuidString)")
        defer { for s in [".out", ".err"] { try? FileManager.default.removeItem(atPath: base.path + s) } }
        _ = FileManager.default.createFile(atPath: base.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base.path + ".err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base.path + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base.path + ".err"))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: base.path + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base.path + ".err", encoding: .utf8)) ?? ""
        return Result(status: p.terminationStatus, stdout: out, stderr: err)
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
            (["budget", "--ledger", "x", "--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
            (["budget", "--ledger", "x", "--change-time-zone"], "--change-time-zone needs --tz"),
            (["replay", "w.jsonl", "--failure-rate", "1.5"], "--failure-rate must be between 0 and 1"),
            (["simulate", "--ledger", "x", "--cancel-rate", "nan"], "--cancel-rate must be between 0 and 1"),
            (["workload", "import", "azure", "t.csv", "--time-scale", "inf"], "--time-scale must be a positive number"),
            (["budget", "--ledger", "x", "--daily-budget", "1.0000001"], "'--daily-budget <daily-budget>': must be a dollar amount"),
            (["replay"], "give a workload file or --from-ledger"),
            (["audit", "--ledger", "x", "--by", "color"], "'--by <by>': must be day, month"),
            (["audit", "--ledger", "x", "--since", "yesterday"], "'--since <since>': must be a date"),
            (["complete", "hello"], "exactly one of --task"),
            (["complete", "--complexity", "epic", "hello"], "'--complexity <complexity>': must be one of simple"),
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
    func endToEnd() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload = dir.appendingPathComponent("w.jsonl").path
        let generated = try await BATSRun.run(["workload", "generate", "--profile", "trading", "--days", "2", "--seed", "3", "-o", workload], in: dir)
        #expect(generated.status == 0, "\(generated.stderr)")
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let report = dir.appendingPathComponent("r.json").path
        let chart = dir.appendingPathComponent("c.svg").path
        let replay = try await BATSRun.run([
            "replay", workload, "--daily-budget", "0.50", "--monthly-budget", "20", "--ledger", ledger, "--report", report, "--chart", chart,
            "--seed", "3", "--failure-rate", "0.05",
        ], in: dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("BATS replay:") && replay.stdout.contains("savings vs opus"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let cost = try #require(json["cost_usd"] as? NSNumber)
        #expect(try String(contentsOfFile: chart, encoding: .utf8).hasPrefix("<svg"))

        let audit = try await BATSRun.run(["audit", "--ledger", ledger, "--format", "json", "--by", "model"], in: dir)
        #expect(audit.status == 0, "\(audit.stderr)")
        let a = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        let totals = try #require(a["totals"] as? [String: Any])
        #expect((totals["spend_usd"] as? NSNumber)?.decimalValue == cost.decimalValue)

        let csv = try await BATSRun.run(["audit", "--ledger", ledger, "--format", "csv", "--by", "tag:agent"], in: dir)
        #expect(csv.status == 0 && csv.stdout.hasPrefix("group,calls,spend_usd") && csv.stdout.contains("executor"))

        let verify = try await BATSRun.run(["audit", "verify", "--ledger", ledger], in: dir)
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok:"))

        let budget = try await BATSRun.run(["budget", "--ledger", ledger, "--format", "json", "--at", "2026-10-02T20:00:00Z"], in: dir)
        #expect(budget.status == 0, "\(budget.stderr)")
        // Dollars are exact JSON numbers (a Decimal, so trailing zeros are dropped: 0.5, not 0.500000).
        #expect(budget.stdout.contains("\"limit_usd\":0.5,"))

        let bad = try await BATSRun.run(["budget", "--ledger", ledger, "--tz", "Nowhere/Land"], in: dir)
        #expect(bad.status == 64 && bad.stderr.contains("unknown time zone"))

        let models = try await BATSRun.run(["models", "--format", "json"], in: dir)
        #expect(models.status == 0 && models.stdout.contains("\"claude-opus\""))
    }

    @Test("Azure trace import is deterministic and replays")
    func azureImport() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try #require(
            Bundle.module.url(forResource: "AzureLLMInferenceTrace_conv", withExtension: "csv", subdirectory: "Resources/traces/azure_llm_2023"))
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        for out in [a, b] {
            let r = try await BATSRun.run(["workload", "import", "azure", csv.path, "--mix", "simple=0.6,medium=0.3,critical=0.1", "--seed", "9", "--time-scale", "24", "-o", out], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
        let replay = try await BATSRun.run(["replay", a, "--daily-budget", "1", "--monthly-budget", "10", "--format", "json"], in: dir)
        #expect(replay.status == 0, "\(replay.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(replay.stdout.utf8)) as? [String: Any])
        #expect((report["tasks"] as? Int ?? 0) > 1_000)
        #expect(report["critical_total"] as? Int == report["critical_on_opus"] as? Int)
    }

    @Test("A malformed workload line names the file, line and field, and exits non-zero")
    func badWorkload() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload = dir.appendingPathComponent("bad.jsonl")
        try Data(
            """
            {"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}
            {"ts":"2026-10-01T13:30:01Z","task":"parse_market_data","input_tokens":-5,"output_tokens":50}

            """.utf8
        ).write(to: workload)
        let r = try await BATSRun.run(["replay", workload.path, "--daily-budget", "1"], in: dir)
        #expect(r.status != 0)
        #expect(r.stderr.contains("bad.jsonl:2") && r.stderr.contains("input_tokens"))
        let skipped = try await BATSRun.run(["replay", workload.path, "--daily-budget", "1", "--skip-invalid", "--format", "json"], in: dir)
        #expect(skipped.status == 0 && skipped.stdout.contains("\"invalid_lines\":1"))
    }
}
