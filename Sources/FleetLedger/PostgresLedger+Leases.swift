import Foundation
import Logging
import ModelSelection
import PostgresNIO
import SpendLedger

extension PostgresLedger {
    /// Takes a lease for a call, in one transaction: the windows are read under the state lock, `choose` picks from
    /// them, and a slice of what is left — at least the choice's estimate, at most what every window of the call has
    /// left — is held for `host` in the global windows and the call's scopes'.
    /// - Parameter size: The slice wanted, from what is available and the estimate (``LeasePolicy``).
    func acquireLease(
        _ request: ReservationRequest, at date: Date, host: String, ttl: Duration, size: @escaping @Sendable (_ available: Int64, _ estimate: Int64) -> Int64,
        choose: @escaping @Sendable (BudgetSnapshot) -> Selection
    ) async throws -> LeaseAcquisition {
        let ledger = self
        return try await write { c in
            try await PostgresStore.acquireLease(c, request, at: date, host: host, ttl: ttl, size: size, ledger: ledger, choose: choose)
        }
    }

    /// Writes a host's finished calls, renews its leases in use and returns the ones it no longer needs, in one
    /// transaction. Calls already written (by `origin`) are skipped, so a retried flush writes each once.
    /// - Returns: The server's view of each lease named, after the flush.
    func flush(host: String, calls: [LocalCall], renew: [Int64], giveBack: [Int64], ttl: Duration, at date: Date) async throws -> [Int64: LeaseState] {
        let ledger = self
        return try await write { c in
            try await PostgresStore.flush(c, host: host, calls: calls, renew: renew, giveBack: giveBack, ttl: ttl, at: date, ledger: ledger)
        }
    }

    /// How many budget leases are open (held by hosts, not yet returned or expired).
    /// - Throws: ``SpendLedger/LedgerError``.
    public func openLeaseCount() async throws -> Int {
        let logger = self.logger
        return try await readTransaction { c in
            let row = try await PostgresStore.rows(c, "SELECT COUNT(*) FROM budget_lease WHERE status = 'open'", logger).first
            return Int(try row.map { try PostgresStore.int($0, 0) } ?? 0)
        }
    }

    /// PostgreSQL transactions this process has run (for benchmarks and tests).
    public var transactionCount: Int { shared.transactions.load(ordering: .relaxed) }
}

