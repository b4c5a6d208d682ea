public import Foundation
import GRDB
public import ModelSelection

/// Read queries over entries and windows.
enum LedgerQueries {
    static let entryColumns = """
        id, request_id, attempt, task_kind, tier, model, created_at, finished_at, day_key, month_key, est_input_tokens, est_output_tokens,
        est_cost, actual_input_tokens, actual_output_tokens, cached_input_tokens, actual_cost, status, critical, over_limit, usage_estimated,
        reason, tags, error, flags, config_id
        """

    static func entry(_ row: Row) -> LedgerEntry {
        LedgerEntry(
            id: row[0], requestID: row[1], attempt: row[2], taskKind: row[3], tier: Complexity(rawValue: row[4]) ?? .medium, model: row[5],
            createdAt: LedgerStore.date(row[6]), finishedAt: (row[7] as Int64?).map(LedgerStore.date), dayKey: row[8], monthKey: row[9],
            estimatedInputTokens: row[10], estimatedOutputTokens: row[11], estimatedCost: MicroDollars(micros: row[12]),
            actualInputTokens: row[13], actualOutputTokens: row[14], cachedInputTokens: row[15],
            actualCost: (row[16] as Int64?).map(MicroDollars.init(micros:)), status: EntryStatus(rawValue: row[17]), critical: row[18],
            overLimit: row[19], usageEstimated: row[20], flags: EntryFlags(rawValue: row[24]), reason: SelectionReason(rawValue: row[21]),
            tags: LedgerStore.decodeTags(row[22]), error: row[23], limitsID: row[25])
    }

    static func recordedLimits(_ db: Database) throws -> [RecordedLimits] {
        try Row.fetchAll(db, sql: "SELECT id, effective_at, daily_limit, monthly_limit, time_zone FROM budget_config ORDER BY id").map { r in
            let scopes = try ScopeConfig.load(db, configID: r[0])
            return RecordedLimits(
                id: r[0], effectiveAt: LedgerStore.date(r[1]),
                limits: BudgetLimits(
                    daily: (r[2] as Int64?).map(MicroDollars.init(micros:)), monthly: (r[3] as Int64?).map(MicroDollars.init(micros:)),
                    scopes: scopes.scopes, alerts: scopes.alerts),
                timeZone: r[4])
        }
    }

