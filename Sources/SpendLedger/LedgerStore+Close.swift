import Foundation
import GRDB
import ModelSelection

extension LedgerStore {
    // MARK: - Settle, release, expire

    struct OpenEntry {
        var status: EntryStatus
        var estCost: Int64
        var estIn: Int
        var estOut: Int
        var critical: Bool
        var day: String
        var month: String
        var hash: String
        var flags: EntryFlags
        /// The scopes the entry counts in (recorded at reservation).
        var scopes: [String] = []
    }

    static func openEntry(_ db: Database, _ id: Int64, cache: inout LedgerBatchCache) throws -> OpenEntry {
        if let e = cache.takeOpen(id) { return e }
        guard let e = try readEntry(db, id) else { throw LedgerError(kind: .unknownReservation, message: "no reservation has id \(id)") }
        return e
    }

    static func readEntry(_ db: Database, _ id: Int64) throws -> OpenEntry? {
        let row = try SQLiteCall(
            db,
            "SELECT status, est_cost, critical, day_key, month_key, hash, flags, est_input_tokens, est_output_tokens, scopes FROM entry WHERE id = ?")
        row.bind(1, id)
        guard try row.next() else { return nil }
        defer { row.finish() }
        let scopes = row.text(9)
        return OpenEntry(
            status: EntryStatus(rawValue: row.text(0)), estCost: row.int64(1), estIn: Int(row.int64(7)), estOut: Int(row.int64(8)),
            critical: row.bool(2), day: row.text(3), month: row.text(4), hash: row.text(5), flags: EntryFlags(rawValue: row.int64(6)),
            scopes: scopes.isEmpty ? [] : scopes.split(separator: "\n").map(String.init))
    }

    /// The entry's windows: the global day and month, then each scope's.
    static func windows(of e: OpenEntry) -> [LedgerBatchCache.WindowKey] {
        var out = [LedgerBatchCache.WindowKey(period: "day", key: e.day), .init(period: "month", key: e.month)]
        for s in e.scopes {
            out.append(.init(scope: s, period: "day", key: e.day))
            out.append(.init(scope: s, period: "month", key: e.month))
        }
        return out
    }

    /// Moves amounts between the reserved and settled totals of every window the entry counts in.
    static func adjustWindows(_ db: Database, _ e: OpenEntry, unreserve: Int64, settle: Int64, cache: inout LedgerBatchCache) throws {
        for k in windows(of: e) {
            try cache.change(db, scope: k.scope, period: k.period, key: k.key) { w in
                w.reserved -= unreserve
                w.settled += settle
                if e.critical {
                    w.criticalReserved -= unreserve
                    w.criticalSettled += settle
                }
            }
        }
    }

    /// Settles a reservation: its estimate leaves the reserved totals and its cost joins the settled ones. An expired
    /// entry was already charged its estimate: the actual cost replaces it, once (``EntryFlags/settledAfterExpiry``).
    /// A cost above the reserved estimate is recorded as billed and flagged ``EntryFlags/overReservation``.
    static func settle(
        _ db: Database, _ id: Int64, _ s: Settlement, at date: Date, cache: inout LedgerBatchCache, context: Context
    ) throws -> SettlementReceipt {
        let chain = context.chain
        guard s.cost.rawValue >= 0, s.cost.rawValue <= maxCallCost else {
            throw LedgerError(
                kind: .invalidAmount,
                message: "a cost of \(s.cost) cannot be settled on reservation \(id) (it must be between $0 and \(MicroDollars(micros: maxCallCost)))")
        }
        guard s.inputTokens >= 0, s.outputTokens >= 0, (s.cachedInputTokens ?? 0) >= 0 else {
            throw LedgerError(kind: .invalidAmount, message: "negative token counts cannot be settled on reservation \(id)")
        }
        let e = try openEntry(db, id, cache: &cache)
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        let cost = s.cost
        var flags = s.flags
        if cost.rawValue > e.estCost { flags.insert(.overReservation) }
        // What the windows' committed spend (settled + reserved) grows by: only a cost above what was held.
        let growth: Int64
        if e.status == .expired {
            flags.insert(.settledAfterExpiry)
            // v3 expiries charged the estimate; older ones (v2) freed it.
            let charged = e.flags.contains(.chargedAtExpiry) ? e.estCost : 0
            growth = cost.rawValue - charged
            try adjustWindows(db, e, unreserve: 0, settle: growth, cache: &cache)
        } else {
            growth = cost.rawValue - e.estCost
            try adjustWindows(db, e, unreserve: e.estCost, settle: cost.rawValue, cache: &cache)
        }
        let now = micros(date)
        var overLimit = false
        if e.critical || growth > 0 {
            let config = try scopeConfig(db, context, cache: &cache)
            for k in windows(of: e) {
                let w = try cache.window(db, scope: k.scope, period: k.period, key: k.key)
                if e.critical, let limit = w.limit, w.settled > limit {
                    overLimit = true
                    try fire(
                        db, AlertKey(kind: .criticalOverLimit, scope: k.scope, period: k.period, windowKey: k.key, partsPerMillion: 0),
                        spent: w.settled, limit: limit, entryID: id, now: now, context: context, cache: &cache)
                }
                if growth > 0 {
                    try checkThresholds(db, k, w, config: config, entryID: id, now: now, context: context, cache: &cache)
                }
            }
        }
        if flags.contains(.overReservation) {
            try fire(
                db, AlertKey(kind: .overReservation, scope: "", period: "", windowKey: String(id), partsPerMillion: 0),
                spent: cost.rawValue, limit: e.estCost, entryID: id, now: now, context: context, cache: &cache)
        }
        let note = s.note ?? (flags.contains(.overReservation) ? "cost \(cost) passed the reserved estimate \(MicroDollars(micros: e.estCost))" : nil)
        let seal = sealHash(
            hash: e.hash, status: .settled, actualIn: s.inputTokens, actualOut: s.outputTokens, cached: s.cachedInputTokens,
            actualCost: cost.rawValue, estimated: s.estimated, finishedAt: now, overLimit: overLimit, error: note, flags: flags.rawValue, chain: chain)
        let update = try SQLiteCall(
            db,
            """
            UPDATE entry SET status = 'settled', finished_at = ?, actual_input_tokens = ?, actual_output_tokens = ?, cached_input_tokens = ?,
                actual_cost = ?, usage_estimated = ?, over_limit = ?, error = ?, seal = ?, flags = ? WHERE id = ?
            """)
        update.bind(1, now)
        update.bind(2, s.inputTokens)
        update.bind(3, s.outputTokens)
        update.bind(4, s.cachedInputTokens)
        update.bind(5, cost.rawValue)
        update.bind(6, s.estimated)
        update.bind(7, overLimit)
        update.bind(8, note)
        update.bind(9, seal)
        update.bind(10, flags.rawValue)
        update.bind(11, id)
        try update.run()
        var receipt = SettlementReceipt(entryID: id, cost: cost, usageEstimated: s.estimated, overLimit: overLimit, flags: flags)
        receipt.daily = snapshotWindow(try cache.window(db, period: "day", key: e.day), key: e.day, limit: nil)
        return receipt
    }

