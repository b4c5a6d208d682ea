public import Foundation
import Logging
import ModelSelection
import PostgresNIO
public import SpendLedger

extension PostgresLedger: BudgetAlertStore {
    /// Alerts fired after `id`, oldest first (every host's: they are rows of the shared ledger).
    /// - Throws: ``SpendLedger/LedgerError``.
    public func alerts(afterID id: Int64 = 0, limit: Int = 1_000) async throws -> [BudgetAlert] {
        let logger = self.logger, n = Int64(max(0, min(limit, Int(Int32.max))))
        return try await readTransaction { c in
            try await PostgresStore.rows(c, "SELECT \(unescaped: Self.alertColumns) FROM budget_alert WHERE id > \(id) ORDER BY id LIMIT \(n)", logger)
                .map(Self.alert)
        }
    }

    /// Claims due, undelivered alerts for `lease`, in one transaction: rows another deliverer is claiming at the same
    /// moment are skipped (`FOR UPDATE SKIP LOCKED`), so each alert goes to one deliverer of the fleet at a time.
    /// - Throws: ``SpendLedger/LedgerError``.
    public func claimDueAlerts(at now: Date, lease: Duration, limit: Int = 100) async throws -> [BudgetAlert] {
        let logger = self.logger, n = Int64(max(0, min(limit, Int(Int32.max))))
        let t = LedgerStore.micros(now), until = LedgerStore.micros(now) &+ LedgerStore.micros(lease)
        return try await write { c in
            try await PostgresStore.rows(
                c,
                """
                UPDATE budget_alert SET claimed_until = \(until) WHERE id IN (
                    SELECT id FROM budget_alert WHERE delivered_at IS NULL AND COALESCE(next_attempt_at, 0) <= \(t)
                        AND COALESCE(claimed_until, 0) <= \(t) ORDER BY id LIMIT \(n) FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.alertColumns)
                """, logger
            ).map(Self.alert).sorted { $0.id < $1.id }
        }
    }

    /// Records a delivery: the alert is never delivered again.
    /// - Throws: ``SpendLedger/LedgerError``.
    public func markAlertDelivered(_ id: Int64, at now: Date) async throws {
        let logger = self.logger, t = LedgerStore.micros(now)
        try await write { c in
            _ = try await c.query(
                "UPDATE budget_alert SET delivered_at = \(t), attempts = attempts + 1, claimed_until = NULL, last_error = NULL WHERE id = \(id)",
                logger: logger)
        }
    }

    /// Records a failed delivery: the alert stays pending, due again at `retryAt`.
    /// - Throws: ``SpendLedger/LedgerError``.
    public func markAlertFailed(_ id: Int64, error: String, retryAt: Date) async throws {
        let logger = self.logger, t = LedgerStore.micros(retryAt), text = String(error.prefix(300))
        try await write { c in
            _ = try await c.query(
                "UPDATE budget_alert SET attempts = attempts + 1, next_attempt_at = \(t), claimed_until = NULL, last_error = \(text) WHERE id = \(id)",
                logger: logger)
        }
    }

    static let alertColumns = "id, kind, scope, period, window_key, threshold_ppm, spent, limit_micros, entry_id, fired_at, delivered_at, attempts"

    static func alert(_ r: PostgresRandomAccessRow) throws -> BudgetAlert {
        let scope = try PostgresStore.text(r, 2), period = try PostgresStore.text(r, 3), window = try PostgresStore.text(r, 4)
        let kind = BudgetAlert.Kind(rawValue: try PostgresStore.text(r, 1))
        return BudgetAlert(
            id: try PostgresStore.int(r, 0), kind: kind, scope: scope.isEmpty ? nil : scope, period: BudgetAlertThreshold.Period(rawValue: period),
            windowKey: period.isEmpty ? nil : window, thresholdPartsPerMillion: kind == .threshold ? try PostgresStore.int(r, 5) : nil,
            spent: MicroDollars(micros: try PostgresStore.int(r, 6)), limit: try PostgresStore.optInt(r, 7).map(MicroDollars.init(micros:)),
            entryID: try PostgresStore.optInt(r, 8), firedAt: LedgerStore.date(try PostgresStore.int(r, 9)),
            deliveredAt: try PostgresStore.optInt(r, 10).map(LedgerStore.date), attempts: Int(try PostgresStore.int(r, 11)))
    }
}
