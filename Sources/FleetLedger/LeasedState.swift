import ModelSelection
import SpendLedger
import Synchronization

/// Which lease a call reserves against: one per set of scopes and window.
struct LeaseKey: Hashable, Sendable {
    var scopes: [String]
    var day: String
    var month: String
}

/// A lease as the host accounts for it: what the server knows it consumed, what the host spent since its last flush,
/// and what calls in flight hold. Its room is what is left for new holds.
struct LocalLease: Sendable {
    var grant: LeaseGrant
    /// Consumed on the server as of the last flush.
    var flushedConsumed: Int64 = 0
    /// Settled locally, not flushed yet.
    var spentUnflushed: Int64 = 0
    /// Held by open calls.
    var held: Int64 = 0
    /// A lease of one call's estimate (near the end of a budget): given back as soon as its call ends.
    var single: Bool
    var lastUse: Int64
    /// The server expired it (the host was away past its time-to-live): no new holds.
    var expiredOnServer = false

    var unlimited: Bool { grant.id == nil }
    var room: Int64 { unlimited ? .max : grant.granted - flushedConsumed - spentUnflushed - held }
}

/// The selector's view of the budget between transactions: the server's snapshot at the host's last lease, plus
/// what the host itself has held since.
struct BudgetView: Sendable {
    var snapshot: BudgetSnapshot
    var usedSince: Int64 = 0

    var current: BudgetSnapshot {
        var s = snapshot
        let used = MicroDollars(micros: usedSince)
        s.daily.reserved = s.daily.reserved.saturatingAdd(used)
        s.monthly.reserved = s.monthly.reserved.saturatingAdd(used)
        for i in s.scopes.indices {
            s.scopes[i].daily.reserved = s.scopes[i].daily.reserved.saturatingAdd(used)
            s.scopes[i].monthly.reserved = s.scopes[i].monthly.reserved.saturatingAdd(used)
        }
        return s
    }
}

extension MicroDollars {
    /// `self + other`, saturating (a view, never money recorded).
    func saturatingAdd(_ other: MicroDollars) -> MicroDollars {
        let (v, o) = rawValue.addingReportingOverflow(other.rawValue)
        return MicroDollars(micros: o ? .max : v)
    }
}

/// The host's state, behind one lock.
final class LeasedState: Sendable {
    struct Local: Sendable {
        var nextSeq: Int64
        var leases: [LeaseKey: LocalLease] = [:]
        /// Leases replaced by newer ones (or left by an earlier run): given back once their calls have ended and flushed.
        var retired: [Int64: LocalLease] = [:]
        var open: [Int64: LocalCall] = [:]
        var pending: [(Int64, LocalCall)] = []
        var views: [[String]: BudgetView] = [:]
        var policy: LeasePolicy
        var lastFlush: Int64 = .min
        /// The server failed as unreachable: until then, skip it (critical calls are journaled, others refused).
        var downUntil: Int64 = .min
        /// Calls reserved locally and the server transactions this host ran (statistics).
        var localReservations = 0

        init(nextSeq: Int64, policy: LeasePolicy) {
            self.nextSeq = nextSeq
            self.policy = policy
        }

        /// The lease a call was held against, wherever it is kept.
        mutating func withLease(_ id: Int64?, _ key: LeaseKey?, _ body: (inout LocalLease) -> Void) {
            if let id {
                if var l = retired[id] {
                    body(&l)
                    retired[id] = l
                    return
                }
                if let k = leases.first(where: { $0.value.grant.id == id })?.key, var l = leases[k] {
                    body(&l)
                    leases[k] = l
                }
            } else if let key, var l = leases[key] {
                body(&l)
                leases[key] = l
            }
        }
    }

    let state: Mutex<Local>

    init(_ local: Local) { state = Mutex(local) }

    /// Ends an open call: `update` fills in how, its lease's hold becomes spend, and it waits for the next flush.
    func finish(_ seq: Int64, at now: Int64, _ update: (inout LocalCall) -> Void) throws -> (Int64, LocalCall) {
        try state.withLock { s in
            guard var c = s.open.removeValue(forKey: seq) else {
                throw LedgerError(kind: .unknownReservation, message: "no open reservation has id \(-seq) on this host")
            }
            update(&c)
            c.finishedAt = now
            let est = c.estCost, charge = c.charge
            if !c.critical {
                s.withLease(c.leaseID, c.leaseID == nil ? LeaseKey(scopes: c.scopes, day: c.dayKey, month: c.monthKey) : nil) { l in
                    l.held -= est
                    l.spentUnflushed += charge
                    l.lastUse = now
                }
            }
            s.pending.append((seq, c))
            return (seq, c)
        }
    }
}
