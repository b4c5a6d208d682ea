import GRDB
import ModelSelection

extension SQLiteLedger {
    /// Spend, counts, tokens and open reservations, grouped, from the entries themselves.
    /// - Parameters:
    ///   - grouping: How rows are grouped.
    ///   - since: The first day (`YYYY-MM-DD`, window day keys), inclusive.
    ///   - until: The last day, inclusive.
    /// - Returns: The rows and their totals.
    /// - Throws: ``LedgerError``.
    public func audit(by grouping: AuditGrouping, since: String? = nil, until: String? = nil) throws -> AuditReport {
        let groupSQL: String
        var groupArgs: [any DatabaseValueConvertible] = []
        switch grouping.base {
        case .day: groupSQL = "day_key"
        case .month: groupSQL = "month_key"
        case .model: groupSQL = "CASE WHEN model = '' THEN '(none)' ELSE model END"
        case .tier: groupSQL = "tier"
        case .task: groupSQL = "COALESCE(task_kind, '(none)')"
        case .tag(let key):
            groupSQL = "COALESCE(json_extract(tags, ?), '(none)')"
            groupArgs.append("$.\"\(key.replacingOccurrences(of: "\"", with: ""))\"")
        }
        var whereSQL = "1"
        var whereArgs: [any DatabaseValueConvertible] = []
        if let since {
            whereSQL += " AND day_key >= ?"
            whereArgs.append(since)
        }
        if let until {
            whereSQL += " AND day_key <= ?"
            whereArgs.append(until)
        }
        let sql = """
            SELECT \(groupSQL) AS g,
                SUM(status = 'settled'),
                COALESCE(SUM(CASE WHEN status = 'settled' THEN actual_cost END), 0),
                COALESCE(SUM(CASE WHEN status = 'settled' AND critical THEN actual_cost END), 0),
                COALESCE(SUM(CASE WHEN status = 'settled' THEN actual_input_tokens END), 0),
                COALESCE(SUM(CASE WHEN status = 'settled' THEN actual_output_tokens END), 0),
                SUM(status = 'settled' AND usage_estimated),
                SUM(status = 'refused'), SUM(status = 'released'), SUM(status = 'expired'), SUM(status = 'reserved'),
                COALESCE(SUM(CASE WHEN status = 'reserved' THEN est_cost END), 0),
                SUM(status = 'settled' AND critical AND over_limit),
                COALESCE(SUM(CASE WHEN status = 'expired' THEN actual_cost END), 0),
                SUM((flags & 1) != 0), SUM((flags & 2) != 0), SUM((flags & 16) != 0), SUM((flags & 8) != 0),
                COALESCE(SUM(CASE WHEN status = 'settled' THEN cached_input_tokens END), 0)
            FROM entry WHERE \(whereSQL) GROUP BY g ORDER BY g
            """
        // Cache reads per group and model, for the saving (priced with a catalog by AuditReport.priceCacheSavings).
        let cachedSQL = """
            SELECT \(groupSQL) AS g, model, SUM(cached_input_tokens)
            FROM entry WHERE \(whereSQL) AND status = 'settled' AND cached_input_tokens > 0 GROUP BY g, model
            """
        return try read { db in
            var limits: [String: Int64?] = [:]
            if case .day = grouping.base {
                for r in try Row.fetchAll(db, sql: "SELECT key, limit_micros FROM budget_window WHERE period = 'day'") { limits[r[0]] = r[1] as Int64? }
            } else if case .month = grouping.base {
                for r in try Row.fetchAll(db, sql: "SELECT key, limit_micros FROM budget_window WHERE period = 'month'") { limits[r[0]] = r[1] as Int64? }
            }
            // Grouped by a tag: each value's scope (`tag:KEY=VALUE`) and its limits in force, when configured.
            var tagScopes: [String: BudgetScope] = [:]
            if case .tag(let key) = grouping.base {
                let config = try ScopeConfig.load(db, configID: try LedgerState.read(db).configID ?? -1)
                for s in config.scopes where s.path.count == 1 {
                    if case .tag(let k, let v) = s.path[0], k == key { tagScopes[v] = s }
                }
            }
            var rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(groupArgs + whereArgs)).map { r -> AuditRow in
                let g: String = r[0] ?? "(none)"
                return AuditRow(
                    group: g, calls: r[1] ?? 0, spend: .init(micros: r[2]), criticalSpend: .init(micros: r[3]), inputTokens: r[4],
                    outputTokens: r[5], estimatedCalls: r[6] ?? 0, refused: r[7] ?? 0, released: r[8] ?? 0, expired: r[9] ?? 0,
                    openReservations: r[10] ?? 0, openReserved: .init(micros: r[11]), overBudgetCritical: r[12] ?? 0,
                    limit: (limits[g] ?? nil).map(MicroDollars.init(micros:)), expiredCharged: .init(micros: r[13]),
                    overReservation: r[14] ?? 0, usageSuspect: r[15] ?? 0, replyLost: r[16] ?? 0, settledAfterExpiry: r[17] ?? 0,
                    cachedInputTokens: r[18] ?? 0)
            }
            var cachedByGroup: [String: [String: Int]] = [:]
            for r in try Row.fetchAll(db, sql: cachedSQL, arguments: StatementArguments(groupArgs + whereArgs)) {
                let g: String = r[0] ?? "(none)", model: String = r[1] ?? ""
                cachedByGroup[g, default: [:]][model, default: 0] += r[2] ?? 0
            }
            for i in rows.indices { rows[i].cachedInputTokensByModel = cachedByGroup[rows[i].group] ?? [:] }
            for i in rows.indices {
                guard let s = tagScopes[rows[i].group] else { continue }
                rows[i].scope = s.name
                rows[i].scopeDailyLimit = s.daily
                rows[i].scopeMonthlyLimit = s.monthly
            }
            var t = AuditRow(
                group: "total", calls: 0, spend: .zero, criticalSpend: .zero, inputTokens: 0, outputTokens: 0, estimatedCalls: 0, refused: 0,
                released: 0, expired: 0, openReservations: 0, openReserved: .zero, overBudgetCritical: 0, limit: nil)
            for r in rows {
                t.expiredCharged = try LedgerStore.checkedSum(t.expiredCharged, r.expiredCharged)
                t.overReservation += r.overReservation
                t.usageSuspect += r.usageSuspect
                t.replyLost += r.replyLost
                t.settledAfterExpiry += r.settledAfterExpiry
                t.calls += r.calls
                t.spend = try LedgerStore.checkedSum(t.spend, r.spend)
                t.criticalSpend = try LedgerStore.checkedSum(t.criticalSpend, r.criticalSpend)
                t.inputTokens += r.inputTokens
                t.outputTokens += r.outputTokens
                t.estimatedCalls += r.estimatedCalls
                t.refused += r.refused
                t.released += r.released
                t.expired += r.expired
                t.openReservations += r.openReservations
                t.openReserved = try LedgerStore.checkedSum(t.openReserved, r.openReserved)
                t.overBudgetCritical += r.overBudgetCritical
                t.cachedInputTokens += r.cachedInputTokens
                t.cachedInputTokensByModel.merge(r.cachedInputTokensByModel, uniquingKeysWith: +)
            }
            let recorded = try LedgerQueries.recordedLimits(db)
            return AuditReport(grouping: grouping, rows: rows, totals: t, limits: recorded, breaches: try LedgerQueries.breaches(db))
        }
    }
}
