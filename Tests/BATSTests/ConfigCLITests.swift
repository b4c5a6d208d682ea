import ArgumentParser
import BATSCommands
import Foundation
import Testing

/// `--config`, `BATS_CONFIG` and `bats config check` through the `bats` executable.
@Suite("Command line: the configuration file")
struct ConfigCLITests {
    /// A deployment with a budget, a zone and a ledger path relative to the file.
    static let deployment = """
        budget:
          time_zone: America/New_York
          daily: 50
          monthly: 1000
          daily_alerts: [80%]
        ledger:
          path: spend.sqlite

        """

    /// Writes `text` to `name` in `dir` and returns its path.
    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// The day and month limits of `bats budget --format json` output, in dollars.
    static func limits(_ json: String) throws -> (day: Decimal?, month: Decimal?, zone: String?) {
        let o = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        func limit(_ w: String) -> Decimal? { ((o[w] as? [String: Any])?["limit_usd"] as? NSNumber)?.decimalValue }
        return (limit("day"), limit("month"), o["time_zone"] as? String)
    }

    @Test("config check passes the shipped example and prints a summary")
    func checkExample() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await BATSRun.run(["config", "check", RepositoryFiles.example.path], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("ok: \(RepositoryFiles.example.path)\n"))
        for part in ["daily $50.00, monthly $1000.00", "scope key:desk-a/tag:agent=scanner", "America/New_York", "key from $TARS_API_KEY",
            "council bats/council/trade: model:deepseek-r1, model:kimi-k2; majority, extractor json:decision, tier reasoning",
            "cascade bats/cascade/parse_quote: deepseek-v3 > kimi-k2; verifier json-schema, tier simple"] {
            #expect(r.stdout.contains(part), "\(part) missing from \(r.stdout)")
        }
    }

    @Test("config check prints one line per problem, each naming the file, the line and the key, and exits 1")
    func checkErrors() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.write(
            """
            routing:
              chains:
                complex: [kimi-k2, kimi-k3]
            budget:
              time_zone: Mars/Olympus
              scopes:
                - name: tag:agent=scanner
                  daily: -5
            gateway:
              api_key: sk-live-4f9aQ2xT7bLm3ZpR8sVc1
            """, "bad.yaml", in: dir)
        let r = try await BATSRun.run(["config", "check", path], in: dir)
        #expect(r.status == 1 && !r.crashed, "\(r.stderr)")
        let lines = r.errorLines
        #expect(lines.count == 5, "\(r.stderr)")
        #expect(lines.prefix(4).map { String($0.prefix(while: { $0 != " " })) } == [
            "\(path):3:", "\(path):5:", "\(path):8:", "\(path):10:",
        ])
        #expect(lines.first?.contains("routing.chains.complex[1]: unknown model 'kimi-k3'") == true)
        #expect(lines.last == "4 problems in \(path)")
        #expect(!r.stderr.contains("4f9aQ2xT7bLm3ZpR8sVc1") && r.stdout.isEmpty)
        // The same file given to another command stops it with the same lines, before anything runs.
        let budget = try await BATSRun.run(["budget", "--config", path], in: dir)
        #expect(budget.status == 1 && budget.stderr.contains("\(path):5: budget.time_zone: unknown time zone"), "\(budget.stderr)")
    }

    @Test("--config supplies the ledger, limits and zone; --daily-budget and --ledger override it")
    func flagsOverrideFile() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let etc = dir.appendingPathComponent("etc"), elsewhere = dir.appendingPathComponent("elsewhere")
        for d in [etc, elsewhere] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let config = try Self.write(Self.deployment, "bats.yaml", in: etc)
        // simulate keeps --ledger required; the file gives it the budget and the zone.
        let made = try await BATSRun.run(["simulate", "--config", config, "--ledger", etc.appendingPathComponent("spend.sqlite").path, "--tasks", "0"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")

        // Run from another directory: the ledger path is relative to the file, not to the current directory.
        let fromFile = try await BATSRun.run(["budget", "--config", config, "--format", "json"], in: elsewhere)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        let a = try Self.limits(fromFile.stdout)
        #expect(a.day == 50 && a.month == 1_000 && a.zone == "America/New_York")

        let overridden = try await BATSRun.run(["budget", "--config", config, "--daily-budget", "7.25", "--format", "json"], in: elsewhere)
        #expect(overridden.status == 0, "\(overridden.stderr)")
        let b = try Self.limits(overridden.stdout)
        #expect(b.day == Decimal(string: "7.25") && b.month == 1_000)

        let otherLedger = try await BATSRun.run(["budget", "--config", config, "--ledger", "missing.sqlite"], in: elsewhere)
        #expect(otherLedger.status == 1 && otherLedger.stderr.contains("no ledger at 'missing.sqlite'"), "\(otherLedger.stderr)")

        // Without the file, and without --ledger, budget has no ledger to read.
        let none = try await BATSRun.run(["budget"], in: elsewhere)
        #expect(none.status == 64 && none.stderr.contains("give --ledger FILE or --ledger postgres://") && none.stderr.contains("ledger.path or ledger.url"), "\(none.stderr)")
    }

    @Test("--prices overrides the file's catalog")
    func pricesOverrideCatalog() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.write(
            """
            catalog:
              models:
                - {id: house-model, input_per_mtok: 1, output_per_mtok: 2, context_window: 8000, max_output_tokens: 1000}
            routing:
              chains: {simple: [house-model], medium: [house-model], complex: [house-model], reasoning: [house-model], critical: [house-model]}
            """, "bats.yaml", in: dir)
        let prices = try Self.write(
            #"{"models": [{"id": "priced-model", "input_per_mtok": "1", "output_per_mtok": "2", "context_window": 8000, "max_output_tokens": 1000}]}"#,
            "prices.json", in: dir)
        let fromFile = try await BATSRun.run(["models", "--config", config, "--format", "json"], in: dir)
        #expect(fromFile.status == 0 && fromFile.stdout.contains("\"house-model\"") && !fromFile.stdout.contains("claude-opus"), "\(fromFile.stderr)")
        let overridden = try await BATSRun.run(["models", "--config", config, "--prices", prices, "--format", "json"], in: dir)
        #expect(overridden.status == 0 && overridden.stdout.contains("\"priced-model\"") && !overridden.stdout.contains("house-model"))
    }

    @Test("BATS_CONFIG names the file when --config is not given; --config wins over it")
    func environmentVariable() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try Self.write(Self.deployment, "bats.yaml", in: dir)
        let broken = try Self.write("budget:\n  daily: lots\n", "broken.yaml", in: dir)
        let made = try await BATSRun.run(["simulate", "--ledger", dir.appendingPathComponent("spend.sqlite").path, "--tasks", "0"], in: dir, environment: ["BATS_CONFIG": config])
        #expect(made.status == 0, "\(made.stderr)")

        let viaEnv = try await BATSRun.run(["budget", "--format", "json"], in: dir, environment: ["BATS_CONFIG": config])
        #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
        let a = try Self.limits(viaEnv.stdout)
        #expect(a.day == 50 && a.month == 1_000 && a.zone == "America/New_York")

        let brokenEnv = try await BATSRun.run(["audit"], in: dir, environment: ["BATS_CONFIG": broken])
        #expect(brokenEnv.status == 1 && brokenEnv.stderr.contains("\(broken):2: budget.daily:"), "\(brokenEnv.stderr)")

        let flagWins = try await BATSRun.run(["audit", "--config", config], in: dir, environment: ["BATS_CONFIG": broken])
        #expect(flagWins.status == 0, "\(flagWins.stderr)")

        let missing = try await BATSRun.run(["audit"], in: dir, environment: ["BATS_CONFIG": dir.appendingPathComponent("gone.yaml").path])
        #expect(missing.status == 1 && missing.stderr.contains("no configuration file at") && missing.stderr.contains("(named by BATS_CONFIG)"))
    }

    @Test("Every command takes --config")
    func everyCommand() throws {
        func leaves(_ command: any ParsableCommand.Type) -> [any ParsableCommand.Type] {
            let subs = command.configuration.subcommands
            return subs.isEmpty ? [command] : subs.flatMap(leaves)
        }
        let all = leaves(BATSCommand.self)
        #expect(all.count >= 10)
        // `ledger copy` names both ledgers as arguments and takes nothing else a configuration file holds.
        for command in all where !String(describing: command).hasSuffix("Copy") {
            #expect(BATSCommand.helpMessage(for: command).contains("--config <file>"), "\(command) has no --config")
        }
        _ = try BATSCommand.parseAsRoot(["budget", "--config", "x.yaml", "--daily-budget", "5"])
        _ = try BATSCommand.parseAsRoot(["workload", "generate", "--config", "x.yaml", "--days", "1"])
    }
}
