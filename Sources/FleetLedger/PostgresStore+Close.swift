import Foundation
import Logging
import ModelSelection
import PostgresNIO
import SpendLedger

extension PostgresStore {
    struct OpenEntry {
        var status: EntryStatus
        var estCost: Int64
        var critical: Bool
        var day: String
        var month: String
        var hash: String
        var flags: EntryFlags
        var estIn: Int64
        var estOut: Int64
        var scopes: [String]

        var windowKeys: [WKey] {
            var out = [WKey(scope: "", period: "day", key: day), WKey(scope: "", period: "month", key: month)]
            for s in scopes {
                out.append(WKey(scope: s, period: "day", key: day))
                out.append(WKey(scope: s, period: "month", key: month))
            }
            return out
        }
    }

    static func openEntry(_ c: PostgresConnection, _ id: Int64, _ logger: Logger) async throws -> OpenEntry? {
        let q: PostgresQuery = """
            SELECT status, est_cost, critical, day_key, month_key, hash, flags, est_input_tokens, est_output_tokens, scopes FROM entry WHERE id = \(id)
            """
        guard let r = try await PostgresStore.rows(c, q, logger).first else { return nil }
        let scopes = try text(r, 9)
        return OpenEntry(
            status: EntryStatus(rawValue: try text(r, 0)), estCost: try int(r, 1), critical: try int(r, 2) != 0, day: try text(r, 3),
            month: try text(r, 4), hash: try text(r, 5), flags: EntryFlags(rawValue: try int(r, 6)), estIn: try int(r, 7), estOut: try int(r, 8),
            scopes: scopes.isEmpty ? [] : scopes.split(separator: "\n").map(String.init))
    }

    static func entryWindows(_ c: PostgresConnection, _ e: OpenEntry, _ logger: Logger) async throws -> [WKey: WRow] {
        try await windows(c, day: e.day, month: e.month, scopes: e.scopes, logger)
    }

    /// Moves amounts between the reserved and settled totals of every window of the entry.
    static func adjust(_ rows: inout [WKey: WRow], _ e: OpenEntry, unreserve: Int64, settle: Int64) {
        for k in e.windowKeys {
            var w = rows[k] ?? WRow()
            w.reserved -= unreserve
            w.settled += settle
            if e.critical {
                w.criticalReserved -= unreserve
                w.criticalSettled += settle
            }
            rows[k] = w
        }
    }

    static func settle(_ c: PostgresConnection, _ id: Int64, _ s: Settlement, at date: Date, ledger: PostgresLedger) async throws -> SettlementReceipt {
        let logger = ledger.logger
        guard s.cost.rawValue >= 0, s.cost.rawValue <= LedgerStore.maxCallCost else {
            throw LedgerError(
                kind: .invalidAmount,
                message: "a cost of \(s.cost) cannot be settled on reservation \(id) (it must be between $0 and \(MicroDollars(micros: LedgerStore.maxCallCost)))")
        }
        guard s.inputTokens >= 0, s.outputTokens >= 0, (s.cachedInputTokens ?? 0) >= 0 else {
            throw LedgerError(kind: .invalidAmount, message: "negative token counts cannot be settled on reservation \(id)")
        }
        let st = try await state(c, lock: true, logger)
        guard let e = try await openEntry(c, id, logger) else { throw LedgerError(kind: .unknownReservation, message: "no reservation has id \(id)") }
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        let before = try await entryWindows(c, e, logger)
        var rows = before
        let cost = s.cost
        var flags = s.flags
        if cost.rawValue > e.estCost { flags.insert(.overReservation) }
        let growth: Int64
        if e.status == .expired {
            flags.insert(.settledAfterExpiry)
            let charged = e.flags.contains(.chargedAtExpiry) ? e.estCost : 0
            growth = cost.rawValue - charged
            adjust(&rows, e, unreserve: 0, settle: growth)
        } else {
            growth = cost.rawValue - e.estCost
            adjust(&rows, e, unreserve: e.estCost, settle: cost.rawValue)
        }
        let now = LedgerStore.micros(date)
        var alerts = AlertBatch(entryID: id, now: now)
        var overLimit = false
        if e.critical || growth > 0 {
            let config = try await scopeConfig(c, st, ledger: ledger)
            for k in e.windowKeys {
                let w = rows[k] ?? WRow()
                if e.critical, let limit = w.limit, w.settled > limit {
                    overLimit = true
                    alerts.fire(.criticalOverLimit, scope: k.scope, period: k.period, windowKey: k.key, ppm: 0, spent: w.settled, limit: limit, ledger: ledger)
                }
                if growth > 0 { alerts.checkThresholds(k, w, config: config, ledger: ledger) }
            }
        }
        if flags.contains(.overReservation) {
            alerts.fire(.overReservation, scope: "", period: "", windowKey: String(id), ppm: 0, spent: cost.rawValue, limit: e.estCost, ledger: ledger)
        }
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        let note = s.note ?? (flags.contains(.overReservation) ? "cost \(cost) passed the reserved estimate \(MicroDollars(micros: e.estCost))" : nil)
        let seal = LedgerStore.sealHash(
            hash: e.hash, status: .settled, actualIn: s.inputTokens, actualOut: s.outputTokens, cached: s.cachedInputTokens, actualCost: cost.rawValue,
            estimated: s.estimated, finishedAt: now, overLimit: overLimit, error: note, flags: flags.rawValue, chain: chain)
        var q = SQLBuilder()
        let v = [
            q.bind(now), q.bind(Int64(s.inputTokens)), q.bind(Int64(s.outputTokens)), q.bindOpt(s.cachedInputTokens.map(Int64.init)), q.bind(cost.rawValue),
            q.bind(Int64(s.estimated ? 1 : 0)), q.bind(Int64(overLimit ? 1 : 0)), q.bindOpt(note), q.bind(seal), q.bind(flags.rawValue), q.bind(id),
        ]
        q.add("""
            UPDATE entry SET status = 'settled', finished_at = \(v[0]), actual_input_tokens = \(v[1]), actual_output_tokens = \(v[2]),
                cached_input_tokens = \(v[3]), actual_cost = \(v[4]), usage_estimated = \(v[5]), over_limit = \(v[6]), error = \(v[7]), seal = \(v[8]),
                flags = \(v[9]) WHERE id = \(v[10])
            """)
        writeWindows(rows.filter { before[$0.key] != $0.value }, into: &q)
        alerts.write(into: &q)
        try await c.query(q.query, logger: logger)
        ledger.shared.alertsCommitted(alerts.keys)
        let day = rows[WKey(scope: "", period: "day", key: e.day)] ?? WRow()
        return SettlementReceipt(
            entryID: id, cost: cost, usageEstimated: s.estimated, overLimit: overLimit, flags: flags,
            daily: day.snapshot(key: e.day, limit: day.limit.map(MicroDollars.init(micros:))))
    }