extension PostgresStore {
    static func acquireLease(
        _ c: PostgresConnection, _ request: ReservationRequest, at date: Date, host: String, ttl: Duration,
        size: @Sendable (Int64, Int64) -> Int64, ledger: PostgresLedger, choose: @Sendable (BudgetSnapshot) -> Selection
    ) async throws -> LeaseAcquisition {
        let logger = ledger.logger
        let now = LedgerStore.micros(date)
        let st = try await state(c, lock: true, logger)
        var head = (st.headID, st.headHash)
        if ledger.shared.expiryDue(now) { _ = try await reclaim(c, now: now, head: &head, ledger: ledger) }
        let config = try await scopeConfig(c, st, ledger: ledger)
        let cal = try ledger.shared.calendar(st.zone(at: now))
        let day = cal.day(containing: date).key, month = cal.month(containing: date).key
        var call = request.scopedCall
        var scopes = config.scopes(for: call)
        var rows = try await windows(c, day: day, month: month, scopes: scopes.map(\.name), logger)
        var snap = snapshot(rows, day: day, month: month, limits: st.limits, scopes: scopes)
        let selection = choose(snap)
        if call.tier != selection.tier {
            call.tier = selection.tier
            let again = config.scopes(for: call)
            if again != scopes {
                scopes = again
                rows = try await windows(c, day: day, month: month, scopes: scopes.map(\.name), logger)
                snap = snapshot(rows, day: day, month: month, limits: st.limits, scopes: scopes)
            }
        }
        guard let model = selection.model else {
            // The refusal is recorded as the direct ledger records it.
            let id = head.0 + 1
            let note = LedgerStore.refusalText(selection)
            var draft = EntryDraft(
                id: id, request: request, tier: selection.tier, model: "", createdAt: now, dayKey: day, monthKey: month,
                estimatedInput: selection.inputTokens, estimatedOutput: 0, estimatedCost: 0, critical: false, reason: selection.reason,
                tags: LedgerStore.encodeTags(request.tags), scopes: scopes.map(\.name).joined(separator: "\n"), callerKey: request.callerKey,
                boundBy: (selection.boundBy ?? selection.refusal?.binding)?.description, configID: st.configID)
            draft.status = .refused
            draft.error = note
            draft.finishedAt = now
            let chain = ChainHasher(key: ledger.configuration.chainKey)
            let hash = draft.hash(previous: head.1, chain: chain)
            let seal = LedgerStore.sealHash(
                hash: hash, status: .refused, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now,
                overLimit: false, error: note, flags: 0, chain: chain)
            var q = SQLBuilder()
            insertEntry(draft, prev: head.1, hash: hash, seal: seal, origin: nil, into: &q)
            writeHead(id, hash, into: &q)
            try await c.query(q.query, logger: logger)
            return .refused(selection, snap, entryID: id)
        }
        let estimate = selection.estimate.rawValue
        guard estimate >= 0, estimate <= LedgerStore.maxCallCost else {
            throw LedgerError(kind: .invalidAmount, message: "an estimate of \(selection.estimate) for \(model) cannot be reserved")
        }
        // What every limited window of the call has left (settled + reserved + leased stay ≤ limit).
        var available: Int64? = nil
        for (scope, isDaily, window) in snap.allWindows {
            guard let remaining = window.remaining else { continue }
            if selection.estimate > remaining {
                throw LedgerError(
                    kind: .wouldExceedBudget,
                    message: "leasing \(selection.estimate) for \(model) would pass the limit of \(scope.map { "scope \($0)" } ?? "the global budget")'s \(isDaily ? "day" : "month") \(window.key) (remaining \(remaining))")
            }
            available = min(available ?? .max, remaining.rawValue)
        }
        let scopeNames = scopes.map(\.name)
        let expires = now &+ LedgerStore.micros(ttl)
        guard let available else {
            return .leased(
                LeaseGrant(id: nil, scopes: scopeNames, dayKey: day, monthKey: month, granted: .max, expiresAt: expires), selection, snap,
                configID: st.configID)
        }
        let granted = min(available, max(estimate, size(available, estimate)))
        let limits = st.limits
        var changed: [WKey: WRow] = [:]
        func hold(_ k: WKey, _ limit: MicroDollars?) {
            var w = rows[k] ?? WRow()
            w.limit = limit?.rawValue
            w.leased += granted
            changed[k] = w
        }
        hold(WKey(scope: "", period: "day", key: day), limits.daily)
        hold(WKey(scope: "", period: "month", key: month), limits.monthly)
        for s in scopes {
            hold(WKey(scope: s.name, period: "day", key: day), s.daily)
            hold(WKey(scope: s.name, period: "month", key: month), s.monthly)
        }
        let inserted = try await PostgresStore.rows(
            c,
            """
            INSERT INTO budget_lease (host, scopes, day_key, month_key, granted, taken_at, expires_at, head_at_grant)
            VALUES (\(host), \(scopeNames.joined(separator: "\n")), \(day), \(month), \(granted), \(now), \(expires), \(head.0)) RETURNING id
            """, logger)
        guard let r = inserted.first else { throw LedgerError(kind: .database, message: "taking a lease returned no id") }
        var q = SQLBuilder()
        writeWindows(changed, into: &q)
        try await c.query(q.query, logger: logger)
        return .leased(
            LeaseGrant(id: try int(r, 0), scopes: scopeNames, dayKey: day, monthKey: month, granted: granted, expiresAt: expires), selection, snap,
            configID: st.configID)
    }

    struct LeaseRow {
        var id: Int64
        var scopes: [String]
        var day: String
        var month: String
        var granted: Int64
        var consumed: Int64
        var status: String
        var expiresAt: Int64
        var charged: Int64
        var refunded: Int64
        var chargeEntry: Int64?
        var host: String
        /// The chain head when the lease was granted: where the audit judges its calls.
        var headAtGrant: Int64

        var room: Int64 { max(0, granted - consumed) }
        var windowKeys: [WKey] {
            var out = [WKey(scope: "", period: "day", key: day), WKey(scope: "", period: "month", key: month)]
            for s in scopes {
                out.append(WKey(scope: s, period: "day", key: day))
                out.append(WKey(scope: s, period: "month", key: month))
            }
            return out
        }
    }

