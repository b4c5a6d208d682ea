import Foundation
import GRDB
import ModelSelection

/// The ledger's operations on one open transaction. Every statement is cached and parameterised.
enum LedgerStore {
    static let genesisHash = String(repeating: "0", count: 64)

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

    /// ``Settlement/maxCost`` in micro-dollars.
    static let maxCallCost: Int64 = Settlement.maxCost.rawValue

    /// `a + b`, or ``LedgerError/Kind/invalidAmount`` when it does not fit 64 bits.
    static func checkedSum(_ a: MicroDollars, _ b: MicroDollars) throws -> MicroDollars {
        let (v, o) = a.rawValue.addingReportingOverflow(b.rawValue)
        if o { throw LedgerError(kind: .invalidAmount, message: "the sum of \(a) and \(b) does not fit in 64 bits") }
        return MicroDollars(micros: v)
    }

    /// The windows containing a moment, in a zone.
    typealias Windows = (day: BudgetCalendar.Window, month: BudgetCalendar.Window)

    // MARK: - Snapshot

    static func snapshot(
        _ db: Database, windows w: (day: BudgetCalendar.Window, month: BudgetCalendar.Window), limits: BudgetLimits,
        cache: inout LedgerBatchCache?
    ) throws -> BudgetSnapshot {
        var snapshot = BudgetSnapshot(daily: .init(key: w.day.key, limit: limits.daily), monthly: .init(key: w.month.key, limit: limits.monthly))
        if cache != nil {
            let d = try cache!.window(db, period: "day", key: w.day.key), m = try cache!.window(db, period: "month", key: w.month.key)
            snapshot.daily.settled = .init(micros: d.settled)
            snapshot.daily.reserved = .init(micros: d.reserved)
            snapshot.daily.criticalSettled = .init(micros: d.criticalSettled)
            snapshot.monthly.settled = .init(micros: m.settled)
            snapshot.monthly.reserved = .init(micros: m.reserved)
            snapshot.monthly.criticalSettled = .init(micros: m.criticalSettled)
            return snapshot
        }
        let rows = try SQLiteCall(
            db, "SELECT period = 'day', settled, reserved, critical_settled FROM budget_window WHERE (period = 'day' AND key = ?) OR (period = 'month' AND key = ?)")
        rows.bind(1, w.day.key)
        rows.bind(2, w.month.key)
        while try rows.next() {
            let settled = MicroDollars(micros: rows.int64(1)), reserved = MicroDollars(micros: rows.int64(2))
            let critical = MicroDollars(micros: rows.int64(3))
            if rows.bool(0) {
                snapshot.daily.settled = settled
                snapshot.daily.reserved = reserved
                snapshot.daily.criticalSettled = critical
            } else {
                snapshot.monthly.settled = settled
                snapshot.monthly.reserved = reserved
                snapshot.monthly.criticalSettled = critical
            }
        }
        return snapshot
    }

    // MARK: - Reserve

    /// The budget state in force: from the batch's cache, or read in this transaction.
    static func state(_ db: Database, cache: inout LedgerBatchCache?) throws -> LedgerState {
        if let s = cache?.state { return s }
        let s = try LedgerState.read(db)
        cache?.state = s
        return s
    }

