import ArgumentParser
import BATSCommands
import Foundation
import ModelSelection
import Testing

/// Bad input at the command line: absurd prices, hostile tag values in JSON output, dates that do not exist, and
/// ledger paths that are not ledgers.
@Suite("Command line: bad input gives clear errors")
struct CLIBadInputTests {
    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("bats-badinput-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    // MARK: - Money

    @Test("a price catalog with $9e12 per million tokens is refused with one line naming the field, exit 1", arguments: ["complete", "replay", "models", "simulate"])
    func absurdPrices(command: String) async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(CLINoTrapTests.absurdPrices(input: "9000000000000").utf8).write(to: dir.appendingPathComponent("p.json"))
        try Data((#"{"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}"# + "\n").utf8)
            .write(to: dir.appendingPathComponent("w.jsonl"))
        let args: [String] =
            switch command {
            case "complete": ["complete", "--complexity", "simple", "--ledger", "l.sqlite", "--prices", "p.json", "hello"]
            case "replay": ["replay", "w.jsonl", "--prices", "p.json"]
            case "simulate": ["simulate", "--ledger", "s.sqlite", "--tasks", "2", "--prices", "p.json"]
            default: ["models", "--prices", "p.json"]
            }
        let r = try await BATSRun.run(args, in: dir, environment: CLINoTrapTests.closedGateway)
        #expect(!r.crashed && r.status == 1, "status \(r.status): \(r.stderr.prefix(300)) \(r.stdout.prefix(300))")
        #expect(r.errorLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("models[0].input_per_mtok") && r.stderr.contains("absurd"), "\(r.stderr)")
        #expect(!r.stdout.contains("9223372036854"), "a saturated amount was printed: \(r.stdout.prefix(300))")
    }

    @Test("a replay whose totals pass $9.2 trillion stops with a money overflow error, not a trap")
    func replayTotalsOverflow() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Opus input at the $1,000,000 ceiling: 900M prompt tokens cost $945,000,000 (under the ledger's per-call
        // ceiling); 10,000 of them pass Int64 micro-dollars.
        let prices = CLINoTrapTests.absurdPrices(input: "\"0.27\"").replacingOccurrences(
            of: #""id": "claude-opus", "input_per_mtok": "15""#, with: #""id": "claude-opus", "input_per_mtok": "1000000""#)
        try Data(prices.utf8).write(to: dir.appendingPathComponent("p.json"))
        var lines = ""
        for i in 0..<10_000 {
            lines += #"{"ts":"2026-10-01T13:\#(String(format: "%02d:%02d", i / 1_000 % 60, i / 10 % 60)).\#(String(format: "%03d", i % 1_000))Z","complexity":"critical","input_tokens":900000000,"output_tokens":1}"# + "\n"
        }
        try Data(lines.utf8).write(to: dir.appendingPathComponent("w.jsonl"))
        let r = try await BATSRun.run(["replay", "w.jsonl", "--prices", "p.json"], in: dir)
        #expect(!r.crashed && r.status == 1, "status \(r.status), signal \(r.bySignal): \(r.stderr.prefix(300))")
        #expect(r.errorLines.count == 1 && r.stderr.contains("money overflow"), "\(r.stderr.prefix(300))")
    }

    // MARK: - JSON output

    /// A tag value with a backslash, a quote, a newline, a tab and control characters.
    static let hostileTag = "a\\b\"c\nd\te\u{01}f\u{1F}g/h\u{7F}é"

    /// Replays two tasks tagged with ``hostileTag`` (and one plain one) into `dir/l.sqlite`.
    static func ledgerWithHostileTags(in dir: URL) async throws -> String {
        func line(_ ts: String, agent: String) throws -> String {
            let tags = String(decoding: try JSONEncoder().encode(["agent": agent]), as: UTF8.self)
            return #"{"ts":"\#(ts)","task":"parse_market_data","input_tokens":500,"output_tokens":50,"tags":\#(tags)}"#
        }
        let text = [try line("2026-10-01T13:30:00Z", agent: hostileTag), try line("2026-10-01T13:31:00Z", agent: hostileTag),
                    try line("2026-10-01T13:32:00Z", agent: "plain")].joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: dir.appendingPathComponent("w.jsonl"))
        let r = try await BATSRun.run(["replay", "w.jsonl", "--ledger", "l.sqlite", "--daily-budget", "0.50", "--monthly-budget", "20"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        return dir.appendingPathComponent("l.sqlite").path
    }

    @Test("audit --by tag:agent --format json is valid JSON when a tag value holds \\, \", a newline and control characters")
    func auditJSONEscapes() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try await Self.ledgerWithHostileTags(in: dir)
        let r = try await BATSRun.run(["audit", "--ledger", ledger, "--by", "tag:agent", "--format", "json"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "invalid JSON: \(r.stdout)")
        #expect(object["by"] as? String == "tag:agent")
        let rows = try #require(object["rows"] as? [[String: Any]])
        let hostile = try #require(rows.first { $0["group"] as? String == Self.hostileTag }, "groups: \(rows.map { $0["group"] ?? "" })")
        #expect(hostile["calls"] as? Int == 2)
        #expect(rows.contains { $0["group"] as? String == "plain" })
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["calls"] as? Int == 3 && totals["group"] as? String == "total")
        for key in AuditFormatterKeys.columns { #expect(hostile.keys.contains(key), "missing \(key)") }
        #expect(hostile["limit_usd"] is NSNull)
        // Money is exact: decoded as Decimal, spend equals three times one call's cost.
        struct Audit: Decodable {
            struct Row: Decodable {
                var group: String
                var spend_usd: Decimal
            }
            var rows: [Row]
            var totals: Row
        }
        let audit = try JSONDecoder().decode(Audit.self, from: Data(r.stdout.utf8))
        let one = try LedgerFixture.catalog.cost(of: LedgerFixture.catalog.model(.deepseekV3)!, inputTokens: 500, outputTokens: 50)
        #expect(audit.totals.spend_usd == (try one.multiplied(by: 3)).decimalValue)
        #expect(audit.rows.first { $0.group == Self.hostileTag }?.spend_usd == (try one.multiplied(by: 2)).decimalValue)
        // The limits record is there, with exact dollars.
        let limits = try #require(object["limits"] as? [[String: Any]])
        #expect((limits.last?["daily_limit_usd"] as? NSNumber)?.decimalValue == Decimal(string: "0.5"))
    }

    @Test("budget --format json is valid JSON with exact dollars")
    func budgetJSON() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try await Self.ledgerWithHostileTags(in: dir)
        let r = try await BATSRun.run(["budget", "--ledger", ledger, "--format", "json", "--at", "2026-10-01T20:00:00Z"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        struct Budget: Decodable {
            struct Window: Decodable {
                var key: String
                var limit_usd: Decimal?
                var settled_usd: Decimal
                var critical_settled_usd: Decimal
                var reserved_usd: Decimal
                var remaining_usd: Decimal?
            }
            var time_zone: String
            var day: Window
            var month: Window
        }
        let b = try JSONDecoder().decode(Budget.self, from: Data(r.stdout.utf8))
        let one = try LedgerFixture.catalog.cost(of: LedgerFixture.catalog.model(.deepseekV3)!, inputTokens: 500, outputTokens: 50)
        let spent = try one.multiplied(by: 3)
        #expect(b.time_zone == "UTC" && b.day.key == "2026-10-01" && b.month.key == "2026-10")
        #expect(b.day.limit_usd == Decimal(string: "0.5") && b.month.limit_usd == Decimal(20))
        #expect(b.day.settled_usd == spent.decimalValue && b.day.reserved_usd == 0 && b.day.critical_settled_usd == 0)
        #expect(b.day.remaining_usd == (try MicroDollars(micros: 500_000).subtracting(spent)).decimalValue)
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(Set(raw.keys) == ["time_zone", "day", "month", "scopes", "forecast"])
    }

    @Test("the replay report is valid JSON when the ledger path holds quotes and backslashes")
    func replayReportJSON() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data((#"{"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}"# + "\n").utf8)
            .write(to: dir.appendingPathComponent("w.jsonl"))
        let name = "we\"ird\\na\tme.sqlite"
        let r = try await BATSRun.run(["replay", "w.jsonl", "--ledger", name, "--format", "json", "--report", "r.json", "--daily-budget", "0.5"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        for text in [r.stdout, try String(contentsOf: dir.appendingPathComponent("r.json"), encoding: .utf8)] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "invalid JSON: \(text)")
            #expect(object["ledger"] as? String == name)
            #expect((object["daily_limit_usd"] as? NSNumber)?.decimalValue == Decimal(string: "0.5") && object["monthly_limit_usd"] is NSNull)
            let day = try #require((object["days"] as? [[String: Any]])?.first)
            #expect(day["date"] as? String == "2026-10-01" && day["over_budget"] as? Bool == false)
            let tier = try #require((object["by_tier"] as? [String: [String: Any]])?["simple"])
            #expect(tier["refused"] as? Int == 0 && tier["tasks"] as? Int == 1)
            #expect((object["by_model"] as? [String: [String: Any]])?["deepseek-v3"]?["refused"] == nil)
        }
        struct Money: Decodable { var cost_usd: Decimal }
        let cost = try LedgerFixture.catalog.cost(of: LedgerFixture.catalog.model(.deepseekV3)!, inputTokens: 500, outputTokens: 50)
        #expect(try JSONDecoder().decode(Money.self, from: Data(r.stdout.utf8)).cost_usd == cost.decimalValue)
    }

    // MARK: - Dates

    @Test(
        "dates that do not exist, and --until before --since, are usage errors",
        arguments: [
            (["audit", "--ledger", "x", "--since", "2026-13-45"], "'--since <since>': must be a date"),
            (["audit", "--ledger", "x", "--since", "2026-02-30"], "'--since <since>': must be a date"),
            (["audit", "--ledger", "x", "--until", "2023-02-29"], "'--until <until>': must be a date"),
            (["audit", "--ledger", "x", "--until", "2026-04-31"], "'--until <until>': must be a date"),
            (["audit", "--ledger", "x", "--since", "2026-03-02", "--until", "2026-03-01"], "is before --since"),
            (["budget", "--ledger", "x", "--at", "2026-02-30T12:00:00Z"], "'--at <at>': must be an RFC 3339 time"),
            (["budget", "--ledger", "x", "--at", "2026-13-01T12:00:00Z"], "'--at <at>': must be an RFC 3339 time"),
            (["budget", "--ledger", "x", "--at", "2026-01-01T24:00:00Z"], "'--at <at>': must be an RFC 3339 time"),
            (["budget", "--ledger", "x", "--at", "2026-01-01T12:00:00"], "'--at <at>': must be an RFC 3339 time"),
            (["workload", "generate", "--start", "2026-02-30"], "--start"),
            (["workload", "generate", "--start", "2026-1-01"], "--start"),
            (["workload", "generate", "--start", "9999-12-31"], "--start"),
        ])
    func badDates(arguments: [String], message: String) {
        #expect {
            _ = try BATSCommand.parseAsRoot(arguments)
        } throws: { error in
            BATSCommand.message(for: error).contains(message) && BATSCommand.exitCode(for: error) == .validationFailure
        }
    }

    @Test(
        "real dates are accepted, leap days included",
        arguments: [
            ["audit", "--ledger", "x", "--since", "2024-02-29", "--until", "2024-02-29"],
            ["audit", "--ledger", "x", "--since", "2000-02-29", "--until", "2026-12-31"],
            ["budget", "--ledger", "x", "--at", "2024-02-29T23:59:59.999Z"],
            ["budget", "--ledger", "x", "--at", "2026-11-21T10:00:00-05:00"],
            ["workload", "generate", "--start", "2028-02-29", "--days", "1"],
        ])
    func goodDates(arguments: [String]) throws {
        _ = try BATSCommand.parseAsRoot(arguments)
    }

    @Test("--at with an offset names the same instant as in UTC")
    func budgetAtOffset() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledger = try await Self.ledgerWithHostileTags(in: dir)
        // 2026-10-01T23:30-05:00 is 2026-10-02T04:30Z: the UTC day is the 2nd.
        let r = try await BATSRun.run(["budget", "--ledger", ledger, "--format", "json", "--at", "2026-10-01T23:30:00-05:00"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(#""key":"2026-10-02""#), "\(r.stdout)")
    }

    // MARK: - Ledger paths

    enum BadLedger: String, CaseIterable, CustomTestStringConvertible {
        case missing, directory, devNull, empty, notSQLite
        var testDescription: String { rawValue }
    }

    static let readCommands: [[String]] = [["audit", "--ledger"], ["audit", "verify", "--ledger"], ["budget", "--ledger"], ["replay", "--from-ledger"]]

    @Test("a ledger path that is missing, a directory, /dev/null or empty: one line naming it, exit 1, no usage text", arguments: readCommands, BadLedger.allCases)
    func badLedgerPath(command: [String], bad: BadLedger) async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger-\(bad.rawValue).sqlite").path
        switch bad {
        case .missing: break
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .devNull: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/null")
        case .empty: _ = FileManager.default.createFile(atPath: path, contents: nil)
        case .notSQLite: _ = FileManager.default.createFile(atPath: path, contents: Data("not a database, just text\n".utf8))
        }
        let r = try await BATSRun.run(command + [path], in: dir)
        #expect(!r.crashed && r.status == 1, "status \(r.status): \(r.stderr)")
        #expect(r.errorLines.count == 1 && r.errorLines.first?.hasPrefix("Error: ") == true, "\(r.stderr)")
        #expect(r.stderr.contains(path), "the message must name the path: \(r.stderr)")
        #expect(!r.stderr.contains("Usage:"), "\(r.stderr)")
        let what: String =
            switch bad {
            case .missing: "no ledger at"
            case .directory: "is a directory"
            case .devNull: "character device"
            case .empty: "empty file"
            case .notSQLite: "not"
            }
        #expect(r.stderr.contains(what), "\(r.stderr)")
        if bad == .devNull { #expect(r.stderr.contains("/dev/null")) }
        // Nothing was created or changed.
        if bad == .missing { #expect(!FileManager.default.fileExists(atPath: path)) }
        if bad == .empty { #expect((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0) }
    }

    @Test("a ledger path that is a directory or /dev/null is refused by commands that write a ledger too", arguments: ["directory", "devNull"])
    func badWritableLedger(kind: String) async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        if kind == "directory" {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } else {
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/null")
        }
        try Data((#"{"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}"# + "\n").utf8)
            .write(to: dir.appendingPathComponent("w.jsonl"))
        for args in [
            ["replay", "w.jsonl", "--ledger", path], ["simulate", "--ledger", path, "--tasks", "1"],
            ["complete", "--complexity", "simple", "--ledger", path, "hi"],
        ] {
            let r = try await BATSRun.run(args, in: dir, environment: CLINoTrapTests.closedGateway)
            #expect(!r.crashed && r.status == 1 && r.errorLines.count == 1 && r.stderr.contains(path), "\(args[0]): \(r.stderr)")
        }
    }

    @Test("a missing workload or trace file is one line naming it, without usage text", arguments: [["replay", "nope.jsonl"], ["workload", "import", "azure", "nope.csv"]])
    func missingInputFile(arguments: [String]) async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await BATSRun.run(arguments, in: dir)
        #expect(r.status == 1 && r.errorLines.count == 1 && r.stderr.contains(arguments.last!) && !r.stderr.contains("Usage:"), "\(r.stderr)")
    }
}

/// The audit JSON's row keys (the CSV's columns).
enum AuditFormatterKeys {
    static let columns = [
        "group", "calls", "spend_usd", "critical_spend_usd", "input_tokens", "output_tokens", "estimated", "refused", "released", "expired",
        "open", "open_reserved_usd", "critical_over_budget", "limit_usd",
    ]
}
