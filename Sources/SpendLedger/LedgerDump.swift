public import Foundation
import GRDB

/// Every row of a ledger, table by table, in a form both backends read and write: what `bats ledger copy` moves,
/// and what the reports of a PostgreSQL ledger read from (an in-memory SQLite copy).
///
/// The tables and columns are those of the SQLite schema (``SQLiteLedger``'s migrations through v4); the PostgreSQL
/// ledger keeps the same tables with the same columns, plus its own (leases, the chain head), which a copy leaves out.
public struct LedgerDump: Sendable, Hashable {
    /// One stored value.
    public enum Value: Sendable, Hashable {
        /// An integer (SQLite INTEGER, PostgreSQL BIGINT).
        case int(Int64)
        /// A text.
        case text(String)
        /// SQL NULL.
        case null
    }

    /// One table's rows, with its columns in ``Table/spec`` order.
    public struct Table: Sendable, Hashable {
        /// The table's name.
        public var name: String
        /// The rows, each with one value per column of the table's spec.
        public var rows: [[Value]]
        /// Creates a table.
        public init(name: String, rows: [[Value]]) {
            self.name = name
            self.rows = rows
        }
    }

    /// The tables, in ``tableSpecs`` order.
    public var tables: [Table]

    /// Creates a dump.
    public init(tables: [Table]) { self.tables = tables }

    /// Whether a column holds an integer or a text.
    public enum ColumnType: Sendable, Hashable { case int, text }

    /// A table's name, columns (with their types) and the order its rows are read in.
    public struct TableSpec: Sendable, Hashable {
        /// The table.
        public var name: String
        /// The columns, in order.
        public var columns: [(String, ColumnType)] { columnList }
        let columnList: [(String, ColumnType)]
        /// `ORDER BY` of an export, so copies are deterministic.
        public var orderBy: String
        public static func == (a: TableSpec, b: TableSpec) -> Bool { a.name == b.name }
        public func hash(into h: inout Hasher) { h.combine(name) }
        /// The column names joined by commas.
        public var columnNames: String { columnList.map(\.0).joined(separator: ", ") }
    }

    /// The ledger's tables (every one a copy moves).
    public static let tableSpecs: [TableSpec] = {
        func t(_ name: String, _ cols: String, order: String) -> TableSpec {
            let list = cols.split(separator: ",").map { part -> (String, ColumnType) in
                let p = part.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
                return (String(p[0]), p.count > 1 && p[1] == "t" ? .text : .int)
            }
            return TableSpec(name: name, columnList: list, orderBy: order)
        }
        return [
            t("ledger_state", """
                id, open_floor, config_id, daily_limit, monthly_limit, time_zone t, next_time_zone t, time_zone_from, chain_mode t, chain_key_check t
                """, order: "id"),
            t("budget_config", "id, effective_at, daily_limit, monthly_limit, time_zone t, alerts t", order: "id"),
            t("budget_scope", "config_id, scope t, daily_limit, monthly_limit, alerts t", order: "config_id, scope"),
            t("budget_zone", "id, recorded_at, effective_at, time_zone t", order: "id"),
            t("entry", """
                id, request_id t, attempt, task_kind t, tier t, model t, created_at, finished_at, expires_at, day_key t, month_key t,
                est_input_tokens, est_output_tokens, est_cost, actual_input_tokens, actual_output_tokens, cached_input_tokens, actual_cost,
                status t, critical, over_limit, usage_estimated, reason t, tags t, error t, prev_hash t, hash t, seal t, flags, config_id,
                scopes t, caller_key t, bound_by t, judged_at
                """, order: "id"),
            t("budget_window", "period t, key t, limit_micros, settled, reserved, critical_settled, critical_reserved", order: "period, key"),
            t("scope_window", "scope t, period t, key t, limit_micros, settled, reserved, critical_settled, critical_reserved", order: "scope, period, key"),
            t("budget_alert", """
                id, kind t, scope t, period t, window_key t, threshold_ppm, fired_at, entry_id, spent, limit_micros, delivered_at, attempts,
                next_attempt_at, claimed_until, last_error t
                """, order: "id"),
        ]
    }()

