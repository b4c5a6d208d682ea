import Foundation
import GRDB
import ModelSelection

/// The ledger's operations on one open transaction. Every statement is cached and parameterised.
enum LedgerStore {
    static let genesisHash = String(repeating: "0", count: 64)

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

    // MARK: - Configuration record

    /// Records the limits and zone in force when they differ from the last recorded ones.
    static func recordConfiguration(_ db: Database, _ c: SQLiteLedger.Configuration, at date: Date) throws {
        let tz = c.calendar.zoneName
        let last = try Row.fetchOne(db, sql: "SELECT daily_limit, monthly_limit, time_zone FROM budget_config ORDER BY id DESC LIMIT 1")
        if let last, last[0] as Int64? == c.limits.daily?.rawValue, last[1] as Int64? == c.limits.monthly?.rawValue, last[2] as String == tz {
            return
        }
        try db.execute(
            sql: "INSERT INTO budget_config (effective_at, daily_limit, monthly_limit, time_zone) VALUES (?, ?, ?, ?)",
            arguments: [micros(date), c.limits.daily?.rawValue, c.limits.monthly?.rawValue, tz])
    }

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

    static func reserve(
        _ db: Database, _ request: ReservationRequest, at date: Date, windows w: (day: BudgetCalendar.Window, month: BudgetCalendar.Window),
        configuration c: SQLiteLedger.Configuration, expiring: OpenReservationTracker?, cache: inout LedgerBatchCache?,
        choose: (BudgetSnapshot) -> Selection
    ) throws -> ReservationOutcome {
        let now = micros(date)
        if let expiring { _ = try expiring.reclaim(db, now: now, cache: &cache) }
        let snapshot = try self.snapshot(db, windows: w, limits: c.limits, cache: &cache)
        let selection = choose(snapshot)
        // Inside one batch transaction nobody else writes, so the chain head is carried from the previous insert.
        let (lastID, prevHash) = try cache?.chainHead ?? lastEntry(db)
        let id = lastID + 1
        let tags = encodeTags(request.tags)
        let critical = selection.tier == .critical

        guard let model = selection.model else {
            let refusalNote = refusalText(selection)
            let hash = entryHash(
                id: id, request: request, tier: selection.tier, model: "", createdAt: now, dayKey: w.day.key, monthKey: w.month.key, estIn: selection.inputTokens, estOut: 0, estCost: 0,
                critical: critical, reason: selection.reason, tags: tags, prevHash: prevHash)
            let seal = sealHash(hash: hash, status: .refused, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now, overLimit: false, error: refusalNote)
            try insertEntry(
                db, id: id, request: request, tier: selection.tier, model: "", createdAt: now, expiresAt: nil, day: w.day.key, month: w.month.key,
                estIn: selection.inputTokens, estOut: 0, estCost: 0, status: .refused, critical: critical, reason: selection.reason, tags: tags,
                error: refusalNote, finishedAt: now, prevHash: prevHash, hash: hash, seal: seal)
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
            for (period, key, limit) in [("day", w.day.key, c.limits.daily?.rawValue), ("month", w.month.key, c.limits.monthly?.rawValue)] {
                try cache!.change(db, period: period, key: key) { win in
                    win.limit = limit
                    win.reserved += estimate.rawValue
                    win.criticalReserved += criticalAmount
                }
            }
        } else {
            // Two single-row statements: measured faster here than one two-row upsert.
            for (period, key, limit) in [("day", w.day.key, c.limits.daily?.rawValue), ("month", w.month.key, c.limits.monthly?.rawValue)] {
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

        let ttl = c.reservationTimeToLive.components
        let expires = now + ttl.seconds * 1_000_000 + ttl.attoseconds / 1_000_000_000_000
        let inputTokens = selection.inputTokens
        let hash = entryHash(
            id: id, request: request, tier: selection.tier, model: model.rawValue, createdAt: now, dayKey: w.day.key, monthKey: w.month.key, estIn: inputTokens,
            estOut: selection.maxOutputTokens, estCost: estimate.rawValue, critical: critical, reason: selection.reason, tags: tags, prevHash: prevHash)
        try insertEntry(
            db, id: id, request: request, tier: selection.tier, model: model.rawValue, createdAt: now, expiresAt: expires, day: w.day.key,
            month: w.month.key, estIn: inputTokens, estOut: selection.maxOutputTokens, estCost: estimate.rawValue, status: .reserved,
            critical: critical, reason: selection.reason, tags: tags, error: nil, finishedAt: nil, prevHash: prevHash, hash: hash, seal: nil)
        cache?.chainHead = (id, hash)
        cache?.open[id] = OpenEntry(status: .reserved, estCost: estimate.rawValue, critical: critical, day: w.day.key, month: w.month.key, hash: hash)
        return .reserved(Reservation(id: id, selection: selection, snapshot: snapshot, dayKey: w.day.key, monthKey: w.month.key))
    }

    static func refusalText(_ s: Selection) -> String { s.refusal?.summary ?? "refused" }

    static func insertEntry(
        _ db: Database, id: Int64, request: ReservationRequest, tier: Complexity, model: String, createdAt: Int64, expiresAt: Int64?,
        day: String, month: String, estIn: Int, estOut: Int, estCost: Int64, status: EntryStatus, critical: Bool, reason: SelectionReason,
        tags: String, error: String?, finishedAt: Int64?, prevHash: String, hash: String, seal: String?
    ) throws {
        let insert = try SQLiteCall(
            db,
            """
            INSERT INTO entry (id, request_id, attempt, task_kind, tier, model, created_at, finished_at, expires_at, day_key, month_key,
                est_input_tokens, est_output_tokens, est_cost, status, critical, reason, tags, error, prev_hash, hash, seal)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, id)
        insert.bind(2, request.requestID)
        insert.bind(3, request.attempt)
        insert.bind(4, request.taskKind)
        insert.bind(5, tier.rawValue)
        insert.bind(6, model)
        insert.bind(7, createdAt)
        insert.bind(8, finishedAt)
        insert.bind(9, expiresAt)
        insert.bind(10, day)
        insert.bind(11, month)
        insert.bind(12, estIn)
        insert.bind(13, estOut)
        insert.bind(14, estCost)
        insert.bind(15, status.rawValue)
        insert.bind(16, critical)
        insert.bind(17, reason.rawValue)
        insert.bind(18, tags)
        insert.bind(19, error)
        insert.bind(20, prevHash)
        insert.bind(21, hash)
        insert.bind(22, seal)
        try insert.run()
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
        var critical: Bool
        var day: String
        var month: String
        var hash: String
    }

    static func openEntry(_ db: Database, _ id: Int64, cache: inout LedgerBatchCache?) throws -> OpenEntry {
        if let e = cache?.open.removeValue(forKey: id) { return e }
        guard let e = try readEntry(db, id) else { throw LedgerError(kind: .unknownReservation, message: "no reservation has id \(id)") }
        return e
    }

    static func readEntry(_ db: Database, _ id: Int64) throws -> OpenEntry? {
        let row = try SQLiteCall(db, "SELECT status, est_cost, critical, day_key, month_key, hash FROM entry WHERE id = ?")
        row.bind(1, id)
        guard try row.next() else { return nil }
        defer { row.finish() }
        return OpenEntry(
            status: EntryStatus(rawValue: row.text(0)), estCost: row.int64(1), critical: row.bool(2), day: row.text(3), month: row.text(4),
            hash: row.text(5))
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

    /// Settles a reservation.
    static func settle(_ db: Database, _ id: Int64, _ s: Settlement, at date: Date, cache: inout LedgerBatchCache?) throws -> SettlementReceipt {
        let e = try openEntry(db, id, cache: &cache)
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        let cost = max(.zero, s.cost)
        try adjustWindows(db, e, unreserve: e.status == .reserved ? e.estCost : 0, settle: cost.rawValue, cache: &cache)
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
        let seal = sealHash(
            hash: e.hash, status: .settled, actualIn: s.inputTokens, actualOut: s.outputTokens, cached: s.cachedInputTokens,
            actualCost: cost.rawValue, estimated: s.estimated, finishedAt: now, overLimit: overLimit, error: nil)
        let update = try SQLiteCall(
            db,
            """
            UPDATE entry SET status = 'settled', finished_at = ?, actual_input_tokens = ?, actual_output_tokens = ?, cached_input_tokens = ?,
                actual_cost = ?, usage_estimated = ?, over_limit = ?, error = NULL, seal = ? WHERE id = ?
            """)
        update.bind(1, now)
        update.bind(2, s.inputTokens)
        update.bind(3, s.outputTokens)
        update.bind(4, s.cachedInputTokens)
        update.bind(5, cost.rawValue)
        update.bind(6, s.estimated)
        update.bind(7, overLimit)
        update.bind(8, seal)
        update.bind(9, id)
        try update.run()
        return SettlementReceipt(entryID: id, cost: cost, usageEstimated: s.estimated, overLimit: overLimit)
    }

    static func release(_ db: Database, _ id: Int64, error: String?, at date: Date, cache: inout LedgerBatchCache?) throws {
        let e = try openEntry(db, id, cache: &cache)
        guard e.status == .reserved || e.status == .expired else {
            throw LedgerError(kind: .alreadyFinished, message: "reservation \(id) is already \(e.status)")
        }
        if e.status == .reserved { try adjustWindows(db, e, unreserve: e.estCost, settle: 0, cache: &cache) }
        try close(db, id, e, as: .released, error: error, now: micros(date))
    }

    /// Expires one reservation if it is still open; its amount leaves the windows' reserved totals.
    /// - Returns: Whether it was open.
    static func expire(_ db: Database, _ id: Int64, now: Int64, cache: inout LedgerBatchCache?) throws -> Bool {
        cache?.open[id] = nil
        guard let e = try readEntry(db, id), e.status == .reserved else { return false }
        try adjustWindows(db, e, unreserve: e.estCost, settle: 0, cache: &cache)
        try close(db, id, e, as: .expired, error: "reservation expired after its time-to-live (its process stopped)", now: now)
        return true
    }

    /// Ends an entry without spend (released or expired) and seals it.
    private static func close(_ db: Database, _ id: Int64, _ e: OpenEntry, as status: EntryStatus, error: String?, now: Int64) throws {
        let seal = sealHash(hash: e.hash, status: status, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now, overLimit: false, error: error)
        let update = try SQLiteCall(db, "UPDATE entry SET status = ?, finished_at = ?, error = ?, seal = ? WHERE id = ?")
        update.bind(1, status.rawValue)
        update.bind(2, now)
        update.bind(3, error)
        update.bind(4, seal)
        update.bind(5, id)
        try update.run()
    }

    // MARK: - Hash chain

    static func entryHash(
        id: Int64, request: ReservationRequest, tier: Complexity, model: String, createdAt: Int64, dayKey: String, monthKey: String, estIn: Int,
        estOut: Int, estCost: Int64, critical: Bool, reason: SelectionReason, tags: String, prevHash: String
    ) -> String {
        // e1|id|request|attempt|task|tier|model|created|day|month|estIn|estOut|estCost|critical|reason|tags|prev
        var t = ChainText(tag: "e1")
        t.add(id)
        t.add(request.requestID)
        t.add(request.attempt)
        t.add(request.taskKind ?? "")
        t.add(tier.rawValue)
        t.add(model)
        t.add(createdAt)
        t.add(dayKey)
        t.add(monthKey)
        t.add(estIn)
        t.add(estOut)
        t.add(estCost)
        t.add(critical ? 1 : 0)
        t.add(reason.rawValue)
        t.add(tags)
        t.add(prevHash)
        return t.hex()
    }

    static func sealHash(
        hash: String, status: EntryStatus, actualIn: Int?, actualOut: Int?, cached: Int?, actualCost: Int64?, estimated: Bool, finishedAt: Int64,
        overLimit: Bool, error: String?
    ) -> String {
        // s1|hash|status|actualIn|actualOut|cached|actualCost|estimated|finished|overLimit|error  (absent numbers are "-")
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
        return t.hex()
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