    static func release(_ c: PostgresConnection, _ id: Int64, error: String?, at date: Date, ledger: PostgresLedger) async throws {
        let logger = ledger.logger
        _ = try await state(c, lock: true, logger)
        guard let e = try await openEntry(c, id, logger) else { throw LedgerError(kind: .unknownReservation, message: "no reservation has id \(id)") }
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        let before = try await entryWindows(c, e, logger)
        var rows = before
        if e.status == .reserved {
            adjust(&rows, e, unreserve: e.estCost, settle: 0)
        } else if e.flags.contains(.chargedAtExpiry) {
            adjust(&rows, e, unreserve: 0, settle: -e.estCost)
        }
        let now = LedgerStore.micros(date)
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        let seal = LedgerStore.sealHash(
            hash: e.hash, status: .released, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now,
            overLimit: false, error: error, flags: e.flags.rawValue, chain: chain)
        var q = SQLBuilder()
        let v = [q.bind(now), q.bindOpt(error), q.bind(seal), q.bind(id)]
        q.add("""
            UPDATE entry SET status = 'released', finished_at = \(v[0]), error = \(v[1]), seal = \(v[2]), actual_input_tokens = NULL,
                actual_output_tokens = NULL, actual_cost = NULL, usage_estimated = 0 WHERE id = \(v[3])
            """)
        writeWindows(rows.filter { before[$0.key] != $0.value }, into: &q)
        try await c.query(q.query, logger: logger)
    }

    /// Expires every reservation and lease past its time-to-live at `now`, inside the caller's transaction (which holds
    /// the state lock). Reservations are charged at their estimate; a lease's unaccounted part is charged as an
    /// expired entry appended to the chain (`head` moves).
    static func reclaim(_ c: PostgresConnection, now: Int64, head: inout (Int64, String), ledger: PostgresLedger) async throws -> Int {
        let logger = ledger.logger
        var n = 0
        let ids = try await PostgresStore.rows(c, "SELECT id FROM entry WHERE status = 'reserved' AND expires_at < \(now) ORDER BY id", logger).map { try int($0, 0) }
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        for id in ids {
            guard let e = try await openEntry(c, id, logger), e.status == .reserved else { continue }
            let before = try await entryWindows(c, e, logger)
            var rows = before
            adjust(&rows, e, unreserve: e.estCost, settle: e.estCost)
            let flags = e.flags.union(.chargedAtExpiry)
            let note = "reservation expired after its time-to-live (its process stopped or its settlement failed): charged at its estimate"
            let seal = LedgerStore.sealHash(
                hash: e.hash, status: .expired, actualIn: Int(e.estIn), actualOut: Int(e.estOut), cached: nil, actualCost: e.estCost, estimated: true,
                finishedAt: now, overLimit: false, error: note, flags: flags.rawValue, chain: chain)
            var q = SQLBuilder()
            let v = [q.bind(now), q.bind(e.estIn), q.bind(e.estOut), q.bind(e.estCost), q.bind(note), q.bind(seal), q.bind(flags.rawValue), q.bind(id)]
            q.add("""
                UPDATE entry SET status = 'expired', finished_at = \(v[0]), actual_input_tokens = \(v[1]), actual_output_tokens = \(v[2]),
                    actual_cost = \(v[3]), usage_estimated = 1, error = \(v[4]), seal = \(v[5]), flags = \(v[6]) WHERE id = \(v[7])
                """)
            writeWindows(rows.filter { before[$0.key] != $0.value }, into: &q)
            try await c.query(q.query, logger: logger)
            n += 1
        }
        n += try await reclaimLeases(c, now: now, head: &head, ledger: ledger)
        return n
    }
}
