import Foundation
import ModelSelection
import SpendLedger

extension LeasedLedger {
    /// The windows of a call and its scopes before selection, from what the server last told this process.
    func callContext(_ request: ReservationRequest, at date: Date) throws -> (day: String, month: String, config: ScopeConfig?, scopes: [String]) {
        let cal = try remote.shared.calendar(remote.shared.zone)
        let day = cal.day(containing: date).key, month = cal.month(containing: date).key
        let id = remote.shared.configID
        let config = id == nil ? ScopeConfig.none : remote.shared.config(id)
        return (day, month, config, config?.scopes(for: request.scopedCall).map(\.name) ?? [])
    }

    static func localCall(
        _ request: ReservationRequest, _ selection: Selection, seq: Int64, host: String, at now: Int64, day: String, month: String, scopes: [String],
        configID: Int64?, leaseID: Int64?
    ) -> LocalCall {
        LocalCall(
            origin: "\(host):\(seq)", requestID: request.requestID, attempt: request.attempt, taskKind: request.taskKind,
            tags: LedgerStore.encodeTags(request.tags), callerKey: request.callerKey, tier: selection.tier.rawValue, model: selection.model?.rawValue ?? "",
            createdAt: now, dayKey: day, monthKey: month, estIn: Int64(selection.inputTokens), estOut: Int64(selection.maxOutputTokens),
            estCost: selection.estimate.rawValue, critical: selection.tier == .critical, reason: selection.reason.rawValue, scopes: scopes,
            boundBy: (selection.boundBy ?? selection.refusal?.binding)?.description, configID: configID, status: EntryStatus.reserved.rawValue,
            finishedAt: nil, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, error: nil, flags: 0, leaseID: leaseID)
    }

