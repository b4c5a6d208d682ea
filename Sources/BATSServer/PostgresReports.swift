public import FleetLedger
public import Foundation
public import ModelSelection
public import SpendLedger
import Synchronization

/// The server's reports on a PostgreSQL ledger: the live windows from the database, and spend, forecasts and recent
/// decisions from a consistent copy of it (``FleetLedger/PostgresLedger/reportingCopy()``), taken at most once per
/// ``maximumAge`` so a dashboard polling every second does not copy the ledger on every request.
public struct PostgresReports: LedgerReporting {
    /// The shared ledger.
    public let ledger: PostgresLedger
    /// How old a copy may be before the next report takes a new one.
    public let maximumAge: Duration
    private let cache = CopyCache()

    /// Creates the reports.
    /// - Parameters:
    ///   - ledger: The PostgreSQL ledger.
    ///   - maximumAge: How long one copy serves reports.
    public init(ledger: PostgresLedger, maximumAge: Duration = .seconds(2)) {
        self.ledger = ledger
        self.maximumAge = maximumAge
    }

    final class CopyCache: Sendable {
        let state = Mutex<(taken: ContinuousClock.Instant, copy: SQLiteLedger)?>(nil)
    }

    /// A copy no older than ``maximumAge``.
    func copy() async throws -> SQLiteLedger {
        let now = ContinuousClock.now, age = maximumAge
        if let c = cache.state.withLock({ s in s.flatMap { now - $0.taken < age ? $0.copy : nil } }) { return c }
        let fresh = try await ledger.reportingCopy()
        cache.state.withLock { $0 = (now, fresh) }
        return fresh
    }

    /// The live windows (the database's running totals, expired reservations and leases reclaimed first).
    public func reportSnapshot(at date: Date) async throws -> BudgetSnapshot { try await ledger.snapshot(at: date) }

    /// Spend by group, from the copy.
    public func reportSpend(by grouping: AuditGrouping, since: String?, until: String?) async throws -> AuditReport {
        try await copy().reportSpend(by: grouping, since: since, until: until)
    }

    /// The forecasts, from the copy.
    public func reportForecast(at date: Date) async throws -> [WindowForecast] { try await copy().reportForecast(at: date) }

    /// Recent refusals and downgrades, from the copy.
    public func reportRecentDecisions(limit: Int) async throws -> [LedgerEntry] { try await copy().reportRecentDecisions(limit: limit) }
}