    /// The rows of table `name` (empty when absent).
    public func rows(of name: String) -> [[Value]] { tables.first { $0.name == name }?.rows ?? [] }

    /// How many entries the dump holds.
    public var entryCount: Int { rows(of: "entry").count }
}

extension LedgerDump.Value {
    /// The value for GRDB.
    var databaseValue: DatabaseValue {
        switch self {
        case .int(let v): v.databaseValue
        case .text(let s): s.databaseValue
        case .null: .null
        }
    }

    init(_ v: DatabaseValue, _ type: LedgerDump.ColumnType) {
        switch v.storage {
        case .null: self = .null
        case .int64(let i): self = type == .text ? .text(String(i)) : .int(i)
        case .double(let d): self = .int(Int64(exactly: d.rounded()) ?? 0)
        case .string(let s): self = type == .int ? (Int64(s).map { .int($0) } ?? .text(s)) : .text(s)
        case .blob(let b): self = .text(String(decoding: b, as: UTF8.self))
        }
    }
}

extension SQLiteLedger {
    /// Every row of the ledger, read in one transaction.
    /// - Throws: ``LedgerError``.
    public func dump() throws -> LedgerDump {
        try read { db in
            LedgerDump(tables: try LedgerDump.tableSpecs.map { spec in
                let rows = try Row.fetchAll(db, sql: "SELECT \(spec.columnNames) FROM \(spec.name) ORDER BY \(spec.orderBy)").map { row in
                    spec.columns.enumerated().map { i, c in LedgerDump.Value(row[i] as DatabaseValue, c.1) }
                }
                return LedgerDump.Table(name: spec.name, rows: rows)
            })
        }
    }

    /// Writes a dump into this ledger, which must hold no entry yet (a new file): its state, limits history, entries,
    /// window totals and alerts become the dump's, in one transaction. Caches of this value are stale afterwards:
    /// open the file again to use it.
    /// - Throws: ``LedgerError`` (`invalidConfiguration` when the ledger is not empty).
    public func load(_ dump: LedgerDump) throws {
        try write { db in try Self.load(dump, into: db, path: path) }
    }

    static func load(_ dump: LedgerDump, into db: Database, path: String?) throws {
        let used = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM entry LIMIT 1)") ?? 0
        if used > 0 {
            throw LedgerError(kind: .invalidConfiguration, path: path, message: "the target ledger already holds entries: copy into a new ledger")
        }
        for spec in LedgerDump.tableSpecs {
            try db.execute(sql: "DELETE FROM \(spec.name)")
            let marks = Array(repeating: "?", count: spec.columns.count).joined(separator: ", ")
            let insert = try db.makeStatement(sql: "INSERT INTO \(spec.name) (\(spec.columnNames)) VALUES (\(marks))")
            for row in dump.rows(of: spec.name) {
                guard row.count == spec.columns.count else {
                    throw LedgerError(kind: .invalidConfiguration, path: path, message: "a \(spec.name) row has \(row.count) values, not \(spec.columns.count)")
                }
                try insert.execute(arguments: StatementArguments(row.map(\.databaseValue)))
            }
        }
    }

    /// A read-only ledger in memory holding `dump`: the reports of a PostgreSQL ledger (audit, verify, forecast)
    /// run on it, so both backends report through one code path. Nothing is reclaimed or recorded.
    /// - Parameters:
    ///   - dump: The rows (``dump()`` or ``LedgerDump`` from another backend).
    ///   - chainKey: The chain key, for a keyed ledger's ``verify()``.
    /// - Throws: ``LedgerError``.
    public static func inMemory(holding dump: LedgerDump, chainKey: LedgerChainKey? = nil) throws -> SQLiteLedger {
        let loader = try inMemory(configuration: .init(recordsLimits: false, checksIntegrityAtOpen: false))
        try loader.write { db in try load(dump, into: db, path: nil) }
        return try loader.reopenedReadOnly(chainKey: chainKey)
    }
}
