public import Foundation
import Logging
import ModelSelection
import PostgresNIO
public import SpendLedger

extension PostgresLedger {
    /// Every row of the ledger, read in one REPEATABLE READ transaction (a consistent copy while hosts write).
    /// `ledger_state.open_floor` is computed (PostgreSQL finds open reservations by an index, not a floor).
    /// - Throws: ``SpendLedger/LedgerError``.
    public func dump() async throws -> LedgerDump {
        let logger = self.logger
        return try await readTransaction { c in
            var tables: [LedgerDump.Table] = []
            for spec in LedgerDump.tableSpecs {
                var columns = spec.columns.map(\.0)
                if spec.name == "ledger_state", let i = columns.firstIndex(of: "open_floor") {
                    columns[i] = "COALESCE((SELECT MIN(id) FROM entry WHERE status = 'reserved'), head_id + 1) AS open_floor"
                }
                let sql = "SELECT \(columns.joined(separator: ", ")) FROM \(spec.name) ORDER BY \(spec.orderBy)"
                var rows: [[LedgerDump.Value]] = []
                for r in try await PostgresStore.rows(c, PostgresQuery(unsafeSQL: sql), logger) {
                    rows.append(try spec.columns.enumerated().map { i, col in
                        switch col.1 {
                        case .int: return try PostgresStore.optInt(r, i).map { .int($0) } ?? .null
                        case .text: return try PostgresStore.optText(r, i).map { .text($0) } ?? .null
                        }
                    })
                }
                tables.append(LedgerDump.Table(name: spec.name, rows: rows))
            }
            return LedgerDump(tables: tables)
        }
    }

    /// Writes a dump (from ``SpendLedger/SQLiteLedger/dump()`` or another PostgreSQL ledger) into this ledger, which must
    /// hold no entry, in one transaction; the chain head follows the last entry.
    /// - Throws: ``SpendLedger/LedgerError`` (`invalid-configuration` when the ledger is not empty).
    public func load(_ dump: LedgerDump) async throws {
        let logger = self.logger
        try await write { c in
            let st = try await PostgresStore.state(c, lock: true, logger)
            let used = try await PostgresStore.rows(c, "SELECT 1 FROM entry LIMIT 1", logger)
            let leases = try await PostgresStore.rows(c, "SELECT 1 FROM budget_lease LIMIT 1", logger)
            guard st.headID == 0, used.isEmpty, leases.isEmpty else {
                throw LedgerError(kind: .invalidConfiguration, message: "the target ledger already holds entries: copy into a new, empty database")
            }
            for spec in LedgerDump.tableSpecs.reversed() { try await c.query(PostgresQuery(unsafeSQL: "DELETE FROM \(spec.name)"), logger: logger) }
            for spec in LedgerDump.tableSpecs {
                let rows = dump.rows(of: spec.name)
                let width = spec.columns.count
                var start = 0
                while start < rows.count {
                    let chunk = rows[start..<min(rows.count, start + max(1, 16_000 / width))]
                    var binds = PostgresBindings()
                    var tuples: [String] = []
                    for row in chunk {
                        guard row.count == width else {
                            throw LedgerError(kind: .invalidConfiguration, message: "a \(spec.name) row has \(row.count) values, not \(width)")
                        }
                        var marks: [String] = []
                        for (v, col) in zip(row, spec.columns) {
                            switch (v, col.1) {
                            case (.int(let i), .int): binds.append(i)
                            case (.int(let i), .text): binds.append(String(i))
                            case (.text(let s), .text): binds.append(s)
                            case (.text(let s), .int):
                                guard let i = Int64(s) else {
                                    throw LedgerError(kind: .invalidConfiguration, message: "\(spec.name).\(col.0) holds '\(s.prefix(40))', not an integer")
                                }
                                binds.append(i)
                            case (.null, _): binds.appendNull()
                            }
                            marks.append("$\(binds.count)")
                        }
                        tuples.append("(\(marks.joined(separator: ", ")))")
                    }
                    let sql = "INSERT INTO \(spec.name) (\(spec.columnNames)) VALUES \(tuples.joined(separator: ", "))"
                    try await c.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                    start += chunk.count
                }
            }
            try await c.query(
                """
                UPDATE ledger_state SET head_id = COALESCE((SELECT MAX(id) FROM entry), 0),
                    head_hash = COALESCE((SELECT hash FROM entry ORDER BY id DESC LIMIT 1), \(String(repeating: "0", count: 64))) WHERE id = 1
                """, logger: logger)
            try await c.query("SELECT setval('budget_alert_id_seq', GREATEST(COALESCE((SELECT MAX(id) FROM budget_alert), 0), 1))", logger: logger)
        }
    }

    /// A read-only in-memory SQLite copy of the ledger, for the reports both backends share (audit, forecast,
    /// alerts, entries).
    public func reportingCopy() async throws -> SQLiteLedger {
        try SQLiteLedger.inMemory(holding: try await dump(), chainKey: configuration.chainKey)
    }

    /// Checks the hash chain and that window totals equal their entries (as ``SpendLedger/SQLiteLedger/verify()``, on a
    /// consistent copy), then what only this backend has: the chain head is the last entry, and every window's leased
    /// total equals the room of its open leases.
    public func verify() async throws -> VerificationReport {
        let copy = try await reportingCopy()
        var report = try copy.verify()
        guard report.isIntact else { return report }
        let logger = self.logger
        let problem: VerificationReport.Problem? = try await readTransaction { c in
            let st = try await PostgresStore.state(c, lock: false, logger)
            let last = try await PostgresStore.rows(c, "SELECT id, hash FROM entry ORDER BY id DESC LIMIT 1", logger).first
            let lastID = try last.map { try PostgresStore.int($0, 0) } ?? 0
            let lastHash = try last.map { try PostgresStore.text($0, 1) } ?? String(repeating: "0", count: 64)
            if st.headID != lastID || st.headHash != lastHash {
                return .init(kind: .insertedOrDeleted, entryID: lastID, detail: "the chain head (\(st.headID)) is not the last entry (\(lastID))")
            }
            let open = try await PostgresStore.leases(
                c, PostgresQuery(unsafeSQL: "SELECT \(PostgresStore.leaseColumns) FROM budget_lease WHERE status = 'open'"), logger)
            var held: [WKey: Int64] = [:]
            for l in open { for k in l.windowKeys { held[k, default: 0] += l.room } }
            let sql = """
                SELECT '' AS scope, period, key, leased FROM budget_window UNION ALL SELECT scope, period, key, leased FROM scope_window
                """
            var seen: Set<WKey> = []
            for r in try await PostgresStore.rows(c, PostgresQuery(unsafeSQL: sql), logger) {
                let k = WKey(scope: try PostgresStore.text(r, 0), period: try PostgresStore.text(r, 1), key: try PostgresStore.text(r, 2))
                seen.insert(k)
                let leased = try PostgresStore.int(r, 3)
                if leased != held[k] ?? 0 {
                    return .init(
                        kind: .totalsMismatch, entryID: nil,
                        detail: "\(k.scope.isEmpty ? "" : "scope \(k.scope) ")\(k.period) \(k.key): leased \(MicroDollars(micros: leased)), open leases hold \(MicroDollars(micros: held[k] ?? 0))")
                }
            }
            if let k = held.keys.filter({ !seen.contains($0) && held[$0] != 0 }).sorted().first {
                return .init(kind: .totalsMismatch, entryID: nil, detail: "\(k.period) \(k.key): open leases hold room in a window with no totals row")
            }
            return nil
        }
        report.firstProblem = problem
        return report
    }
}
