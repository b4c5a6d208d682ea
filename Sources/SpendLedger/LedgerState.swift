import GRDB
import ModelSelection

/// The budget configuration in force, as the ledger itself records it (`ledger_state`), so that every process and
/// every command sharing a file enforces the same limits in the same zone.
///
/// Every reservation reads it (one cached single-row statement) inside its write transaction; a change by any
/// process applies to the next reservation of every other. History is kept apart: limit changes in `budget_config`
/// (each with its time, shown by the audit) and zone changes in `budget_zone`.
struct LedgerState: Sendable, Hashable {
    /// The `budget_config` row of the limits in force; `nil` before anything was recorded (a new ledger).
    var configID: Int64?
    /// The limits in force.
    var limits: BudgetLimits
    /// The zone the windows follow now (`nil` before anything was recorded).
    var zone: String?
    /// A zone change recorded to take effect at ``zoneFrom`` (the start of the next day in the old zone).
    var nextZone: String?
    /// When ``nextZone`` takes effect (µs since 1970).
    var zoneFrom: Int64?
    /// `sha256` or `hmac-sha256`.
    var chainMode: String
    /// A short HMAC of a fixed text under the chain key, to tell a wrong key at open.
    var chainKeyCheck: String?

    /// Whether nothing was recorded yet: the first open of a new ledger records its limits and fixes its zone.
    var isNew: Bool { configID == nil || zone == nil }

    /// The zone in force at `micros`.
    func zone(at micros: Int64) -> String {
        if let nextZone, let zoneFrom, micros >= zoneFrom { return nextZone }
        return zone ?? "UTC"
    }

    static func read(_ db: Database) throws -> LedgerState {
        let row = try SQLiteCall(
            db,
            "SELECT config_id, daily_limit, monthly_limit, time_zone, next_time_zone, time_zone_from, chain_mode, chain_key_check FROM ledger_state WHERE id = 1")
        guard try row.next() else { return LedgerState(limits: .unlimited, chainMode: "sha256") }
        defer { row.finish() }
        return LedgerState(
            configID: row.optionalInt64(0),
            limits: BudgetLimits(daily: row.optionalInt64(1).map(MicroDollars.init(micros:)), monthly: row.optionalInt64(2).map(MicroDollars.init(micros:))),
            zone: row.optionalText(3), nextZone: row.optionalText(4), zoneFrom: row.optionalInt64(5), chainMode: row.text(6),
            chainKeyCheck: row.optionalText(7))
    }

    /// Records new limits (with their scopes and alert thresholds), effective now, in the history and as the state
    /// in force.
    static func recordLimits(_ db: Database, _ limits: BudgetLimits, zone: String, at now: Int64) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO budget_config (effective_at, daily_limit, monthly_limit, time_zone) VALUES (?, ?, ?, ?)",
            arguments: [now, limits.daily?.rawValue, limits.monthly?.rawValue, zone])
        let id = db.lastInsertedRowID
        try ScopeConfig.record(db, configID: id, limits)
        try db.execute(
            sql: "UPDATE ledger_state SET config_id = ?, daily_limit = ?, monthly_limit = ? WHERE id = 1",
            arguments: [id, limits.daily?.rawValue, limits.monthly?.rawValue])
        return id
    }

    /// Fixes the zone of a new ledger.
    static func fixZone(_ db: Database, _ zone: String, at now: Int64) throws {
        try db.execute(sql: "UPDATE ledger_state SET time_zone = ?, next_time_zone = NULL, time_zone_from = NULL WHERE id = 1", arguments: [zone])
        try db.execute(
            sql: "INSERT INTO budget_zone (recorded_at, effective_at, time_zone) VALUES (?, ?, ?)", arguments: [now, Int64.min + 1, zone])
    }

    /// Records a zone change that takes effect at `from` (the start of the next window); a pending change that has
    /// already taken effect becomes the current zone first, and one that has not is replaced.
    static func scheduleZone(_ db: Database, _ zone: String, from: Int64, state: LedgerState, at now: Int64) throws {
        let current = state.zone(at: now)
        try db.execute(
            sql: "UPDATE ledger_state SET time_zone = ?, next_time_zone = ?, time_zone_from = ? WHERE id = 1", arguments: [current, zone, from])
        try db.execute(sql: "DELETE FROM budget_zone WHERE effective_at > ?", arguments: [now])
        try db.execute(sql: "INSERT INTO budget_zone (recorded_at, effective_at, time_zone) VALUES (?, ?, ?)", arguments: [now, from, zone])
    }
}
