public import Foundation
import GRDB
public import ModelSelection

extension SQLiteLedger {
    /// Alerts fired after `id`, oldest first (any process's: they are rows of the ledger). The read runs on the
    /// ledger's reader queue, never blocking the caller's thread.
    /// - Parameters:
    ///   - id: Only alerts with a larger id (0: all).
    ///   - limit: At most this many.
    /// - Throws: ``LedgerError``.
    public func alerts(afterID id: Int64 = 0, limit: Int = 1_000) async throws -> [BudgetAlert] {
        do {
            return try await writer.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT \(Self.alertColumns) FROM budget_alert WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, Int64(max(0, limit))]
                ).map(Self.alert)
            }
        } catch {
            throw Self.map(error, path: path)
        }
    }

    /// Alerts not yet delivered, oldest first.
    /// - Throws: ``LedgerError``.
    public func pendingAlerts(limit: Int = 1_000) throws -> [BudgetAlert] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.alertColumns) FROM budget_alert WHERE delivered_at IS NULL ORDER BY id LIMIT ?", arguments: [Int64(max(0, limit))]
            ).map(Self.alert)
        }
    }

    /// Claims undelivered alerts that are due, for one deliverer, for `lease`: no other process (or task) claims them
    /// until the lease ends or they are marked. One write transaction, off the cooperative pool.
    /// - Parameters:
    ///   - now: The moment.
    ///   - lease: How long the claim holds (longer than one delivery attempt).
    ///   - limit: At most this many.
    /// - Returns: The claimed alerts, oldest first.
    /// - Throws: ``LedgerError``.
    public func claimDueAlerts(at now: Date, lease: Duration, limit: Int = 100) async throws -> [BudgetAlert] {
        let t = LedgerStore.micros(now), until = LedgerStore.micros(now) &+ LedgerStore.micros(lease)
        return try await submit { db, _ in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.alertColumns) FROM budget_alert WHERE delivered_at IS NULL AND COALESCE(next_attempt_at, 0) <= ?
                        AND COALESCE(claimed_until, 0) <= ? ORDER BY id LIMIT ?
                    """, arguments: [t, t, Int64(max(0, limit))])
            let alerts = rows.map(Self.alert)
            for a in alerts {
                try db.execute(sql: "UPDATE budget_alert SET claimed_until = ? WHERE id = ?", arguments: [until, a.id])
            }
            return alerts
        }
    }

    /// Records a delivery (the alert is never delivered again).
    /// - Throws: ``LedgerError``.
    public func markAlertDelivered(_ id: Int64, at now: Date) async throws {
        let t = LedgerStore.micros(now)
        try await submit { db, _ in
            try db.execute(
                sql: "UPDATE budget_alert SET delivered_at = ?, attempts = attempts + 1, claimed_until = NULL, last_error = NULL WHERE id = ?",
                arguments: [t, id])
        }
    }

    /// Records a failed delivery: the alert stays pending, due again at `retryAt`.
    /// - Throws: ``LedgerError``.
    public func markAlertFailed(_ id: Int64, error: String, retryAt: Date) async throws {
        let t = LedgerStore.micros(retryAt)
        try await submit { db, _ in
            try db.execute(
                sql: "UPDATE budget_alert SET attempts = attempts + 1, next_attempt_at = ?, claimed_until = NULL, last_error = ? WHERE id = ?",
                arguments: [t, String(error.prefix(300)), id])
        }
    }

    /// How many delivery attempts an alert has had (for tests and `bats alerts list`).
    /// - Throws: ``LedgerError``.
    public func alertAttempts(_ id: Int64) throws -> (attempts: Int, lastError: String?) {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT attempts, last_error FROM budget_alert WHERE id = ?", arguments: [id])
            return (row?[0] ?? 0, row?[1])
        }
    }

    static let alertColumns = "id, kind, scope, period, window_key, threshold_ppm, spent, limit_micros, entry_id, fired_at, delivered_at, attempts"

    static func alert(_ r: Row) -> BudgetAlert {
        let scope: String = r[2], period: String = r[3], window: String = r[4], ppm: Int64 = r[5]
        let kind = BudgetAlert.Kind(rawValue: r[1])
        return BudgetAlert(
            id: r[0], kind: kind, scope: scope.isEmpty ? nil : scope, period: BudgetAlertThreshold.Period(rawValue: period),
            windowKey: period.isEmpty ? nil : window, thresholdPartsPerMillion: kind == .threshold ? ppm : nil, spent: MicroDollars(micros: r[6]),
            limit: (r[7] as Int64?).map(MicroDollars.init(micros:)), entryID: r[8], firedAt: LedgerStore.date(r[9]),
            deliveredAt: (r[10] as Int64?).map(LedgerStore.date), attempts: r[11])
    }
}