    static func leases(_ c: PostgresConnection, _ q: PostgresQuery, _ logger: Logger) async throws -> [LeaseRow] {
        try await PostgresStore.rows(c, q, logger).map { r in
            let scopes = try text(r, 1)
            return LeaseRow(
                id: try int(r, 0), scopes: scopes.isEmpty ? [] : scopes.split(separator: "\n").map(String.init), day: try text(r, 2), month: try text(r, 3),
                granted: try int(r, 4), consumed: try int(r, 5), status: try text(r, 6), expiresAt: try int(r, 7), charged: try int(r, 8),
                refunded: try int(r, 9), chargeEntry: try optInt(r, 10), host: try text(r, 11), headAtGrant: try int(r, 12))
        }
    }

    static let leaseColumns = "id, scopes, day_key, month_key, granted, consumed, status, expires_at, charged, refunded, charge_entry, host, head_at_grant"

    /// Reads the totals of every window `keys` names.
    static func windows(_ c: PostgresConnection, keys: Set<WKey>, _ logger: Logger) async throws -> [WKey: WRow] {
        var out: [WKey: WRow] = [:]
        // Windows come in (day, month) pairs per call; read per pair.
        var pairs: [String: (month: String, scopes: Set<String>)] = [:]
        for k in keys where k.period == "day" {
            let month = BudgetCalendar.monthKey(ofDay: k.key)
            var p = pairs[k.key] ?? (month, [])
            if !k.scope.isEmpty { p.scopes.insert(k.scope) }
            pairs[k.key] = p
        }
        for k in keys where k.period == "month" && !pairs.values.contains(where: { $0.month == k.key }) {
            pairs["month-only:" + k.key] = (k.key, k.scope.isEmpty ? [] : [k.scope])
        }
        for (day, p) in pairs {
            let rows = try await windows(c, day: day.hasPrefix("month-only:") ? "" : day, month: p.month, scopes: p.scopes.sorted(), logger)
            out.merge(rows) { a, _ in a }
        }
        return out
    }

