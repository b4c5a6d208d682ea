import Foundation
import Logging
import ModelSelection
import PostgresNIO
import SpendLedger

/// The ledger state row, read under its lock by every write: the limits and zone in force and the chain head.
struct PGState: Sendable, Hashable {
    var configID: Int64?
    var daily: Int64?
    var monthly: Int64?
    var zone: String?
    var nextZone: String?
    var zoneFrom: Int64?
    var chainMode: String
    var chainKeyCheck: String?
    var headID: Int64
    var headHash: String

    var limits: BudgetLimits {
        BudgetLimits(daily: daily.map(MicroDollars.init(micros:)), monthly: monthly.map(MicroDollars.init(micros:)))
    }
    var isNew: Bool { configID == nil || zone == nil }

    func zone(at micros: Int64) -> String {
        if let nextZone, let zoneFrom, micros >= zoneFrom { return nextZone }
        return zone ?? "UTC"
    }
}

/// A window's key: the global budget's (`scope` empty, `budget_window`) or a scope's (`scope_window`).
struct WKey: Hashable, Sendable, Comparable {
    var scope: String
    var period: String
    var key: String
    static func < (a: WKey, b: WKey) -> Bool { (a.scope, a.period, a.key) < (b.scope, b.period, b.key) }
}

/// A window's running totals. `leased` is held by open budget leases: settled + reserved + leased ≤ limit.
struct WRow: Sendable, Hashable {
    var limit: Int64?
    var settled: Int64 = 0
    var reserved: Int64 = 0
    var criticalSettled: Int64 = 0
    var criticalReserved: Int64 = 0
    var leased: Int64 = 0

    /// The window as the selector sees it: leased room counts as reserved (another host holds it).
    func snapshot(key: String, limit: MicroDollars?) -> BudgetSnapshot.Window {
        BudgetSnapshot.Window(
            key: key, limit: limit, settled: .init(micros: settled), reserved: .init(micros: reserved &+ leased), criticalSettled: .init(micros: criticalSettled))
    }
}

/// SQL with its parameters, built piece by piece (`$n` placeholders).
struct SQLBuilder {
    var sql = ""
    var binds = PostgresBindings()
    private var ctes: [String] = []

    /// A placeholder for `value`.
    mutating func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bindOpt(_ value: String?) -> String {
        if let value { binds.append(value) } else { binds.appendNull() }
        return "$\(binds.count)"
    }

    mutating func bindOpt(_ value: Int64?) -> String {
        if let value { binds.append(value) } else { binds.appendNull() }
        return "$\(binds.count)"
    }

    /// Adds a data-modifying statement, run with the others in one round trip.
    mutating func add(_ statement: String) { ctes.append(statement) }

    var isEmpty: Bool { ctes.isEmpty }

    /// The statements as one: `WITH s1 AS (…), s2 AS (…) SELECT 1`.
    var query: PostgresQuery {
        let body = ctes.enumerated().map { "s\($0.offset) AS (\($0.element))" }.joined(separator: ", ")
        return PostgresQuery(unsafeSQL: "WITH \(body) SELECT 1", binds: binds)
    }
}

/// The ledger's operations inside one open transaction on one connection.
enum PostgresStore {
    static func int(_ r: PostgresRandomAccessRow, _ i: Int) throws -> Int64 { try r[i].decode(Int64.self) }
    static func optInt(_ r: PostgresRandomAccessRow, _ i: Int) throws -> Int64? { try r[i].decode(Int64?.self) }
    static func text(_ r: PostgresRandomAccessRow, _ i: Int) throws -> String { try r[i].decode(String.self) }
    static func optText(_ r: PostgresRandomAccessRow, _ i: Int) throws -> String? { try r[i].decode(String?.self) }

    /// All rows of a query, random-access.
    static func rows(_ c: PostgresConnection, _ q: PostgresQuery, _ logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var out: [PostgresRandomAccessRow] = []
        for try await row in try await c.query(q, logger: logger) { out.append(row.makeRandomAccess()) }
        return out
    }

    /// Reads the state row; `lock` takes its row lock, which every write holds to its commit (so writes are serialized:
    /// the chain head and the totals they check cannot move under them).
    static func state(_ c: PostgresConnection, lock: Bool, _ logger: Logger) async throws -> PGState {
        let sql = """
            SELECT config_id, daily_limit, monthly_limit, time_zone, next_time_zone, time_zone_from, chain_mode, chain_key_check, head_id, head_hash
            FROM ledger_state WHERE id = 1
            """ + (lock ? " FOR UPDATE" : "")
        guard let r = try await rows(c, PostgresQuery(unsafeSQL: sql), logger).first else {
            throw LedgerError(kind: .notALedger, message: "the database has no ledger_state row: it is not a BATS ledger")
        }
        return PGState(
            configID: try optInt(r, 0), daily: try optInt(r, 1), monthly: try optInt(r, 2), zone: try optText(r, 3), nextZone: try optText(r, 4),
            zoneFrom: try optInt(r, 5), chainMode: try text(r, 6), chainKeyCheck: try optText(r, 7), headID: try int(r, 8), headHash: try text(r, 9))
    }