    /// Windows where non-critical spend passed the limit in force when it was reserved: one pass over the charged
    /// entries in id (reservation) order, with a running total per window.
    static func breaches(_ db: Database) throws -> [BudgetBreach] {
        let configs = try recordedLimits(db)
        let byID = Dictionary(configs.map { ($0.id, $0.limits) }, uniquingKeysWith: { a, _ in a })
        let nowState = try LedgerState.read(db)
        var now = nowState.limits
        if let id = nowState.configID { now = byID[id] ?? now }
        func limits(_ configID: Int64?, _ createdAt: Int64) -> BudgetLimits? {
            if let configID, let l = byID[configID] { return l }
            let at = LedgerStore.date(createdAt)
            return (configs.last { $0.effectiveAt <= at } ?? configs.first)?.limits
        }
        // In judging order: an entry at its own id, a leased call where its lease was granted (`judged_at`).
        var running: [String: Int64] = [:], overRes: [String: Int] = [:]
        var found: [BudgetBreach] = []
        var seen: Set<String> = []
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT id, day_key, month_key, critical, actual_cost, config_id, created_at, flags, scopes FROM entry
                WHERE status IN ('settled', 'expired') AND actual_cost IS NOT NULL ORDER BY COALESCE(judged_at, id), id
                """)
        while let r = try rows.next() {
            let cost: Int64 = r[4], critical: Bool = r[3], flags: Int64 = r[7]
            let l = critical ? nil : limits(r[5], r[6])
            // The global windows, then each scope's with the scope's limits in force at the reservation.
            var windows: [(scope: String?, period: String, key: String, limit: MicroDollars?)] = [
                (nil, "day", r[1], l?.daily), (nil, "month", r[2], l?.monthly),
            ]
            let scopes: String = r[8]
            for name in scopes.split(separator: "\n").map(String.init) {
                let s = l?.scope(named: name)
                windows.append((name, "day", r[1], s?.daily))
                windows.append((name, "month", r[2], s?.monthly))
            }
            for (scope, period, key, limit) in windows {
                let k = (scope.map { $0 + "|" } ?? "|") + period + "|" + key
                let (sum, o) = (running[k] ?? 0).addingReportingOverflow(cost)
                if o { throw LedgerError(kind: .invalidAmount, message: "the \(period) window \(key) sums past 64 bits") }
                running[k] = sum
                if flags & EntryFlags.overReservation.rawValue != 0 { overRes[k, default: 0] += 1 }
                if let limit, sum > limit.rawValue, !seen.contains(k) {
                    seen.insert(k)
                    found.append(
                        BudgetBreach(
                            period: period, key: key, entryID: r[0], charged: MicroDollars(micros: sum), limitThen: limit,
                            limitNow: scope.map { s in period == "day" ? now.scope(named: s)?.daily : now.scope(named: s)?.monthly }
                                ?? (period == "day" ? now.daily : now.monthly),
                            overReservations: overRes[k] ?? 0, scope: scope))
                }
            }
        }
        return found.sorted { ($0.scope ?? "", $0.period, $0.key) < ($1.scope ?? "", $1.period, $1.key) }
    }

    static func entry(_ db: Database, id: Int64) throws -> LedgerEntry? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(entryColumns) FROM entry WHERE id = ?"), arguments: [id]).map(entry)
    }
}

/// The running totals of one budget window, as stored.
public struct WindowTotals: Sendable, Hashable, Codable {
    /// `day` or `month`.
    public var period: String
    /// The window key.
    public var key: String
    /// The limit in force at the window's last reservation (`nil`: unlimited).
    public var limit: MicroDollars?
    /// Settled spend, critical included.
    public var settled: MicroDollars
    /// Open reservations.
    public var reserved: MicroDollars
    /// Settled critical spend.
    public var criticalSettled: MicroDollars
    /// Open critical reservations.
    public var criticalReserved: MicroDollars
    /// The scope's name, or `nil` for a window of the global budget.
    public var scope: String? = nil

    /// Settled non-critical spend.
    public var nonCriticalSettled: MicroDollars {
        MicroDollars(micros: settled.rawValue.subtractingReportingOverflow(criticalSettled.rawValue).partialValue)
    }
}

/// A limit configuration a ledger was opened with, and when.
public struct RecordedLimits: Sendable, Hashable, Codable {
    /// The record's id (entries name the one they were reserved under: ``LedgerEntry/limitsID``).
    public var id: Int64
    /// When these limits took effect.
    public var effectiveAt: Date
    /// The limits.
    public var limits: BudgetLimits
    /// The IANA zone of the windows.
    public var timeZone: String
}

extension SQLiteLedger {
    /// One entry by id.
    /// - Throws: ``LedgerError``.
    public func entry(id: Int64) throws -> LedgerEntry? { try read { db in try LedgerQueries.entry(db, id: id) } }

    /// Entries in id order, optionally only those with a status, from `afterID` on, at most `limit`.
    /// - Throws: ``LedgerError``.
    public func entries(status: EntryStatus? = nil, afterID: Int64 = 0, limit: Int = .max) throws -> [LedgerEntry] {
        try read { db in
            var sql = "SELECT \(LedgerQueries.entryColumns) FROM entry WHERE id > ?"
            var args: [any DatabaseValueConvertible] = [afterID]
            if let status {
                sql += " AND status = ?"
                args.append(status.rawValue)
            }
            sql += " ORDER BY id LIMIT ?"
            args.append(Int64(min(limit, Int(Int64.max))))
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(LedgerQueries.entry)
        }
    }

    /// The most recent refusals and downgrades (for budget or after a provider failure), newest first, at most `limit`:
    /// what a dashboard shows as recent decisions.
    /// - Throws: ``LedgerError``.
    public func recentDecisions(limit: Int = 50) throws -> [LedgerEntry] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(LedgerQueries.entryColumns) FROM entry WHERE status = ? OR reason IN (?, ?) ORDER BY id DESC LIMIT ?
                    """,
                arguments: [
                    EntryStatus.refused.rawValue, SelectionReason.downgradedForBudget.rawValue,
                    SelectionReason.downgradedForProviderFailure.rawValue, Int64(max(0, min(limit, 10_000))),
                ]
            ).map(LedgerQueries.entry)
        }
    }

    /// The stored totals of every window, days then months, in key order.
    /// - Throws: ``LedgerError``.
    public func windowTotals() throws -> [WindowTotals] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT period, key, limit_micros, settled, reserved, critical_settled, critical_reserved FROM budget_window ORDER BY period, key"
            ).map { r in
                WindowTotals(
                    period: r[0], key: r[1], limit: (r[2] as Int64?).map(MicroDollars.init(micros:)), settled: .init(micros: r[3]),
                    reserved: .init(micros: r[4]), criticalSettled: .init(micros: r[5]), criticalReserved: .init(micros: r[6]))
            }
        }
    }

    /// The stored totals of every scope's windows, by scope, then days then months, in key order.
    /// - Parameter scope: Only this scope's windows, or `nil` for every scope.
    /// - Throws: ``LedgerError``.
    public func scopeWindowTotals(scope: String? = nil) throws -> [WindowTotals] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT period, key, limit_micros, settled, reserved, critical_settled, critical_reserved, scope FROM scope_window
                    WHERE ?1 IS NULL OR scope = ?1 ORDER BY scope, period, key
                    """, arguments: [scope]
            ).map { r in
                WindowTotals(
                    period: r[0], key: r[1], limit: (r[2] as Int64?).map(MicroDollars.init(micros:)), settled: .init(micros: r[3]),
                    reserved: .init(micros: r[4]), criticalSettled: .init(micros: r[5]), criticalReserved: .init(micros: r[6]), scope: r[7])
            }
        }
    }

    /// Every limit configuration the ledger was opened with.
    /// - Throws: ``LedgerError``.
    public func recordedLimits() throws -> [RecordedLimits] { try read { db in try LedgerQueries.recordedLimits(db) } }

    /// Windows where non-critical spend passed the limit in force when it was reserved (judged per reservation, so a
    /// limit lowered later gives no false breach and one raised later hides none).
    /// - Throws: ``LedgerError``.
    public func breaches() throws -> [BudgetBreach] { try read { db in try LedgerQueries.breaches(db) } }

    /// Runs SQLite's `PRAGMA integrity_check`.
    /// - Returns: `ok`, or SQLite's list of problems.
    /// - Throws: ``LedgerError``.
    public func integrityCheck() throws -> String {
        try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "\n") }
    }
}