    static func flush(
        _ c: PostgresConnection, host: String, calls: [LocalCall], renew: [Int64], giveBack: [Int64], ttl: Duration, at date: Date,
        ledger: PostgresLedger
    ) async throws -> [Int64: LeaseState] {
        let logger = ledger.logger
        let now = LedgerStore.micros(date)
        let st = try await state(c, lock: true, logger)
        var head = (st.headID, st.headHash)
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        let origins = calls.map(\.origin)
        var written: Set<String> = []
        if !origins.isEmpty {
            for r in try await PostgresStore.rows(c, "SELECT origin FROM entry WHERE origin = ANY(\(origins))", logger) { written.insert(try text(r, 0)) }
        }
        let fresh = calls.filter { !written.contains($0.origin) }
        let leaseIDs = Array(Set(fresh.compactMap(\.leaseID) + renew + giveBack)).sorted()
        var leaseRows: [Int64: LeaseRow] = [:]
        if !leaseIDs.isEmpty {
            for l in try await leases(c, PostgresQuery(unsafeSQL: "SELECT \(leaseColumns) FROM budget_lease WHERE id = ANY($1) FOR UPDATE", binds: {
                var b = PostgresBindings()
                b.append(leaseIDs)
                return b
            }()), logger) { leaseRows[l.id] = l }
        }
        var keys: Set<WKey> = []
        for call in fresh {
            keys.insert(WKey(scope: "", period: "day", key: call.dayKey))
            keys.insert(WKey(scope: "", period: "month", key: call.monthKey))
            for s in call.scopes {
                keys.insert(WKey(scope: s, period: "day", key: call.dayKey))
                keys.insert(WKey(scope: s, period: "month", key: call.monthKey))
            }
        }
        for l in leaseRows.values { keys.formUnion(l.windowKeys) }
        let before = try await windows(c, keys: keys, logger)
        var rows = before
        var q = SQLBuilder()
        var expiryReseals: [Int64: Int64] = [:]  // charge entry → refund
        for call in fresh {
            let charge = call.charge
            var refund: Int64 = 0
            if let lid = call.leaseID, var l = leaseRows[lid] {
                switch l.status {
                case "open":
                    let take = min(charge, l.room)
                    for k in l.windowKeys { rows[k, default: WRow()].leased -= take }
                    l.consumed += charge
                case "expired":
                    // The lease was charged its unaccounted room when it expired: this call's cost replaces that much of it.
                    refund = min(charge, l.charged - l.refunded)
                    l.refunded += refund
                    if let e = l.chargeEntry { expiryReseals[e, default: 0] += refund }
                default:
                    break
                }
                leaseRows[lid] = l
            }
            let delta = charge - refund
            var keysOfCall = [WKey(scope: "", period: "day", key: call.dayKey), WKey(scope: "", period: "month", key: call.monthKey)]
            for s in call.scopes {
                keysOfCall.append(WKey(scope: s, period: "day", key: call.dayKey))
                keysOfCall.append(WKey(scope: s, period: "month", key: call.monthKey))
            }
            for k in keysOfCall {
                rows[k, default: WRow()].settled += delta
                if call.critical { rows[k, default: WRow()].criticalSettled += charge }
            }
            let id = head.0 + 1
            var d = call.draft
            d.id = id
            d.status = call.entryStatus
            d.finishedAt = call.finishedAt
            d.error = call.error
            d.expiresAt = nil
            let hash = d.hash(previous: head.1, chain: chain)
            let judgedAt = call.leaseID.flatMap { leaseRows[$0]?.headAtGrant }
            let seal = LedgerStore.sealHash(
                hash: hash, status: call.entryStatus, actualIn: call.actualIn.map(Int.init), actualOut: call.actualOut.map(Int.init),
                cached: call.cached.map(Int.init), actualCost: call.actualCost, estimated: call.estimated, finishedAt: call.finishedAt ?? now,
                overLimit: false, error: call.error, flags: call.flags, judgedAt: judgedAt, chain: chain)
            insertEntry(
                d, prev: head.1, hash: hash, seal: seal, origin: call.origin,
                closing: Closing(
                    actualIn: call.actualIn, actualOut: call.actualOut, cached: call.cached, actualCost: call.actualCost, estimated: call.estimated,
                    flags: call.flags, judgedAt: judgedAt), into: &q)
            head = (id, hash)
        }
        if !q.isEmpty { try await c.query(q.query, logger: logger) }
        var q2 = SQLBuilder()
        for (entryID, refund) in expiryReseals where refund > 0 {
            try await reseal(c, entryID: entryID, refund: refund, chain: chain, now: now, logger)
        }
        let expires = now &+ LedgerStore.micros(ttl)
        for id in giveBack {
            guard var l = leaseRows[id], l.status == "open" else { continue }
            for k in l.windowKeys { rows[k, default: WRow()].leased -= l.room }
            l.status = "returned"
            leaseRows[id] = l
            q2.add("UPDATE budget_lease SET status = 'returned', ended_at = \(q2.bind(now)), consumed = \(q2.bind(l.consumed)) WHERE id = \(q2.bind(id))")
        }
        for (id, l) in leaseRows where l.status != "returned" || !giveBack.contains(id) {
            guard l.status == "open" || l.status == "expired" else { continue }
            let renewIt = l.status == "open" && renew.contains(id)
            q2.add(
                "UPDATE budget_lease SET consumed = \(q2.bind(l.consumed)), refunded = \(q2.bind(l.refunded))"
                    + (renewIt ? ", expires_at = \(q2.bind(expires))" : "") + " WHERE id = \(q2.bind(id))")
            if renewIt { leaseRows[id]?.expiresAt = expires }
        }
        writeWindows(rows.filter { before[$0.key] != $0.value }, into: &q2)
        // Thresholds and critical overruns the flushed spend reached.
        if !fresh.isEmpty {
            var alerts = AlertBatch(entryID: head.0, now: now)
            let config = try await scopeConfig(c, st, ledger: ledger)
            for (k, w) in rows where before[k] != w {
                if let limit = w.limit, w.criticalSettled > 0, w.settled > limit {
                    alerts.fire(.criticalOverLimit, scope: k.scope, period: k.period, windowKey: k.key, ppm: 0, spent: w.settled, limit: limit, ledger: ledger)
                }
                alerts.checkThresholds(k, w, config: config, ledger: ledger)
            }
            for call in fresh where EntryFlags(rawValue: call.flags).contains(.overReservation) {
                alerts.fire(.overReservation, scope: "", period: "", windowKey: call.origin, ppm: 0, spent: call.actualCost ?? 0, limit: call.estCost, ledger: ledger)
            }
            alerts.write(into: &q2)
            ledger.shared.alertsCommitted(alerts.keys)
            writeHead(head.0, head.1, into: &q2)
        }
        if !q2.isEmpty { try await c.query(q2.query, logger: logger) }
        var out: [Int64: LeaseState] = [:]
        for (id, l) in leaseRows { out[id] = LeaseState(id: id, status: l.status, consumed: l.consumed, expiresAt: l.expiresAt) }
        return out
    }

