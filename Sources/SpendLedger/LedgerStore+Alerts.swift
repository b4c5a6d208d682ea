import GRDB
import ModelSelection
import Synchronization

/// One alert's identity: the ledger records each at most once (`budget_alert`'s unique key).
struct AlertKey: Hashable, Sendable {
    var kind: BudgetAlert.Kind
    /// `""` for the global budget.
    var scope: String
    /// `day`, `month`, or `""` for an alert about one entry.
    var period: String
    var windowKey: String
    var partsPerMillion: Int64
}

/// The alerts this process knows are recorded, so that a window past a threshold costs no statement per call.
///
/// Only alerts whose transaction committed are added: one that was rolled back is still to fire.
final class AlertLog: Sendable {
    private let known = Mutex<Set<AlertKey>>([])

    func contains(_ key: AlertKey) -> Bool { known.withLock { $0.contains(key) } }

    /// Adds what a committed transaction recorded.
    func committed(_ keys: Set<AlertKey>) {
        if keys.isEmpty { return }
        known.withLock { $0.formUnion(keys) }
    }
}

extension LedgerStore {
    /// Fires the thresholds a day and month window have reached (committed spend: settled plus reserved).
    static func checkThresholds(
        _ db: Database, scope: String, day: (String, LedgerBatchCache.Window), month: (String, LedgerBatchCache.Window), config: ScopeConfig,
        entryID: Int64, now: Int64, context: Context, cache: inout LedgerBatchCache
    ) throws {
        if config.thresholds(scope: scope).isEmpty { return }
        try checkThresholds(db, .init(scope: scope, period: "day", key: day.0), day.1, config: config, entryID: entryID, now: now, context: context, cache: &cache)
        try checkThresholds(db, .init(scope: scope, period: "month", key: month.0), month.1, config: config, entryID: entryID, now: now, context: context, cache: &cache)
    }

    /// Fires every threshold of one window that its committed spend has reached.
    static func checkThresholds(
        _ db: Database, _ k: LedgerBatchCache.WindowKey, _ w: LedgerBatchCache.Window, config: ScopeConfig, entryID: Int64, now: Int64,
        context: Context, cache: inout LedgerBatchCache
    ) throws {
        guard let limit = w.limit else { return }
        let thresholds = config.thresholds(scope: k.scope)
        if thresholds.isEmpty { return }
        let committed = Int128(w.settled) + Int128(w.reserved)
        guard committed > 0 else { return }
        for t in thresholds where t.period.rawValue == k.period {
            // committed ≥ limit × share, exactly.
            guard committed * 1_000_000 >= Int128(limit) * Int128(t.partsPerMillion) else { continue }
            let spent = committed > Int128(Int64.max) ? Int64.max : Int64(committed)
            try fire(
                db, AlertKey(kind: .threshold, scope: k.scope, period: k.period, windowKey: k.key, partsPerMillion: t.partsPerMillion),
                spent: spent, limit: limit, entryID: entryID, now: now, context: context, cache: &cache)
        }
    }

    /// Records an alert unless it is recorded already (by this process, another, or before a restart).
    static func fire(
        _ db: Database, _ key: AlertKey, spent: Int64, limit: Int64?, entryID: Int64, now: Int64, context: Context, cache: inout LedgerBatchCache
    ) throws {
        if cache.firedAlerts.contains(key) || context.alertLog.contains(key) { return }
        let insert = try SQLiteCall(
            db,
            """
            INSERT OR IGNORE INTO budget_alert (kind, scope, period, window_key, threshold_ppm, fired_at, entry_id, spent, limit_micros, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, key.kind.rawValue)
        insert.bind(2, key.scope)
        insert.bind(3, key.period)
        insert.bind(4, key.windowKey)
        insert.bind(5, key.partsPerMillion)
        insert.bind(6, now)
        insert.bind(7, entryID)
        insert.bind(8, spent)
        insert.bind(9, limit)
        insert.bind(10, now)
        try insert.run()
        cache.firedAlerts.insert(key)
    }
}
