public import Foundation

/// Where budget alerts are kept and claimed for delivery: the SQLite ledger, or a PostgreSQL ledger shared by a
/// fleet. Delivery (``BudgetAlerts``' webhook) and the alert stream work on either through this protocol.
public protocol BudgetAlertStore: Sendable {
    /// Alerts fired after `id`, oldest first (any process's).
    /// - Parameters:
    ///   - id: Only alerts with a larger id (0: all).
    ///   - limit: At most this many.
    func alerts(afterID id: Int64, limit: Int) async throws -> [BudgetAlert]

    /// Claims undelivered alerts that are due for `lease`: no other deliverer claims them until the lease ends or
    /// they are marked.
    /// - Parameters:
    ///   - now: The moment.
    ///   - lease: How long the claim holds (longer than one delivery attempt).
    ///   - limit: At most this many.
    /// - Returns: The claimed alerts, oldest first.
    func claimDueAlerts(at now: Date, lease: Duration, limit: Int) async throws -> [BudgetAlert]

    /// Records a delivery: the alert is never delivered again.
    func markAlertDelivered(_ id: Int64, at now: Date) async throws

    /// Records a failed delivery: the alert stays pending, due again at `retryAt`.
    func markAlertFailed(_ id: Int64, error: String, retryAt: Date) async throws
}

extension SQLiteLedger: BudgetAlertStore {}