    static func reserve(
        _ db: Database, _ request: ReservationRequest, at date: Date, windows: (_ zone: String) throws -> Windows,
        configuration c: SQLiteLedger.Configuration, expiring: OpenReservationTracker?, cache: inout LedgerBatchCache?,
        choose: (BudgetSnapshot) -> Selection
    ) throws -> ReservationOutcome {
        let now = micros(date)
        if let expiring { _ = try expiring.reclaim(db, now: now, cache: &cache, chain: c.chain) }
        let state = try self.state(db, cache: &cache)
        let w = try windows(state.zone(at: now))
        let limits = state.limits
        let snapshot = try self.snapshot(db, windows: w, limits: limits, cache: &cache)
        let selection = choose(snapshot)
        // Inside one batch transaction nobody else writes, so the chain head is carried from the previous insert.
        let (lastID, prevHash) = try cache?.chainHead ?? lastEntry(db)
        let id = lastID + 1
        let tags = encodeTags(request.tags)
        let critical = selection.tier == .critical

        var draft = EntryDraft(
            id: id, request: request, tier: selection.tier, model: selection.model?.rawValue ?? "", createdAt: now, dayKey: w.day.key,
            monthKey: w.month.key, estimatedInput: selection.inputTokens, estimatedOutput: 0, estimatedCost: 0, critical: critical,
            reason: selection.reason, tags: tags, configID: state.configID)

        guard let model = selection.model else {
            let refusalNote = refusalText(selection)
            draft.status = .refused
            draft.error = refusalNote
            draft.finishedAt = now
            let hash = draft.hash(previous: prevHash, chain: c.chain)
            let seal = sealHash(
                hash: hash, status: .refused, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now,
                overLimit: false, error: refusalNote, flags: 0, chain: c.chain)
            try draft.insert(db, previous: prevHash, hash: hash, seal: seal)
            cache?.chainHead = (id, hash)
            return .refused(selection, snapshot: snapshot, entryID: id)
        }

        let estimate = selection.estimate
        if !critical {
            for window in [snapshot.daily, snapshot.monthly] {
                if let remaining = window.remaining, estimate > remaining {
                    throw LedgerError(
                        kind: .wouldExceedBudget,
                        message: "reserving \(estimate) for \(model) would pass the limit of window \(window.key) (remaining \(remaining))")
                }
            }
        }
        let criticalAmount = critical ? estimate.rawValue : 0
        if cache != nil {
            for (period, key, limit) in [("day", w.day.key, limits.daily?.rawValue), ("month", w.month.key, limits.monthly?.rawValue)] {
                try cache!.change(db, period: period, key: key) { win in
                    win.limit = limit
                    win.reserved += estimate.rawValue
                    win.criticalReserved += criticalAmount
                }
            }
        } else {
            // Two single-row statements: measured faster here than one two-row upsert.
            for (period, key, limit) in [("day", w.day.key, limits.daily?.rawValue), ("month", w.month.key, limits.monthly?.rawValue)] {
                let upsert = try SQLiteCall(
                    db,
                    """
                    INSERT INTO budget_window (period, key, limit_micros, reserved, critical_reserved) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (period, key) DO UPDATE SET
                        reserved = reserved + excluded.reserved,
                        critical_reserved = critical_reserved + excluded.critical_reserved,
                        limit_micros = excluded.limit_micros
                    """)
                upsert.bind(1, period)
                upsert.bind(2, key)
                upsert.bind(3, limit)
                upsert.bind(4, estimate.rawValue)
                upsert.bind(5, criticalAmount)
                try upsert.run()
            }
        }

        guard estimate.rawValue >= 0, estimate.rawValue <= maxCallCost else {
            throw LedgerError(kind: .invalidAmount, message: "an estimate of \(estimate) for \(model) cannot be reserved (the ceiling for one call is \(MicroDollars(micros: maxCallCost)))")
        }
        // Never before the call's own deadline: a call still in flight is not abandoned.
        let expires = now &+ micros(max(c.reservationTimeToLive, request.callDeadline ?? .zero))
        let inputTokens = selection.inputTokens
        draft.estimatedOutput = selection.maxOutputTokens
        draft.estimatedCost = estimate.rawValue
        draft.expiresAt = expires
        let hash = draft.hash(previous: prevHash, chain: c.chain)
        try draft.insert(db, previous: prevHash, hash: hash, seal: nil)
        cache?.chainHead = (id, hash)
        cache?.setOpen(id, OpenEntry(
            status: .reserved, estCost: estimate.rawValue, estIn: inputTokens, estOut: selection.maxOutputTokens, critical: critical, day: w.day.key,
            month: w.month.key, hash: hash, flags: []))
        return .reserved(Reservation(id: id, model: model, selection: selection, snapshot: snapshot, dayKey: w.day.key, monthKey: w.month.key))
    }

    static func refusalText(_ s: Selection) -> String { s.refusal?.summary ?? "refused" }

