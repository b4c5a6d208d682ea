import ModelSelection
import SpendLedger

/// The alerts one transaction records: inserted with its other writes (`ON CONFLICT DO NOTHING` on the alert's
/// unique key), so each fires exactly once across every host.
struct AlertBatch {
    struct Alert {
        var kind: BudgetAlert.Kind
        var scope: String
        var period: String
        var windowKey: String
        var ppm: Int64
        var spent: Int64
        var limit: Int64?
    }
    let entryID: Int64
    let now: Int64
    private(set) var alerts: [Alert] = []
    private(set) var keys: Set<String> = []

    init(entryID: Int64, now: Int64) {
        self.entryID = entryID
        self.now = now
    }

    static func key(_ kind: BudgetAlert.Kind, _ scope: String, _ period: String, _ windowKey: String, _ ppm: Int64) -> String {
        "\(kind.rawValue)|\(scope)|\(period)|\(windowKey)|\(ppm)"
    }

    mutating func fire(
        _ kind: BudgetAlert.Kind, scope: String, period: String, windowKey: String, ppm: Int64, spent: Int64, limit: Int64?, ledger: PostgresLedger
    ) {
        let k = Self.key(kind, scope, period, windowKey, ppm)
        if keys.contains(k) || ledger.shared.alertKnown(k) { return }
        keys.insert(k)
        alerts.append(Alert(kind: kind, scope: scope, period: period, windowKey: windowKey, ppm: ppm, spent: spent, limit: limit))
    }

    /// Fires every threshold of a window its committed spend (settled plus reserved) has reached.
    mutating func checkThresholds(_ k: WKey, _ w: WRow, config: ScopeConfig, ledger: PostgresLedger) {
        guard let limit = w.limit else { return }
        let thresholds = config.thresholds(scope: k.scope)
        if thresholds.isEmpty { return }
        let committed = Int128(w.settled) + Int128(w.reserved)
        guard committed > 0 else { return }
        for t in thresholds where t.period.rawValue == k.period {
            guard committed * 1_000_000 >= Int128(limit) * Int128(t.partsPerMillion) else { continue }
            let spent = committed > Int128(Int64.max) ? Int64.max : Int64(committed)
            fire(.threshold, scope: k.scope, period: k.period, windowKey: k.key, ppm: t.partsPerMillion, spent: spent, limit: limit, ledger: ledger)
        }
    }

    func write(into q: inout SQLBuilder) {
        if alerts.isEmpty { return }
        let kind = q.bind(alerts.map(\.kind.rawValue)), scope = q.bind(alerts.map(\.scope)), period = q.bind(alerts.map(\.period))
        let wk = q.bind(alerts.map(\.windowKey)), ppm = q.bind(alerts.map(\.ppm)), spent = q.bind(alerts.map(\.spent))
        let limit = q.bind(alerts.map { $0.limit.map(String.init) ?? "" })
        let at = q.bind(now), entry = q.bind(entryID)
        q.add("""
            INSERT INTO budget_alert (kind, scope, period, window_key, threshold_ppm, fired_at, entry_id, spent, limit_micros, next_attempt_at)
            SELECT k, s, p, w, t, \(at), \(entry), sp, NULLIF(l, '')::bigint, \(at)
            FROM unnest(\(kind)::text[], \(scope)::text[], \(period)::text[], \(wk)::text[], \(ppm)::bigint[], \(spent)::bigint[], \(limit)::text[])
                AS a(k, s, p, w, t, sp, l)
            ON CONFLICT (kind, scope, period, window_key, threshold_ppm) DO NOTHING
            """)
    }
}
