import ArgumentParser
import BATSConfiguration
import FleetLedger
import Foundation
import ModelSelection
import SpendLedger

/// Daily and monthly budgets and the windows' time zone, parsed and checked as they are read.
struct BudgetOptions: ParsableArguments {
    @Option(
        name: .long, help: "Daily budget in dollars for non-critical calls (e.g. 50 or 12.50). 0 lets only critical calls run.",
        transform: ArgumentTransform.dollars)
    var dailyBudget: MicroDollars?

    @Option(name: .long, help: "Monthly budget in dollars for non-critical calls.", transform: ArgumentTransform.dollars)
    var monthlyBudget: MicroDollars?

    @Option(
        name: .customLong("tz"), help: "IANA time zone of a new ledger's budget windows (default UTC); an existing ledger keeps its own.",
        transform: ArgumentTransform.budgetCalendar)
    var timeZone: BudgetCalendar?

    @Flag(help: "Change an existing ledger's time zone to --tz, from the start of the next day.")
    var changeTimeZone = false

    @Option(
        name: .long,
        help: "A scope's budget, SCOPE@DAILY[/MONTHLY] in dollars (an empty part: none), e.g. tag:agent=scanner@2.50/40 or key:desk-a/tag:agent=scanner@/10. Repeatable; replaces the ledger's scopes.",
        transform: ArgumentTransform.scopeBudget)
    var scopeBudget: [BudgetScope] = []

    /// The largest budget a flag may set.
    static let maxBudget = MicroDollars.dollars(1_000_000_000)

    func validate() throws {
        for (flag, amount) in [("--daily-budget", dailyBudget), ("--monthly-budget", monthlyBudget)] {
            guard let amount else { continue }
            guard amount >= .zero else { throw ValidationError("\(flag) must not be negative, got \(amount.formatted(decimals: 6))") }
            guard amount <= Self.maxBudget else {
                throw ValidationError("\(flag) of \(amount.formatted()) is absurd (the limit is \(Self.maxBudget.formatted()))")
            }
        }
        if changeTimeZone, timeZone == nil { throw ValidationError("--change-time-zone needs --tz ZONE") }
    }

    /// Whether any flag, or the configuration file, sets a limit or the zone.
    func setsSomething(file: DeploymentConfiguration?) -> Bool {
        dailyBudget != nil || monthlyBudget != nil || timeZone != nil || !scopeBudget.isEmpty || file?.limits != nil || file?.calendar != nil
    }

    /// The limits to set: the flags over the configuration file's budget; `nil` when neither sets one (the ledger
    /// keeps its own). A flag without a file's budget keeps the ledger's other limit, its scopes and its alerts;
    /// `--scope-budget` replaces the scopes.
    func limits(forLedger path: String?, file: DeploymentConfiguration? = nil) throws -> BudgetLimits? {
        try limits(stored: { try path.flatMap(storedLimits(ofLedger:)) }, file: file)
    }

    /// ``limits(forLedger:file:)`` with the ledger's recorded limits read by `stored` (only when a flag needs them).
    func limits(stored: () throws -> BudgetLimits?, file: DeploymentConfiguration? = nil) throws -> BudgetLimits? {
        if dailyBudget == nil, monthlyBudget == nil, scopeBudget.isEmpty { return file?.limits }
        var base = file?.limits ?? .unlimited
        if file?.limits == nil, let stored = try stored() { base = stored }
        base.daily = dailyBudget ?? base.daily
        base.monthly = monthlyBudget ?? base.monthly
        if !scopeBudget.isEmpty { base.scopes = scopeBudget }
        try base.validate()
        return base
    }

    /// The limits for commands that run without a ledger's state (a replay): the flags over the configuration
    /// file's budget; unset means unlimited.
    func flagLimits(file: DeploymentConfiguration? = nil) -> BudgetLimits {
        var base = file?.limits ?? .unlimited
        base.daily = dailyBudget ?? base.daily
        base.monthly = monthlyBudget ?? base.monthly
        if !scopeBudget.isEmpty { base.scopes = scopeBudget }
        return base
    }

    /// The calendar of `--tz`, else the configuration file's time zone, or `nil` without either.
    func calendar(file: DeploymentConfiguration? = nil) -> BudgetCalendar? { timeZone ?? file?.calendar }

    /// A PostgreSQL ledger's configuration for the flags and the configuration file: the limits to set (flags over
    /// the ledger's recorded ones, read first when a flag needs them), the zone, the password and the chain key.
    func postgresConfiguration(_ url: PostgresLedgerURL, file: DeploymentConfiguration? = nil) async throws -> PostgresLedger.Configuration {
        if changeTimeZone { throw CommandError("--change-time-zone is not supported on a PostgreSQL ledger: its zone is fixed when it is created") }
        let needsStored = (dailyBudget != nil || monthlyBudget != nil || !scopeBudget.isEmpty) && file?.limits == nil
        let stored = needsStored ? try await LedgerLocation.postgres(url).storedLimits() : nil
        return try LedgerLocation.postgresConfiguration(url, limits: try limits(stored: { stored }, file: file), calendar: calendar(file: file))
    }

    /// The ledger configuration the flags and the configuration file ask for: limits to set, the zone (changed only
    /// with --change-time-zone), and the chain key from the environment.
    func ledgerConfiguration(forLedger path: String, file: DeploymentConfiguration? = nil) throws -> SQLiteLedger.Configuration {
        SQLiteLedger.Configuration(
            limits: try limits(forLedger: path, file: file), calendar: calendar(file: file),
            timeZoneChange: changeTimeZone ? .fromNextDay : .refuse, chainKey: try ledgerChainKey())
    }
}

/// The ledger chain key from `BATS_LEDGER_KEY` or `BATS_LEDGER_KEY_FILE` (never a flag).
func ledgerChainKey() throws -> LedgerChainKey? {
    try LedgerChainKey.fromEnvironment(ProcessInfo.processInfo.environment)
}

/// The limits a ledger file records, or `nil` when there is no ledger yet (no file, or an empty one).
func storedLimits(ofLedger path: String) throws -> BudgetLimits? {
    guard case .regular(let size) = InputFile.kind(of: path), size > 0 else { return nil }
    return try SQLiteLedger(path: path, configuration: try readOnlyLedgerConfiguration()).limits
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