    /// Lowers an expired lease's charge entry by what late-written calls of that lease cost (a late settlement).
    static func reseal(_ c: PostgresConnection, entryID: Int64, refund: Int64, chain: ChainHasher, now: Int64, _ logger: Logger) async throws {
        guard let r = try await PostgresStore.rows(c, "SELECT hash, actual_cost, error, flags, finished_at, judged_at FROM entry WHERE id = \(entryID)", logger).first
        else { return }
        let hash = try text(r, 0), cost = (try optInt(r, 1) ?? 0) - refund, error = try optText(r, 2)
        let flags = EntryFlags(rawValue: try int(r, 3)).union(.settledAfterExpiry).rawValue
        let finished = try optInt(r, 4) ?? now
        let seal = LedgerStore.sealHash(
            hash: hash, status: .expired, actualIn: 0, actualOut: 0, cached: nil, actualCost: cost, estimated: true, finishedAt: finished,
            overLimit: false, error: error, flags: flags, judgedAt: try optInt(r, 5), chain: chain)
        try await c.query("UPDATE entry SET actual_cost = \(cost), flags = \(flags), seal = \(seal) WHERE id = \(entryID)", logger: logger)
    }

    /// Charges every lease past its time-to-live its unaccounted room (granted − consumed), as an expired entry in the
    /// lease's windows (the host may have spent it: the room is never freed; its journal, written later, corrects it).
    static func reclaimLeases(_ c: PostgresConnection, now: Int64, head: inout (Int64, String), ledger: PostgresLedger) async throws -> Int {
        let logger = ledger.logger
        let expired = try await leases(
            c, PostgresQuery(unsafeSQL: "SELECT \(leaseColumns) FROM budget_lease WHERE status = 'open' AND expires_at < \(now) ORDER BY id FOR UPDATE"),
            logger)
        if expired.isEmpty { return 0 }
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        var keys: Set<WKey> = []
        for l in expired { keys.formUnion(l.windowKeys) }
        let before = try await windows(c, keys: keys, logger)
        var rows = before
        var q = SQLBuilder()
        for l in expired {
            let u = l.room
            for k in l.windowKeys {
                rows[k, default: WRow()].leased -= u
                rows[k, default: WRow()].settled += u
            }
            let id = head.0 + 1
            var d = EntryDraft(
                id: id, request: ReservationRequest(requestID: "lease:\(l.id)", attempt: 1, taskKind: nil), tier: .medium, model: "(lease)",
                createdAt: now, dayKey: l.day, monthKey: l.month, estimatedInput: 0, estimatedOutput: 0, estimatedCost: u, critical: false,
                reason: SelectionReason(rawValue: "lease-expired"), tags: LedgerStore.encodeTags(["bats_lease": String(l.id), "bats_host": l.host]),
                scopes: l.scopes.joined(separator: "\n"), configID: nil)
            let note = "lease \(l.id) of host \(l.host) expired after its time-to-live: its unaccounted room is charged"
            d.status = .expired
            d.finishedAt = now
            d.error = note
            let flags = EntryFlags.chargedAtExpiry.rawValue
            let hash = d.hash(previous: head.1, chain: chain)
            let seal = LedgerStore.sealHash(
                hash: hash, status: .expired, actualIn: 0, actualOut: 0, cached: nil, actualCost: u, estimated: true, finishedAt: now, overLimit: false,
                error: note, flags: flags, judgedAt: l.headAtGrant, chain: chain)
            insertEntry(
                d, prev: head.1, hash: hash, seal: seal, origin: nil,
                closing: Closing(actualIn: 0, actualOut: 0, actualCost: u, estimated: true, flags: flags, judgedAt: l.headAtGrant), into: &q)
            head = (id, hash)
            var q3 = SQLBuilder()
            q3.add("UPDATE budget_lease SET status = 'expired', ended_at = \(q3.bind(now)), charged = \(q3.bind(u)), charge_entry = \(q3.bind(id)) WHERE id = \(q3.bind(l.id))")
            try await c.query(q3.query, logger: logger)
        }
        try await c.query(q.query, logger: logger)
        var qw = SQLBuilder()
        writeWindows(rows.filter { before[$0.key] != $0.value }, into: &qw)
        writeHead(head.0, head.1, into: &qw)
        try await c.query(qw.query, logger: logger)
        logger.debug("leases expired", metadata: ["count": "\(expired.count)"])
        return expired.count
    }
}