    static func release(_ db: Database, _ id: Int64, error: String?, at date: Date, cache: inout LedgerBatchCache, chain: ChainHasher) throws {
        let e = try openEntry(db, id, cache: &cache)
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        if e.status == .reserved {
            try adjustWindows(db, e, unreserve: e.estCost, settle: 0, cache: &cache)
        } else if e.flags.contains(.chargedAtExpiry) {
            // The call is known to have cost nothing after all: the estimate charged at expiry is refunded.
            try adjustWindows(db, e, unreserve: 0, settle: -e.estCost, cache: &cache)
        }
        try close(db, id, e, as: .released, error: error, now: micros(date), chain: chain)
    }

    /// Expires one reservation if it is still open: it is charged at its estimate (moved from the reserved to the
    /// settled totals), marked estimated and ``EntryFlags/chargedAtExpiry``. Its call may have been answered and billed,
    /// so the room is never freed; a late settlement or release corrects it.
    /// - Returns: Whether it was open.
    static func expire(_ db: Database, _ id: Int64, now: Int64, cache: inout LedgerBatchCache, chain: ChainHasher) throws -> Bool {
        cache.setOpen(id, nil)
        guard let e = try readEntry(db, id), e.status == .reserved else { return false }
        try adjustWindows(db, e, unreserve: e.estCost, settle: e.estCost, cache: &cache)
        let flags = e.flags.union(.chargedAtExpiry)
        let note = "reservation expired after its time-to-live (its process stopped or its settlement failed): charged at its estimate"
        let seal = sealHash(
            hash: e.hash, status: .expired, actualIn: e.estIn, actualOut: e.estOut, cached: nil, actualCost: e.estCost, estimated: true,
            finishedAt: now, overLimit: false, error: note, flags: flags.rawValue, chain: chain)
        let update = try SQLiteCall(
            db,
            """
            UPDATE entry SET status = 'expired', finished_at = ?, actual_input_tokens = ?, actual_output_tokens = ?, actual_cost = ?,
                usage_estimated = 1, error = ?, seal = ?, flags = ? WHERE id = ?
            """)
        update.bind(1, now)
        update.bind(2, e.estIn)
        update.bind(3, e.estOut)
        update.bind(4, e.estCost)
        update.bind(5, note)
        update.bind(6, seal)
        update.bind(7, flags.rawValue)
        update.bind(8, id)
        try update.run()
        return true
    }

    /// Ends an entry without spend (released) and seals it.
    private static func close(
        _ db: Database, _ id: Int64, _ e: OpenEntry, as status: EntryStatus, error: String?, now: Int64, chain: ChainHasher
    ) throws {
        let seal = sealHash(
            hash: e.hash, status: status, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now,
            overLimit: false, error: error, flags: e.flags.rawValue, chain: chain)
        let update = try SQLiteCall(
            db,
            """
            UPDATE entry SET status = ?, finished_at = ?, error = ?, seal = ?, actual_input_tokens = NULL, actual_output_tokens = NULL,
                actual_cost = NULL, usage_estimated = 0 WHERE id = ?
            """)
        update.bind(1, status.rawValue)
        update.bind(2, now)
        update.bind(3, error)
        update.bind(4, seal)
        update.bind(5, id)
        try update.run()
    }
}
