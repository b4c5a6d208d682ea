public import Foundation
import SpendLedger

extension LeasedLedger {
    /// What one flush sends: calls to write, leases to renew, leases to give back.
    struct FlushPlan {
        var calls: [(Int64, LocalCall)]
        var renew: [Int64]
        var giveBack: [Int64]
        var isEmpty: Bool { calls.isEmpty && renew.isEmpty && giveBack.isEmpty }
    }

    /// Decides a flush, under the lock. Leases chosen to be given back leave the current set at once, so no call can
    /// be held on a lease the server is giving back.
    func plan(at now: Int64, all: Bool) -> FlushPlan {
        let ttl = LedgerStore.micros(configuration.leaseTimeToLive)
        let idle = LedgerStore.micros(configuration.idleReturn)
        let batch = all ? Int.max : max(configuration.flushEvery * 4, 200)
        let day = (try? callDay(at: now)) ?? ""
        return box.state.withLock { s in
            let calls = Array(s.pending.prefix(batch))
            let leftBehind = Set(s.pending.dropFirst(calls.count).compactMap(\.1.leaseID))
            var giveBack: [Int64] = []
            for (key, l) in s.leases {
                guard let id = l.grant.id, l.held == 0 else { continue }
                if all || l.single || l.expiredOnServer || key.day != day || now - l.lastUse >= idle, !leftBehind.contains(id) {
                    s.leases[key] = nil
                    s.retired[id] = l
                }
            }
            for (id, l) in s.retired where l.held == 0 && !leftBehind.contains(id) && !l.expiredOnServer { giveBack.append(id) }
            var renew: [Int64] = []
            for l in s.leases.values {
                if let id = l.grant.id, !l.expiredOnServer, l.grant.expiresAt - now < ttl / 2 { renew.append(id) }
            }
            for (id, l) in s.retired where l.held > 0 && !l.expiredOnServer && l.grant.expiresAt - now < ttl / 2 { renew.append(id) }
            // Leases of calls in this batch are read on the server anyway: renew them while there.
            for c in calls { if let id = c.1.leaseID, !giveBack.contains(id), !renew.contains(id) { renew.append(id) } }
            return FlushPlan(calls: calls, renew: renew, giveBack: giveBack.sorted())
        }
    }

    func callDay(at now: Int64) throws -> String {
        try remote.shared.calendar(remote.shared.zone).day(containing: LedgerStore.date(now)).key
    }

    /// Writes pending calls, renews leases near their expiry and gives back the ones not needed, in one transaction.
    /// - Parameter all: Everything pending, and every lease without calls in flight (closing).
    public func flush(at date: Date, all: Bool = false) async throws {
        try await flushing.withGate { try await flushHoldingGate(at: date, all: all) }
    }

    /// The flush, by the one task holding the flush gate.
    func flushHoldingGate(at date: Date, all: Bool) async throws {
        let now = LedgerStore.micros(date)
        let p = plan(at: now, all: all)
        if p.isEmpty { return }
        let states: [Int64: LeaseState]
        do {
            states = try await remote.flush(
                host: configuration.host, calls: p.calls.map(\.1), renew: p.renew, giveBack: p.giveBack, ttl: configuration.leaseTimeToLive, at: date)
        } catch let e as LedgerError where e.kind == .unreachable {
            noteDown(now)
            throw e
        }
        let flushed = Set(p.calls.map(\.0))
        var dropped: [Int64] = []
        box.state.withLock { s in
            s.pending.removeAll { flushed.contains($0.0) }
            for (_, c) in p.calls where !c.critical {
                s.withLease(c.leaseID, c.leaseID == nil ? LeaseKey(scopes: c.scopes, day: c.dayKey, month: c.monthKey) : nil) { $0.spentUnflushed -= c.charge }
            }
            for (id, st) in states {
                s.withLease(id, nil) { l in
                    l.flushedConsumed = st.consumed
                    l.grant.expiresAt = st.expiresAt
                    if st.status == "expired" { l.expiredOnServer = true }
                }
                if st.status == "returned" {
                    s.retired[id] = nil
                    if let k = s.leases.first(where: { $0.value.grant.id == id })?.key { s.leases[k] = nil }
                    dropped.append(id)
                } else if st.status == "expired", let l = s.retired[id] ?? s.leases.values.first(where: { $0.grant.id == id }), l.held == 0, l.spentUnflushed == 0 {
                    s.retired[id] = nil
                    if let k = s.leases.first(where: { $0.value.grant.id == id })?.key { s.leases[k] = nil }
                    dropped.append(id)
                }
            }
            s.lastFlush = now
        }
        try await journal.remove(Array(flushed))
        try await journal.removeLeases(dropped)
    }

    /// Flushes when a batch is full, the interval has passed, or a single-call lease can go back.
    func flushIfDue(at date: Date) async throws {
        let now = LedgerStore.micros(date)
        let interval = LedgerStore.micros(configuration.flushInterval)
        let due = {
            self.box.state.withLock { s in
                s.pending.count >= self.configuration.flushEvery || now.subtractingReportingOverflow(s.lastFlush).partialValue >= interval
                    || s.lastFlush == .min || s.leases.values.contains { $0.single && $0.held == 0 && $0.grant.id != nil }
            }
        }
        // Not while the server was unreachable moments ago: a call's settlement is in the journal, and `run()` or the
        // next due flush after the pause writes it.
        guard due(), box.state.withLock({ now >= $0.downUntil }) else { return }
        do {
            // Asked again inside the gate: calls that found a flush due while another ran wait for it, and then find
            // their calls written (without this, each would send a small flush of its own).
            try await flushing.withGate { if due() { try await flushHoldingGate(at: date, all: false) } }
        } catch let e as LedgerError where e.kind == .unreachable {
            // The calls stay in the journal; the next flush writes them.
            logger.warning("ledger database unreachable: calls wait in the host journal", metadata: ["error": "\(e.message)"])
        }
    }

    /// One round of upkeep at `date`: flush what is due, renew leases near expiry, give back idle ones.
    public func maintain(at date: Date) async throws { try await flush(at: date) }

    /// Keeps the leases renewed and the journal flushed until cancelled (run it beside the workload, e.g. in a task
    /// group or a ServiceLifecycle service); errors are logged and retried.
    public func run() async {
        let period = min(configuration.flushInterval, configuration.leaseTimeToLive / 4)
        while !Task.isCancelled {
            do { try await Task.sleep(for: period) } catch { return }
            do { try await maintain(at: Date()) } catch { logger.debug("leased ledger upkeep failed", metadata: ["error": "\(error)"]) }
        }
    }

    /// Writes everything pending and gives back every lease without calls in flight.
    public func close(at date: Date = Date()) async throws { try await flush(at: date, all: true) }
}
