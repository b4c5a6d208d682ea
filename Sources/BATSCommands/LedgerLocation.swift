import ArgumentParser
import FleetLedger
import Foundation
import SpendLedger

/// Where a command's ledger is: an SQLite file, or a PostgreSQL database named by a `postgres://` URL.
///
/// `--ledger` takes either; without it, `BATS_LEDGER_URL`, then the configuration file's `ledger.url` or
/// `ledger.path`. The password of a PostgreSQL ledger comes from `BATS_LEDGER_PASSWORD` (or `PGPASSWORD`), the file
/// `BATS_LEDGER_PASSWORD_FILE`, or `PGPASSFILE` / `~/.pgpass`, never from a flag, and is never printed.
enum LedgerLocation: CustomStringConvertible {
    /// An SQLite file.
    case file(String)
    /// A PostgreSQL ledger.
    case postgres(PostgresLedgerURL)

    /// The environment variable naming the ledger when `--ledger` is not given.
    static let environmentVariable = "BATS_LEDGER_URL"

    /// Parses `--ledger`'s text.
    /// - Throws: ``CommandError`` (one line, without any password) when a `postgres://` URL is malformed.
    init(_ text: String) throws {
        guard PostgresLedgerURL.isPostgres(text) else {
            self = .file(text)
            return
        }
        do { self = .postgres(try PostgresLedgerURL(text)) } catch let e as LedgerError {
            throw CommandError("ledger \(PostgresLedgerURL.redacted(text)): \(e.message)")
        }
    }

    /// The path or the URL without a password, for messages.
    var description: String {
        switch self {
        case .file(let path): path
        case .postgres(let url): url.description
        }
    }

    /// A PostgreSQL ledger's configuration: the URL, the password from the environment or a password file, and the
    /// chain key.
    static func postgresConfiguration(_ url: PostgresLedgerURL, limits: BudgetLimits? = nil, calendar: BudgetCalendar? = nil, recordsLimits: Bool = true) throws
        -> PostgresLedger.Configuration
    {
        var c = PostgresLedger.Configuration(url: url, password: try url.password(), limits: limits, calendar: calendar)
        c.chainKey = try ledgerChainKey()
        c.recordsLimits = recordsLimits
        return c
    }

    /// Connects to a PostgreSQL ledger without recording limits or a zone (reports, copies, alert delivery), runs
    /// `body`, and closes it.
    static func withPostgres<T: Sendable>(_ url: PostgresLedgerURL, _ body: (PostgresLedger) async throws -> T) async throws -> T {
        try await PostgresLedger.withLedger(try postgresConfiguration(url, recordsLimits: false), body)
    }

    /// The ledger opened for a report (audit, budget, replay --from-ledger): an SQLite file read-only (it must
    /// exist), or a consistent copy of a PostgreSQL ledger (taken in one REPEATABLE READ transaction).
    /// - Throws: ``CommandError`` for a missing file; ``SpendLedger/LedgerError`` when the ledger cannot be read.
    func openForReading() async throws -> SQLiteLedger {
        switch self {
        case .file(let path):
            try InputFile.checkExistingLedger(path)
            return try SQLiteLedger(path: path, configuration: try readOnlyLedgerConfiguration())
        case .postgres(let url):
            return try await Self.withPostgres(url) { try await $0.reportingCopy() }
        }
    }

    /// The ledger's hash chain and totals checked: the file's, or the database's (with its head and leases).
    func verify() async throws -> VerificationReport {
        switch self {
        case .file(let path):
            try InputFile.checkExistingLedger(path)
            return try SQLiteLedger(path: path, configuration: try readOnlyLedgerConfiguration()).verify()
        case .postgres(let url):
            return try await Self.withPostgres(url) { try await $0.verify() }
        }
    }

    /// The limits the ledger records (unlimited for an empty database), or `nil` when there is no file yet.
    func storedLimits() async throws -> BudgetLimits? {
        switch self {
        case .file(let path): return try SpendLedger_storedLimits(path)
        case .postgres(let url): return try await Self.withPostgres(url) { $0.limits }
        }
    }
}

/// ``storedLimits(ofLedger:)`` under a name the enum's own method does not shadow.
private func SpendLedger_storedLimits(_ path: String) throws -> BudgetLimits? { try storedLimits(ofLedger: path) }

extension Deployment {
    /// `--ledger PATH|URL`, else `BATS_LEDGER_URL`, else the configuration file's `ledger.url` or `ledger.path`.
    func ledgerLocation(_ flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LedgerLocation? {
        let env = environment[LedgerLocation.environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        guard let text = flag ?? env ?? file?.ledger.url ?? file?.ledger.path else { return nil }
        return try LedgerLocation(text)
    }

    /// ``ledgerLocation(_:environment:)``, required.
    /// - Throws: `ValidationError` when nothing names a ledger.
    func requiredLedgerLocation(_ flag: String?) throws -> LedgerLocation {
        guard let l = try ledgerLocation(flag) else {
            throw ValidationError(
                "give --ledger FILE or --ledger postgres://USER@HOST:PORT/DB, \(LedgerLocation.environmentVariable), or ledger.path or ledger.url in the configuration file (--config or \(ConfigOptions.environmentVariable))")
        }
        return l
    }
}
