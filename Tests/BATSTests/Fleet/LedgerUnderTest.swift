import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// The ledger backends every conformance test runs against.
enum LedgerBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
    /// SQLite always; PostgreSQL when a test server is configured (always in CI).
    static var all: [LedgerBackend] { PostgresTestServer.enabled ? [.sqlite, .postgres] : [.sqlite] }
}

/// One ledger of either backend, with what the tests need beyond ``BudgetLedger``: reopening, reports, tampering.
struct LedgerUnderTest: Sendable {
    let backend: LedgerBackend
    /// The SQLite file, or the PostgreSQL URL.
    let location: String
    let sqlite: SQLiteLedger?
    let postgres: PostgresLedger?
    var ledger: any BudgetLedger { sqlite ?? postgres! }

    /// A new, empty ledger.
    static func make(
        _ backend: LedgerBackend, limits: BudgetLimits?, zone: String = "UTC", ttl: Duration = .seconds(900), now: Date
    ) async throws -> LedgerUnderTest {
        switch backend {
        case .sqlite:
            let path = try LedgerFixture.tempDir().appendingPathComponent("ledger.sqlite").path
            return try await open(backend, location: path, limits: limits, zone: zone, ttl: ttl, now: now)
        case .postgres:
            let url = try await PostgresTestServer.freshDatabase()
            return try await open(backend, location: url.description, limits: limits, zone: zone, ttl: ttl, now: now)
        }
    }

    /// Opens the ledger at `location` (`limits` nil keeps the recorded ones).
    static func open(
        _ backend: LedgerBackend, location: String, limits: BudgetLimits?, zone: String? = nil, ttl: Duration = .seconds(900), now: Date
    ) async throws -> LedgerUnderTest {
        let calendar = try zone.map { try BudgetCalendar(timeZoneIdentifier: $0) }
        switch backend {
        case .sqlite:
            let l = try SQLiteLedger(path: location, configuration: .init(limits: limits, calendar: calendar, reservationTimeToLive: ttl), now: now)
            return LedgerUnderTest(backend: backend, location: location, sqlite: l, postgres: nil)
        case .postgres:
            let config = PostgresLedger.Configuration(
                url: try PostgresLedgerURL(location), password: PostgresTestServer.password, limits: limits, calendar: calendar, reservationTimeToLive: ttl,
                // The whole suite runs at once on 2 cores: an operation may queue behind many others for the row lock.
                operationTimeout: PostgresTestServer.operationTimeout)
            let l = try await PostgresLedger.connect(config, now: now)
            return LedgerUnderTest(backend: backend, location: location, sqlite: nil, postgres: l)
        }
    }

    func reopen(limits: BudgetLimits? = nil, ttl: Duration = .seconds(900), now: Date) async throws -> LedgerUnderTest {
        await close()
        return try await Self.open(backend, location: location, limits: limits, ttl: ttl, now: now)
    }

    func close() async { await postgres?.close() }

    /// The ledger's reports (the SQLite ledger itself, or the PostgreSQL ledger's in-memory copy).
    func reports() async throws -> SQLiteLedger {
        if let sqlite { return sqlite }
        return try await postgres!.reportingCopy()
    }

    func verify() async throws -> VerificationReport {
        if let sqlite { return try sqlite.verify() }
        return try await postgres!.verify()
    }

    /// Runs SQL on the ledger's database behind its back.
    func tamper(_ sql: String) async throws {
        if sqlite != nil {
            try SQLiteProbe(path: location).exec(sql)
        } else {
            try await PostgresTestServer.execute(try PostgresLedgerURL(location), sql)
        }
    }

    /// Non-critical spend within every limited window (global and scopes), and verify intact.
    func expectInvariants(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await reports()
        for w in try r.windowTotals() + r.scopeWindowTotals() {
            if let limit = w.limit {
                #expect(w.nonCriticalSettled <= limit, "\(w.scope ?? "global") \(w.period) \(w.key): \(w.nonCriticalSettled) over \(limit)", sourceLocation: sourceLocation)
            }
        }
        let report = try await verify()
        #expect(report.isIntact, "verify: \(String(describing: report.firstProblem))", sourceLocation: sourceLocation)
    }
}
