import Foundation
import Logging
import ModelSelection
import PostgresNIO
import SpendLedger

extension PostgresStore {
    /// The configuration's scopes, read once per process per recorded configuration.
    static func scopeConfig(_ c: PostgresConnection, _ st: PGState, ledger: PostgresLedger) async throws -> ScopeConfig {
        if let cached = ledger.shared.config(st.configID) { return cached }
        let config = try await loadScopeConfig(c, st.configID, ledger.logger)
        if let id = st.configID { ledger.shared.keep(config, id) }
        var limits = st.limits
        limits.scopes = config.scopes
        limits.alerts = config.alerts
        ledger.shared.saw(limits, zone: st.zone ?? "UTC", configID: st.configID)
        return config
    }

    /// The snapshot of the global windows and `scopes`' from their totals.
    static func snapshot(_ rows: [WKey: WRow], day: String, month: String, limits: BudgetLimits, scopes: [BudgetScope]) -> BudgetSnapshot {
        func w(_ scope: String, _ period: String, _ key: String, _ limit: MicroDollars?) -> BudgetSnapshot.Window {
            (rows[WKey(scope: scope, period: period, key: key)] ?? WRow()).snapshot(key: key, limit: limit)
        }
        var s = BudgetSnapshot(daily: w("", "day", day, limits.daily), monthly: w("", "month", month, limits.monthly))
        for sc in scopes {
            s.scopes.append(.init(name: sc.name, daily: w(sc.name, "day", day, sc.daily), monthly: w(sc.name, "month", month, sc.monthly)))
        }
        return s
    }

    static func reserve(
        _ c: PostgresConnection, _ request: ReservationRequest, at date: Date, ledger: PostgresLedger,
        choose: @Sendable (BudgetSnapshot) -> Selection
    ) async throws -> ReservationOutcome {
        let (outcome, alerts) = try await hold(c, request, at: date, ledger: ledger, choose: choose)
        ledger.shared.alertsCommitted(alerts)
        return outcome
    }

    /// Reserves in the open transaction, returning the alert keys its holds fired: the caller marks them fired once
    /// the transaction is sure to commit (a council's rolled-back members must not silence a later alert).
    static func hold(
        _ c: PostgresConnection, _ request: ReservationRequest, at date: Date, ledger: PostgresLedger,
        choose: @Sendable (BudgetSnapshot) -> Selection
    ) async throws -> (ReservationOutcome, Set<String>) {
        let logger = ledger.logger
        let now = LedgerStore.micros(date)
        let st = try await state(c, lock: true, logger)
        var head = (st.headID, st.headHash)
        if ledger.shared.expiryDue(now) { _ = try await reclaim(c, now: now, head: &head, ledger: ledger) }
        let config = try await scopeConfig(c, st, ledger: ledger)
        let cal = try ledger.shared.calendar(st.zone(at: now))
        let day = cal.day(containing: date).key, month = cal.month(containing: date).key
        let limits = st.limits
        var call = request.scopedCall
        var scopes = config.scopes(for: call)
        var rows = try await windows(c, day: day, month: month, scopes: scopes.map(\.name), logger)
        var snap = snapshot(rows, day: day, month: month, limits: limits, scopes: scopes)
        let selection = choose(snap)
        if call.tier != selection.tier {
            call.tier = selection.tier
            let again = config.scopes(for: call)
            if again != scopes {
                scopes = again
                rows = try await windows(c, day: day, month: month, scopes: scopes.map(\.name), logger)
                snap = snapshot(rows, day: day, month: month, limits: limits, scopes: scopes)
            }
        }
        let id = head.0 + 1
        let critical = selection.tier == .critical
        let scopeNames = scopes.map(\.name)
        var draft = EntryDraft(
            id: id, request: request, tier: selection.tier, model: selection.model?.rawValue ?? "", createdAt: now, dayKey: day, monthKey: month,
            estimatedInput: selection.inputTokens, estimatedOutput: 0, estimatedCost: 0, critical: critical, reason: selection.reason,
            tags: LedgerStore.encodeTags(request.tags), scopes: scopeNames.joined(separator: "\n"), callerKey: request.callerKey,
            boundBy: (selection.boundBy ?? selection.refusal?.binding)?.description, configID: st.configID)
        let chain = ChainHasher(key: ledger.configuration.chainKey)
        var q = SQLBuilder()
        guard let model = selection.model else {
            let note = LedgerStore.refusalText(selection)
            draft.status = .refused
            draft.error = note
            draft.finishedAt = now
            let hash = draft.hash(previous: head.1, chain: chain)
            let seal = LedgerStore.sealHash(
                hash: hash, status: .refused, actualIn: nil, actualOut: nil, cached: nil, actualCost: nil, estimated: false, finishedAt: now,
                overLimit: false, error: note, flags: 0, chain: chain)
            insertEntry(draft, prev: head.1, hash: hash, seal: seal, origin: nil, into: &q)
            writeHead(id, hash, into: &q)
            try await c.query(q.query, logger: logger)
            return (.refused(selection, snapshot: snap, entryID: id), [])
        }
        let estimate = selection.estimate
        guard estimate.rawValue >= 0, estimate.rawValue <= LedgerStore.maxCallCost else {
            throw LedgerError(
                kind: .invalidAmount,
                message: "an estimate of \(estimate) for \(model) cannot be reserved (the ceiling for one call is \(MicroDollars(micros: LedgerStore.maxCallCost)))")
        }
        if !critical {
            for (scope, isDaily, window) in snap.allWindows {
                if let remaining = window.remaining, estimate > remaining {
                    throw LedgerError(
                        kind: .wouldExceedBudget,
                        message: "reserving \(estimate) for \(model) would pass the limit of \(scope.map { "scope \($0)" } ?? "the global budget")'s \(isDaily ? "day" : "month") \(window.key) (remaining \(remaining))")
                }
            }
        }
        var alerts = AlertBatch(entryID: id, now: now)
        var changed: [WKey: WRow] = [:]
        func hold(_ k: WKey, _ limit: MicroDollars?) {
            var w = rows[k] ?? WRow()
            w.limit = limit?.rawValue
            w.reserved += estimate.rawValue
            if critical { w.criticalReserved += estimate.rawValue }
            changed[k] = w
        }
        hold(WKey(scope: "", period: "day", key: day), limits.daily)
        hold(WKey(scope: "", period: "month", key: month), limits.monthly)
        for s in scopes {
            hold(WKey(scope: s.name, period: "day", key: day), s.daily)
            hold(WKey(scope: s.name, period: "month", key: month), s.monthly)
        }
        for (k, w) in changed { alerts.checkThresholds(k, w, config: config, ledger: ledger) }
        let expires = now &+ LedgerStore.micros(max(ledger.configuration.reservationTimeToLive, request.callDeadline ?? .zero))
        draft.estimatedOutput = selection.maxOutputTokens
        draft.estimatedCost = estimate.rawValue
        draft.expiresAt = expires
        let hash = draft.hash(previous: head.1, chain: chain)
        insertEntry(draft, prev: head.1, hash: hash, seal: nil, origin: nil, into: &q)
        writeWindows(changed, into: &q)
        alerts.write(into: &q)
        writeHead(id, hash, into: &q)
        try await c.query(q.query, logger: logger)
        return (.reserved(Reservation(id: id, model: model, selection: selection, snapshot: snap, dayKey: day, monthKey: month, scopes: scopeNames)), alerts.keys)
    }

