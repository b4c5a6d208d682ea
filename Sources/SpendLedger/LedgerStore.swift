package import Foundation
import GRDB
package import ModelSelection

/// The ledger's operations on one open transaction. Every statement is cached and parameterised.
package enum LedgerStore {
    package static let genesisHash = String(repeating: "0", count: 64)

    package static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    package static func date(_ micros: Int64) -> Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }

    /// ``Settlement/maxCost`` in micro-dollars.
    package static let maxCallCost: Int64 = Settlement.maxCost.rawValue

    /// `a + b`, or ``LedgerError/Kind/invalidAmount`` when it does not fit 64 bits.
    static func checkedSum(_ a: MicroDollars, _ b: MicroDollars) throws -> MicroDollars {
        let (v, o) = a.rawValue.addingReportingOverflow(b.rawValue)
        if o { throw LedgerError(kind: .invalidAmount, message: "the sum of \(a) and \(b) does not fit in 64 bits") }
        return MicroDollars(micros: v)
    }

    /// The windows containing a moment, in a zone.
    typealias Windows = (day: BudgetCalendar.Window, month: BudgetCalendar.Window)

    /// What the ledger's operations share across transactions: how the chain is hashed, the scope configurations
    /// read, and the alerts known to be recorded.
    struct Context: Sendable {
        var chain: ChainHasher
        var scopeConfigs: ScopeConfigCache
        var alertLog: AlertLog
    }

    // MARK: - Snapshot

    /// A window of the snapshot from its running totals.
    static func snapshotWindow(_ w: LedgerBatchCache.Window, key: String, limit: MicroDollars?) -> BudgetSnapshot.Window {
        BudgetSnapshot.Window(
            key: key, limit: limit, settled: .init(micros: w.settled), reserved: .init(micros: w.reserved), criticalSettled: .init(micros: w.criticalSettled))
    }

    /// The global windows and those of `scopes`, with the limits in force.
    static func snapshot(
        _ db: Database, windows w: Windows, limits: BudgetLimits, scopes: [BudgetScope], cache: inout LedgerBatchCache
    ) throws -> BudgetSnapshot {
        let d = try cache.window(db, period: "day", key: w.day.key), m = try cache.window(db, period: "month", key: w.month.key)
        var snapshot = BudgetSnapshot(
            daily: snapshotWindow(d, key: w.day.key, limit: limits.daily), monthly: snapshotWindow(m, key: w.month.key, limit: limits.monthly))
        if !scopes.isEmpty {
            snapshot.scopes.reserveCapacity(scopes.count)
            for s in scopes {
                let sd = try cache.window(db, scope: s.name, period: "day", key: w.day.key)
                let sm = try cache.window(db, scope: s.name, period: "month", key: w.month.key)
                snapshot.scopes.append(.init(
                    name: s.name, daily: snapshotWindow(sd, key: w.day.key, limit: s.daily), monthly: snapshotWindow(sm, key: w.month.key, limit: s.monthly)))
            }
        }
        return snapshot
    }

    // MARK: - Reserve

    /// The budget state in force: from the batch's cache, or read in this transaction.
    static func state(_ db: Database, cache: inout LedgerBatchCache) throws -> LedgerState {
        if let s = cache.state { return s }
        let s = try LedgerState.read(db)
        cache.state = s
        return s
    }

    /// The scopes and thresholds in force (read once per process per recorded configuration).
    static func scopeConfig(_ db: Database, _ context: Context, cache: inout LedgerBatchCache) throws -> ScopeConfig {
        if let c = cache.scopeConfig { return c }
        let c = try context.scopeConfigs.config(db, try state(db, cache: &cache).configID)
        cache.scopeConfig = c
        return c
    }

    static func reserve(
        _ db: Database, _ request: ReservationRequest, at date: Date, windows: (_ zone: String) throws -> Windows,
        configuration c: SQLiteLedger.Configuration, context: Context, expiring: OpenReservationTracker?, cache: inout LedgerBatchCache,
        choose: (BudgetSnapshot) -> Selection
    ) throws -> ReservationOutcome {
        let now = micros(date)
        if let expiring { _ = try expiring.reclaim(db, now: now, cache: &cache, chain: c.chain) }
        let state = try self.state(db, cache: &cache)
        let config = try scopeConfig(db, context, cache: &cache)
        let w = try windows(state.zone(at: now))
        let limits = state.limits
        var call = request.scopedCall
        var scopes = config.scopes(for: call)
        var snapshot = try self.snapshot(db, windows: w, limits: limits, scopes: scopes, cache: &cache)
        let selection = choose(snapshot)
        if call.tier != selection.tier {
            // The request did not name the tier the selection ran at: the scopes of that tier count too.
            call.tier = selection.tier
            let again = config.scopes(for: call)
            if again != scopes {
                scopes = again
                snapshot = try self.snapshot(db, windows: w, limits: limits, scopes: scopes, cache: &cache)
            }
        }
        // Inside one batch transaction nobody else writes, so the chain head is carried from the previous insert.
        let (lastID, prevHash) = try cache.chainHead ?? lastEntry(db)
        let id = lastID + 1
        let tags = encodeTags(request.tags)
        let critical = selection.tier == .critical
        let scopeNames = scopes.map(\.name)

        var draft = EntryDraft(
            id: id, request: request, tier: selection.tier, model: selection.model?.rawValue ?? "", createdAt: now, dayKey: w.day.key,
            monthKey: w.month.key, estimatedInput: selection.inputTokens, estimatedOutput: 0, estimatedCost: 0, critical: critical,
            reason: selection.reason, tags: tags, scopes: scopeNames.joined(separator: "\n"), callerKey: request.callerKey,
            boundBy: (selection.boundBy ?? selection.refusal?.binding)?.description, configID: state.configID)

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
            cache.chainHead = (id, hash)
            return .refused(selection, snapshot: snapshot, entryID: id)
        }

        let estimate = selection.estimate
        guard estimate.rawValue >= 0, estimate.rawValue <= maxCallCost else {
            throw LedgerError(kind: .invalidAmount, message: "an estimate of \(estimate) for \(model) cannot be reserved (the ceiling for one call is \(MicroDollars(micros: maxCallCost)))")
        }
        if !critical {
            // Every window of the call, global and scoped, checked in this transaction: the selection's own check
            // is only as good as the snapshot it was given.
            for (scope, isDaily, window) in snapshot.allWindows {
                if let remaining = window.remaining, estimate > remaining {
                    throw LedgerError(
                        kind: .wouldExceedBudget,
                        message: "reserving \(estimate) for \(model) would pass the limit of \(scope.map { "scope \($0)" } ?? "the global budget")'s \(isDaily ? "day" : "month") \(window.key) (remaining \(remaining))")
                }
            }
        }
        let criticalAmount = critical ? estimate.rawValue : 0
        func hold(_ win: inout LedgerBatchCache.Window, _ limit: Int64?) {
            win.limit = limit
            win.reserved += estimate.rawValue
            win.criticalReserved += criticalAmount
        }
        let day = try cache.change(db, period: "day", key: w.day.key) { hold(&$0, limits.daily?.rawValue) }
        let month = try cache.change(db, period: "month", key: w.month.key) { hold(&$0, limits.monthly?.rawValue) }
        try checkThresholds(db, scope: "", day: (w.day.key, day), month: (w.month.key, month), config: config, entryID: id, now: now, context: context, cache: &cache)
        for s in scopes {
            let sd = try cache.change(db, scope: s.name, period: "day", key: w.day.key) { hold(&$0, s.daily?.rawValue) }
            let sm = try cache.change(db, scope: s.name, period: "month", key: w.month.key) { hold(&$0, s.monthly?.rawValue) }
            try checkThresholds(db, scope: s.name, day: (w.day.key, sd), month: (w.month.key, sm), config: config, entryID: id, now: now, context: context, cache: &cache)
        }

        // Never before the call's own deadline: a call still in flight is not abandoned.
        let expires = now &+ micros(max(c.reservationTimeToLive, request.callDeadline ?? .zero))
        let inputTokens = selection.inputTokens
        draft.estimatedOutput = selection.maxOutputTokens
        draft.estimatedCost = estimate.rawValue
        draft.expiresAt = expires
        let hash = draft.hash(previous: prevHash, chain: c.chain)
        try draft.insert(db, previous: prevHash, hash: hash, seal: nil)
        cache.chainHead = (id, hash)
        cache.setOpen(id, OpenEntry(
            status: .reserved, estCost: estimate.rawValue, estIn: inputTokens, estOut: selection.maxOutputTokens, critical: critical, day: w.day.key,
            month: w.month.key, hash: hash, flags: [], scopes: scopeNames))
        return .reserved(Reservation(
            id: id, model: model, selection: selection, snapshot: snapshot, dayKey: w.day.key, monthKey: w.month.key, scopes: scopeNames))
    }

    package static func refusalText(_ s: Selection) -> String { s.refusal?.summary ?? "refused" }

    /// A duration in whole microseconds, saturating (a time-to-live of centuries is still a valid one).
    package static func micros(_ d: Duration) -> Int64 {
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
}
