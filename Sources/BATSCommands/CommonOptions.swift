import ArgumentParser
import Foundation
import ModelSelection
import SpendLedger

/// Daily and monthly budgets and the windows' time zone.
struct BudgetOptions: ParsableArguments {
    @Option(name: .long, help: "Daily budget in dollars for non-critical calls (e.g. 50 or 12.50). 0 lets only critical calls run.")
    var dailyBudget: String?

    @Option(name: .long, help: "Monthly budget in dollars for non-critical calls.")
    var monthlyBudget: String?

    @Option(name: .customLong("tz"), help: "IANA time zone of a new ledger's budget windows (default UTC); an existing ledger keeps its own.")
    var timeZone: String?

    @Flag(help: "Change an existing ledger's time zone to --tz, from the start of the next day.")
    var changeTimeZone = false

    func validate() throws {
        _ = try Self.dollars(dailyBudget, flag: "--daily-budget")
        _ = try Self.dollars(monthlyBudget, flag: "--monthly-budget")
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw ValidationError("unknown time zone '\(timeZone)' for --tz (use an IANA name such as UTC or America/New_York)")
        }
        if changeTimeZone, timeZone == nil { throw ValidationError("--change-time-zone needs --tz ZONE") }
    }

    /// The limits the flags set: `nil` without flags (the ledger keeps its own); a single flag keeps the ledger's
    /// other limit.
    func limits(forLedger path: String?) throws -> BudgetLimits? {
        if dailyBudget == nil, monthlyBudget == nil { return nil }
        var base = BudgetLimits.unlimited
        if dailyBudget == nil || monthlyBudget == nil, let path, FileManager.default.fileExists(atPath: path) {
            base = try SQLiteLedger(path: path, configuration: try readOnlyLedgerConfiguration()).limits
        }
        return BudgetLimits(
            daily: try Self.dollars(dailyBudget, flag: "--daily-budget") ?? base.daily,
            monthly: try Self.dollars(monthlyBudget, flag: "--monthly-budget") ?? base.monthly)
    }

    /// The limits the flags give, for commands that run without a ledger's state (a replay): unset means unlimited.
    var flagLimits: BudgetLimits {
        BudgetLimits(
            daily: (try? Self.dollars(dailyBudget, flag: "--daily-budget")) ?? nil,
            monthly: (try? Self.dollars(monthlyBudget, flag: "--monthly-budget")) ?? nil)
    }

    var calendar: BudgetCalendar? { timeZone.flatMap { try? BudgetCalendar(timeZoneIdentifier: $0) } }

    /// The ledger configuration the flags ask for: limits to set, the zone (changed only with --change-time-zone), and
    /// the chain key from the environment.
    func ledgerConfiguration(forLedger path: String) throws -> SQLiteLedger.Configuration {
        SQLiteLedger.Configuration(
            limits: try limits(forLedger: path), calendar: calendar, timeZoneChange: changeTimeZone ? .fromNextDay : .refuse,
            chainKey: try ledgerChainKey())
    }

    /// Parses a dollar amount exactly; rejects negative, non-numeric and absurd (> $1,000,000,000) values.
    static func dollars(_ text: String?, flag: String) throws -> MicroDollars? {
        guard let text else { return nil }
        guard let m = MicroDollars(parsing: text) else {
            throw ValidationError("\(flag) must be a dollar amount such as 50 or 12.50 (at most 6 decimals), got '\(text)'")
        }
        guard m >= .zero else { throw ValidationError("\(flag) must not be negative, got '\(text)'") }
        guard m <= .dollars(1_000_000_000) else { throw ValidationError("\(flag) of \(m.formatted()) is absurd (the limit is $1,000,000,000)") }
        return m
    }
}

/// The ledger chain key from `BATS_LEDGER_KEY` or `BATS_LEDGER_KEY_FILE` (never a flag).
func ledgerChainKey() throws -> LedgerChainKey? {
    try LedgerChainKey.fromEnvironment(ProcessInfo.processInfo.environment)
}

/// How a command that only reads opens a ledger: read-only, recording nothing, with the chain key if one is set.
func readOnlyLedgerConfiguration() throws -> SQLiteLedger.Configuration {
    .init(recordsLimits: false, readOnly: true, chainKey: try ledgerChainKey())
}

/// Output format of tables.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// Loads the catalog: a user's prices file, or the bundled one.
func loadCatalog(_ path: String?) throws -> ModelCatalog {
    if let path { return try ModelCatalog.load(contentsOf: URL(fileURLWithPath: path)) }
    return try ModelCatalog.bundled()
}

/// Writes to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