    /// A duration in whole microseconds, saturating (a time-to-live of centuries is still a valid one).
    static func micros(_ d: Duration) -> Int64 {
        // `components` traps past Int64 seconds: saturate well before.
        if d >= .seconds(Int64.max / 1_000_000) { return .max }
        if d <= .seconds(Int64.min / 1_000_000) { return .min }
        let c = d.components
        let (m, o) = c.seconds.multipliedReportingOverflow(by: 1_000_000)
        return o ? (c.seconds < 0 ? .min : .max) : m.addingReportingOverflow(c.attoseconds / 1_000_000_000_000).partialValue
    }

    static func lastEntry(_ db: Database) throws -> (Int64, String) {
        let last = try SQLiteCall(db, "SELECT id, hash FROM entry ORDER BY id DESC LIMIT 1")
        guard try last.next() else { return (0, genesisHash) }
        defer { last.finish() }
        return (last.int64(0), last.text(1))
    }

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
    }

    static func openEntry(_ db: Database, _ id: Int64, cache: inout LedgerBatchCache?) throws -> OpenEntry {
        if let e = cache?.takeOpen(id) { return e }
        guard let e = try readEntry(db, id) else { throw LedgerError(kind: .unknownReservation, message: "no reservation has id \(id)") }
        return e
    }

    static func readEntry(_ db: Database, _ id: Int64) throws -> OpenEntry? {
        let row = try SQLiteCall(
            db, "SELECT status, est_cost, critical, day_key, month_key, hash, flags, est_input_tokens, est_output_tokens FROM entry WHERE id = ?")
        row.bind(1, id)
        guard try row.next() else { return nil }
        defer { row.finish() }
        return OpenEntry(
            status: EntryStatus(rawValue: row.text(0)), estCost: row.int64(1), estIn: Int(row.int64(7)), estOut: Int(row.int64(8)),
            critical: row.bool(2), day: row.text(3), month: row.text(4), hash: row.text(5), flags: EntryFlags(rawValue: row.int64(6)))
    }

    /// Moves amounts between a window's reserved and settled totals.
    static func adjustWindows(_ db: Database, _ e: OpenEntry, unreserve: Int64, settle: Int64, cache: inout LedgerBatchCache?) throws {
        if cache != nil {
            for (period, key) in [("day", e.day), ("month", e.month)] {
                try cache!.change(db, period: period, key: key) { w in
                    w.reserved -= unreserve
                    w.settled += settle
                    if e.critical {
                        w.criticalReserved -= unreserve
                        w.criticalSettled += settle
                    }
                }
            }
            return
        }
        let cu = e.critical ? unreserve : 0, cs = e.critical ? settle : 0
        for (period, key) in [("day", e.day), ("month", e.month)] {
            let update = try SQLiteCall(
                db,
                """
                UPDATE budget_window SET reserved = reserved - ?, settled = settled + ?,
                    critical_reserved = critical_reserved - ?, critical_settled = critical_settled + ?
                WHERE period = ? AND key = ?
                """)
            update.bind(1, unreserve)
            update.bind(2, settle)
            update.bind(3, cu)
            update.bind(4, cs)
            update.bind(5, period)
            update.bind(6, key)
            try update.run()
        }
    }

    /// Settles a reservation: its estimate leaves the reserved totals and its cost joins the settled ones. An expired
    /// entry was already charged its estimate: the actual cost replaces it, once (``EntryFlags/settledAfterExpiry``).
    /// A cost above the reserved estimate is recorded as billed and flagged ``EntryFlags/overReservation``.
    static func settle(
        _ db: Database, _ id: Int64, _ s: Settlement, at date: Date, cache: inout LedgerBatchCache?, chain: ChainHasher
    ) throws -> SettlementReceipt {
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
        if e.status == .expired {
            flags.insert(.settledAfterExpiry)
            // v3 expiries charged the estimate; older ones (v2) freed it.
            let charged = e.flags.contains(.chargedAtExpiry) ? e.estCost : 0
            try adjustWindows(db, e, unreserve: 0, settle: cost.rawValue - charged, cache: &cache)
        } else {
            try adjustWindows(db, e, unreserve: e.estCost, settle: cost.rawValue, cache: &cache)
        }
        var overLimit = false
        if e.critical {
            if cache != nil {
                for (period, key) in [("day", e.day), ("month", e.month)] {
                    let w = try cache!.window(db, period: period, key: key)
                    if let limit = w.limit, w.settled > limit { overLimit = true }
                }
            } else {
                let over = try SQLiteCall(
                    db,
                    "SELECT 1 FROM budget_window WHERE ((period = 'day' AND key = ?) OR (period = 'month' AND key = ?)) AND limit_micros IS NOT NULL AND settled > limit_micros LIMIT 1")
                over.bind(1, e.day)
                over.bind(2, e.month)
                overLimit = try over.next()
                over.finish()
            }
        }
        let now = micros(date)
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
        return SettlementReceipt(entryID: id, cost: cost, usageEstimated: s.estimated, overLimit: overLimit, flags: flags)
    }

    static func release(_ db: Database, _ id: Int64, error: String?, at date: Date, cache: inout LedgerBatchCache?, chain: ChainHasher) throws {
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
    static func expire(_ db: Database, _ id: Int64, now: Int64, cache: inout LedgerBatchCache?, chain: ChainHasher) throws -> Bool {
        cache?.setOpen(id, nil)
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

    // MARK: - Hash chain

    static func sealHash(
        hash: String, status: EntryStatus, actualIn: Int?, actualOut: Int?, cached: Int?, actualCost: Int64?, estimated: Bool, finishedAt: Int64,
        overLimit: Bool, error: String?, flags: Int64, chain: ChainHasher
    ) -> String {
        // s1|hash|status|actualIn|actualOut|cached|actualCost|estimated|finished|overLimit|error  (absent numbers are "-"),
        // then |flags when any flag is set (so entries sealed before flags existed keep their seals).
        var t = ChainText(tag: "s1")
        t.add(hash)
        t.add(status.rawValue)
        t.add(optional: actualIn.map(Int64.init))
        t.add(optional: actualOut.map(Int64.init))
        t.add(optional: cached.map(Int64.init))
        t.add(optional: actualCost)
        t.add(estimated ? 1 : 0)
        t.add(finishedAt)
        t.add(overLimit ? 1 : 0)
        t.add(error ?? "")
        if flags != 0 { t.add(flags) }
        return t.hex(chain)
    }

    // MARK: - Tags

    /// Tags as canonical JSON: keys sorted, strings escaped.
    static func encodeTags(_ tags: [String: String]) -> String {
        if tags.isEmpty { return "{}" }
        var out = "{"
        for (n, k) in tags.keys.sorted().enumerated() {
            if n > 0 { out += "," }
            out += jsonString(k) + ":" + jsonString(tags[k]!)
        }
        return out + "}"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func decodeTags(_ json: String) -> [String: String] {
        if json == "{}" { return [:] }
        if let fast = decodeCanonicalTags(json) { return fast }
        guard let data = json.data(using: .utf8),
            let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return o.compactMapValues { $0 as? String }
    }

    /// Decodes tags written by ``encodeTags(_:)`` when they hold no escapes; `nil` sends the caller to the full parser.
    static func decodeCanonicalTags(_ json: String) -> [String: String]? {
        var u = Substring(json).utf8[...]
        guard u.first == UInt8(ascii: "{"), u.last == UInt8(ascii: "}"), !u.contains(UInt8(ascii: "\\")) else { return nil }
        u = u.dropFirst().dropLast()
        var out: [String: String] = [:]
        func string(_ u: inout Substring.UTF8View.SubSequence) -> String? {
            guard u.first == UInt8(ascii: "\""), let end = u.dropFirst().firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            let s = String(Substring(u[u.index(after: u.startIndex)..<end]))
            u = u[u.index(after: end)...]
            return s
        }
        while !u.isEmpty {
            guard let k = string(&u), u.first == UInt8(ascii: ":") else { return nil }
            u = u.dropFirst()
            guard let v = string(&u) else { return nil }
            out[k] = v
            if u.first == UInt8(ascii: ",") { u = u.dropFirst() } else if !u.isEmpty { return nil }
        }
        return out
    }
}