    /// The totals of the global day and month windows and of `scopes`' (missing rows are zero).
    static func windows(_ c: PostgresConnection, day: String, month: String, scopes: [String], _ logger: Logger) async throws -> [WKey: WRow] {
        var q = SQLBuilder()
        let d = q.bind(day), m = q.bind(month)
        var sql = """
            SELECT '' AS scope, period, key, limit_micros, settled, reserved, critical_settled, critical_reserved, leased FROM budget_window
            WHERE (period = 'day' AND key = \(d)) OR (period = 'month' AND key = \(m))
            """
        if !scopes.isEmpty {
            let s = q.bind(scopes)
            sql += """
                 UNION ALL SELECT scope, period, key, limit_micros, settled, reserved, critical_settled, critical_reserved, leased FROM scope_window
                WHERE scope = ANY(\(s)) AND ((period = 'day' AND key = \(d)) OR (period = 'month' AND key = \(m)))
                """
        }
        var out: [WKey: WRow] = [:]
        for r in try await rows(c, PostgresQuery(unsafeSQL: sql, binds: q.binds), logger) {
            out[WKey(scope: try text(r, 0), period: try text(r, 1), key: try text(r, 2))] = WRow(
                limit: try optInt(r, 3), settled: try int(r, 4), reserved: try int(r, 5), criticalSettled: try int(r, 6), criticalReserved: try int(r, 7),
                leased: try int(r, 8))
        }
        return out
    }

    /// Writes windows' totals as they now are (the state lock makes read-modify-write exact).
    static func writeWindows(_ changed: [WKey: WRow], into q: inout SQLBuilder) {
        let global = changed.filter { $0.key.scope.isEmpty }.sorted { $0.key < $1.key }
        let scoped = changed.filter { !$0.key.scope.isEmpty }.sorted { $0.key < $1.key }
        func arrays(_ rows: [(key: WKey, value: WRow)], _ q: inout SQLBuilder) -> String {
            let l = q.bind(rows.map { $0.value.limit.map(String.init) ?? "" })
            let s = q.bind(rows.map(\.value.settled)), r = q.bind(rows.map(\.value.reserved))
            let cs = q.bind(rows.map(\.value.criticalSettled)), cr = q.bind(rows.map(\.value.criticalReserved)), le = q.bind(rows.map(\.value.leased))
            return "NULLIF(l, '')::bigint, s, r, cs, cr, le FROM unnest(\(l)::text[], \(s)::bigint[], \(r)::bigint[], \(cs)::bigint[], \(cr)::bigint[], \(le)::bigint[])"
                + " WITH ORDINALITY AS t(l, s, r, cs, cr, le, n)"
        }
        let set = """
            limit_micros = EXCLUDED.limit_micros, settled = EXCLUDED.settled, reserved = EXCLUDED.reserved,
            critical_settled = EXCLUDED.critical_settled, critical_reserved = EXCLUDED.critical_reserved, leased = EXCLUDED.leased
            """
        if !global.isEmpty {
            let p = q.bind(global.map(\.key.period)), k = q.bind(global.map(\.key.key))
            let tail = arrays(global, &q)
            q.add("""
                INSERT INTO budget_window (period, key, limit_micros, settled, reserved, critical_settled, critical_reserved, leased)
                SELECT (\(p)::text[])[n], (\(k)::text[])[n], \(tail) ON CONFLICT (period, key) DO UPDATE SET \(set)
                """)
        }
        if !scoped.isEmpty {
            let sc = q.bind(scoped.map(\.key.scope)), p = q.bind(scoped.map(\.key.period)), k = q.bind(scoped.map(\.key.key))
            let tail = arrays(scoped, &q)
            q.add("""
                INSERT INTO scope_window (scope, period, key, limit_micros, settled, reserved, critical_settled, critical_reserved, leased)
                SELECT (\(sc)::text[])[n], (\(p)::text[])[n], (\(k)::text[])[n], \(tail) ON CONFLICT (scope, period, key) DO UPDATE SET \(set)
                """)
        }
    }

    /// Moves the chain head.
    static func writeHead(_ id: Int64, _ hash: String, into q: inout SQLBuilder) {
        let i = q.bind(id), h = q.bind(hash)
        q.add("UPDATE ledger_state SET head_id = \(i), head_hash = \(h) WHERE id = 1")
    }

    /// The scopes and thresholds of a recorded configuration.
    static func loadScopeConfig(_ c: PostgresConnection, _ id: Int64?, _ logger: Logger) async throws -> ScopeConfig {
        guard let id else { return .none }
        let alerts = try await rows(c, "SELECT alerts FROM budget_config WHERE id = \(id)", logger).first.map { try text($0, 0) } ?? ""
        var scopes: [BudgetScope] = []
        for r in try await rows(c, "SELECT scope, daily_limit, monthly_limit, alerts FROM budget_scope WHERE config_id = \(id) ORDER BY scope", logger) {
            let path = (try? BudgetScope(name: try text(r, 0)).path) ?? []
            scopes.append(BudgetScope(
                path, daily: try optInt(r, 1).map(MicroDollars.init(micros:)), monthly: try optInt(r, 2).map(MicroDollars.init(micros:)),
                alerts: ScopeConfig.decode(try text(r, 3))))
        }
        return ScopeConfig(scopes: scopes.filter { !$0.path.isEmpty }, alerts: ScopeConfig.decode(alerts))
    }
}