    /// Holds the call on this host's lease when it has room; `nil` sends it to the server.
    func reserveLocally(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws -> ReservationOutcome? {
        let now = LedgerStore.micros(date)
        let ctx = try callContext(request, at: date)
        let view = box.state.withLock { $0.views[ctx.scopes] }
        // Critical is a property of the task, not of the budget: it never waits for a lease.
        let probe = choose(view?.current ?? .unlimited)
        if probe.tier == .critical { return try await reserveCritical(request, at: date, choose: choose, view: view?.current) }
        guard let view, let config = ctx.config else { return nil }
        let snapshot = view.current
        let selection = choose(snapshot)
        guard let model = selection.model, selection.estimate.rawValue >= 0, selection.estimate.rawValue <= LedgerStore.maxCallCost else { return nil }
        var call = request.scopedCall
        call.tier = selection.tier
        let scopes = config.scopes(for: call).map(\.name)
        let key = LeaseKey(scopes: scopes, day: ctx.day, month: ctx.month)
        let est = selection.estimate.rawValue
        let margin = LedgerStore.micros(configuration.leaseTimeToLive) / 4
        let host = originPrefix
        let held: (Int64, LocalCall)? = box.state.withLock { s in
            guard var lease = s.leases[key], !lease.expiredOnServer, lease.unlimited || now < lease.grant.expiresAt - margin, lease.room >= est else { return nil }
            lease.held += est
            lease.lastUse = now
            s.leases[key] = lease
            let seq = s.nextSeq
            s.nextSeq += 1
            s.policy.record(est, at: now)
            s.views[ctx.scopes]?.usedSince += est
            s.localReservations += 1
            let c = Self.localCall(request, selection, seq: seq, host: host, at: now, day: ctx.day, month: ctx.month, scopes: scopes, configID: remote.shared.configID, leaseID: lease.grant.id)
            s.open[seq] = c
            return (seq, c)
        }
        guard let (seq, c) = held else { return nil }
        try await journalOpen(seq, c, key: key)
        return .reserved(Reservation(id: -seq, model: model, selection: selection, snapshot: snapshot, dayKey: ctx.day, monthKey: ctx.month, scopes: scopes))
    }

    /// Writes an open call to the journal; if that fails the hold is undone.
    func journalOpen(_ seq: Int64, _ c: LocalCall, key: LeaseKey?) async throws {
        do {
            try await journal.put(seq, c, open: true)
        } catch {
            box.state.withLock { s in
                s.open[seq] = nil
                if !c.critical, let key { s.withLease(c.leaseID, key) { $0.held -= c.estCost } }
            }
            throw error
        }
    }

    /// Takes a lease for the call (one server transaction that also decides, on fresh totals, what fits).
    func reserveThroughServer(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        let now = LedgerStore.micros(date)
        let ctx = try callContext(request, at: date)
        if box.state.withLock({ now < $0.downUntil }) { throw failClosed("it was unreachable moments ago") }
        let policy = box.state.withLock { $0.policy }
        let outcome: LeaseAcquisition
        do {
            outcome = try await remote.acquireLease(
                request, at: date, host: configuration.host, ttl: configuration.leaseTimeToLive, size: { policy.size(available: $0, estimate: $1) },
                choose: choose)
        } catch let e as LedgerError where e.kind == .unreachable {
            noteDown(now)
            throw failClosed(e.message)
        }
        switch outcome {
        case .refused(let selection, let snapshot, let entryID):
            box.state.withLock { $0.views[ctx.scopes] = BudgetView(snapshot: snapshot) }
            return .refused(selection, snapshot: snapshot, entryID: entryID)
        case .leased(let grant, let selection, let snapshot, let configID):
            guard let model = selection.model else { throw LedgerError(kind: .database, message: "a lease was granted without a model") }
            let key = LeaseKey(scopes: grant.scopes, day: grant.dayKey, month: grant.monthKey)
            let est = selection.estimate.rawValue
            let host = originPrefix
            let exact = policy.size(available: grant.granted, estimate: est) == est && grant.granted == est
            let (seq, c) = box.state.withLock { s -> (Int64, LocalCall) in
                if let old = s.leases[key], let id = old.grant.id { s.retired[id] = old }
                s.leases[key] = LocalLease(grant: grant, held: est, single: exact, lastUse: now)
                let seq = s.nextSeq
                s.nextSeq += 1
                s.policy.record(est, at: now)
                s.policy.granted(grant.granted, at: now)
                s.views[ctx.scopes] = BudgetView(snapshot: snapshot, usedSince: est)
                let c = Self.localCall(request, selection, seq: seq, host: host, at: now, day: grant.dayKey, month: grant.monthKey, scopes: grant.scopes, configID: configID, leaseID: grant.id)
                s.open[seq] = c
                return (seq, c)
            }
            try await journal.putLease(grant)
            try await journalOpen(seq, c, key: key)
            return .reserved(Reservation(
                id: -seq, model: model, selection: selection, snapshot: snapshot, dayKey: grant.dayKey, monthKey: grant.monthKey, scopes: grant.scopes))
        }
    }

    /// A critical call: reserved on the server (never refused); journaled on the host when the server is unreachable.
    func reserveCritical(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection, view: BudgetSnapshot?)
        async throws -> ReservationOutcome
    {
        let now = LedgerStore.micros(date)
        if box.state.withLock({ now >= $0.downUntil }) {
            do {
                return try await remote.reserve(request, at: date, choose: choose)
            } catch let e as LedgerError where e.kind == .unreachable {
                noteDown(now)
                logger.warning("ledger database unreachable: a critical call is journaled on the host", metadata: ["request": "\(request.requestID)"])
            }
        }
        let ctx = try callContext(request, at: date)
        let selection = choose(view ?? .unlimited)
        guard let model = selection.model else { throw LedgerError(kind: .database, message: "a critical selection named no model") }
        var call = request.scopedCall
        call.tier = selection.tier
        let scopes = ctx.config?.scopes(for: call).map(\.name) ?? []
        let host = originPrefix
        let (seq, c) = box.state.withLock { s -> (Int64, LocalCall) in
            let seq = s.nextSeq
            s.nextSeq += 1
            let c = Self.localCall(request, selection, seq: seq, host: host, at: now, day: ctx.day, month: ctx.month, scopes: scopes, configID: remote.shared.configID, leaseID: nil)
            s.open[seq] = c
            return (seq, c)
        }
        try await journalOpen(seq, c, key: nil)
        return .reserved(Reservation(id: -seq, model: model, selection: selection, snapshot: view ?? .unlimited, dayKey: ctx.day, monthKey: ctx.month, scopes: scopes))
    }

    func noteDown(_ now: Int64) {
        box.state.withLock { $0.downUntil = now &+ 1_000_000 }
    }

    func failClosed(_ why: String) -> LedgerError {
        LedgerError(
            kind: .unreachable,
            message: "the ledger database is unreachable and this host's lease has no room, so non-critical calls are refused (fail closed): \(why)")
    }
}