    /// What a finished entry records besides its reservation fields.
    struct Closing {
        var actualIn: Int64? = nil
        var actualOut: Int64? = nil
        var cached: Int64? = nil
        var actualCost: Int64? = nil
        var estimated = false
        var overLimit = false
        var flags: Int64 = 0
        /// Where the audit judges the entry (a leased call: the chain head when its lease was granted).
        var judgedAt: Int64? = nil
    }

    /// The entry's INSERT.
    static func insertEntry(_ d: EntryDraft, prev: String, hash: String, seal: String?, origin: String?, closing: Closing = .init(), into q: inout SQLBuilder) {
        let values = [
            q.bind(d.id), q.bind(d.request.requestID), q.bind(Int64(d.request.attempt)), q.bindOpt(d.request.taskKind), q.bind(d.tier.rawValue),
            q.bind(d.model), q.bind(d.createdAt), q.bindOpt(d.finishedAt), q.bindOpt(d.expiresAt), q.bind(d.dayKey), q.bind(d.monthKey),
            q.bind(Int64(d.estimatedInput)), q.bind(Int64(d.estimatedOutput)), q.bind(d.estimatedCost), q.bind(d.status.rawValue),
            q.bind(Int64(d.critical ? 1 : 0)), q.bind(d.reason.rawValue), q.bind(d.tags), q.bindOpt(d.error), q.bind(prev), q.bind(hash),
            q.bindOpt(seal), q.bindOpt(d.configID), q.bind(d.scopes), q.bindOpt(d.callerKey), q.bindOpt(d.boundBy), q.bindOpt(origin),
            q.bindOpt(closing.actualIn), q.bindOpt(closing.actualOut), q.bindOpt(closing.cached), q.bindOpt(closing.actualCost),
            q.bind(Int64(closing.estimated ? 1 : 0)), q.bind(Int64(closing.overLimit ? 1 : 0)), q.bind(closing.flags), q.bindOpt(closing.judgedAt),
        ]
        q.add("""
            INSERT INTO entry (id, request_id, attempt, task_kind, tier, model, created_at, finished_at, expires_at, day_key, month_key,
                est_input_tokens, est_output_tokens, est_cost, status, critical, reason, tags, error, prev_hash, hash, seal, config_id, scopes,
                caller_key, bound_by, origin, actual_input_tokens, actual_output_tokens, cached_input_tokens, actual_cost, usage_estimated,
                over_limit, flags, judged_at)
            VALUES (\(values.joined(separator: ", ")))
            """)
    }

    /// The snapshot (every configured scope's windows), reclaiming expired reservations and leases first.
    static func snapshot(_ c: PostgresConnection, at date: Date, ledger: PostgresLedger) async throws -> BudgetSnapshot {
        let now = LedgerStore.micros(date)
        let st = try await state(c, lock: true, ledger.logger)
        var head = (st.headID, st.headHash)
        _ = try await reclaim(c, now: now, head: &head, ledger: ledger)
        let config = try await scopeConfig(c, st, ledger: ledger)
        let cal = try ledger.shared.calendar(st.zone(at: now))
        let day = cal.day(containing: date).key, month = cal.month(containing: date).key
        let rows = try await windows(c, day: day, month: month, scopes: config.scopes.map(\.name), ledger.logger)
        return snapshot(rows, day: day, month: month, limits: st.limits, scopes: config.scopes)
    }
}
