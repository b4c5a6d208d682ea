public import Foundation
public import ModelSelection
public import SpendLedger
import NIOPosix

/// What the server reads from a ledger beyond routing: totals, spend by group, forecasts and recent decisions.
///
/// Every method runs off the cooperative thread pool. ``SpendLedger/SQLiteLedger`` conforms; a fleet ledger
/// conforms with its own queries.
public protocol LedgerReporting: Sendable {
    /// The windows containing `date`, with every scope's.
    func reportSnapshot(at date: Date) async throws -> BudgetSnapshot
    /// Spend grouped by model, tier, day or a tag, between two day keys (inclusive; `nil` for open).
    func reportSpend(by grouping: AuditGrouping, since: String?, until: String?) async throws -> AuditReport
    /// The month-end forecast of the global budget and of every scope.
    func reportForecast(at date: Date) async throws -> [WindowForecast]
    /// The latest refusals and downgrades, newest first.
    func reportRecentDecisions(limit: Int) async throws -> [LedgerEntry]
}

extension SQLiteLedger: LedgerReporting {
    /// ``snapshot(at:)``.
    public func reportSnapshot(at date: Date) async throws -> BudgetSnapshot { try await snapshot(at: date) }

    /// ``audit(by:since:until:)`` on a thread of NIO's blocking pool.
    public func reportSpend(by grouping: AuditGrouping, since: String?, until: String?) async throws -> AuditReport {
        try await NIOThreadPool.singleton.runIfActive { try self.audit(by: grouping, since: since, until: until) }
    }

    /// ``forecast(at:configuration:)`` on a thread of NIO's blocking pool.
    public func reportForecast(at date: Date) async throws -> [WindowForecast] {
        try await NIOThreadPool.singleton.runIfActive { try self.forecast(at: date) }
    }

    /// ``recentDecisions(limit:)`` on a thread of NIO's blocking pool.
    public func reportRecentDecisions(limit: Int) async throws -> [LedgerEntry] {
        try await NIOThreadPool.singleton.runIfActive { try self.recentDecisions(limit: limit) }
    }
}
