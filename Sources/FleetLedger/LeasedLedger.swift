public import Foundation
public import Logging
public import ModelSelection
public import SpendLedger
import Synchronization

/// A host's view of a shared ``PostgresLedger`` that reserves locally against budget leases.
///
/// A lease is a slice of what a window has left, taken in one PostgreSQL transaction (``LeasePolicy`` sizes it);
/// calls then reserve and settle against it in memory and in the host's journal (an SQLite file), and their entries
/// reach PostgreSQL in batches (one transaction per ``Configuration/flushEvery`` calls or per
/// ``Configuration/flushInterval``), which also renew the leases in use and give back the ones no longer needed.
/// On the server, settled + reserved + leased ≤ limit in every window and scope (docs/ledger.md, "Budget leases").
///
/// - Critical calls reserve directly on PostgreSQL (never refused); when it is unreachable they are journaled on the
///   host and written once when it returns.
/// - Non-critical calls that need the server while it is unreachable are refused (`unreachable`): fail closed.
/// - A host that dies leaves its leases to expire after ``Configuration/leaseTimeToLive``; their unaccounted room is
///   charged. Started again with the same journal, it writes the calls it ran, which corrects the charge.
///
/// Reservation ids of local calls are negative (`-sequence`); their entries carry the origin `HOST:RUN:SEQUENCE`.
public struct LeasedLedger: BudgetLedger {
    /// The host, its journal, and how leases are sized, renewed and flushed.
    public struct Configuration: Sendable {
        /// The host's name (unique in the fleet; it names the leases and the entries' origins).
        public var host: String
        /// The journal file (created if missing; one per host, on local disk).
        public var journalPath: String
        /// How leases are sized.
        public var policy: LeasePolicy.Configuration
        /// How long a lease lives on the server without renewal.
        public var leaseTimeToLive: Duration
        /// Finished calls that trigger a flush (one flush writes up to four times this, at least 200, of what is pending).
        public var flushEvery: Int
        /// The longest a finished call waits before a flush (checked on each call and by ``run()``).
        public var flushInterval: Duration
        /// A lease unused this long is given back.
        public var idleReturn: Duration

        /// Creates a configuration.
        public init(
            host: String, journalPath: String, policy: LeasePolicy.Configuration = .init(), leaseTimeToLive: Duration = .seconds(30),
            flushEvery: Int = 100, flushInterval: Duration = .seconds(1), idleReturn: Duration = .seconds(5)
        ) {
            self.host = host
            self.journalPath = journalPath
            self.policy = policy
            self.leaseTimeToLive = leaseTimeToLive
            self.flushEvery = flushEvery
            self.flushInterval = flushInterval
            self.idleReturn = idleReturn
        }
    }

    /// The shared ledger.
    public let remote: PostgresLedger
    /// The configuration.
    public let configuration: Configuration
    let journal: HostJournal
    let box: LeasedState
    /// `HOST:RUN`, the prefix of this run's origins: a run token drawn at open keeps them unique across restarts (the
    /// journal forgets flushed calls, so sequence numbers start again) and between two processes given one name.
    let originPrefix: String
    let acquiring = AsyncGate()
    let flushing = AsyncGate()
    let logger: Logger

    /// The shared ledger's limits.
    public var limits: BudgetLimits { remote.limits }
    /// The shared ledger's calendar.
    public var calendar: BudgetCalendar { remote.calendar }

    /// Opens the host's journal; calls and leases an earlier run left are written to the shared ledger (open calls
    /// charged at their estimate) and its leases given back. If the server is unreachable they wait for the next flush.
    public static func open(remote: PostgresLedger, configuration: Configuration, now: Date = Date(), logger: Logger? = nil) async throws -> LeasedLedger {
        guard !configuration.host.isEmpty, !configuration.host.contains(":") else {
            throw LedgerError(kind: .invalidConfiguration, message: "a leased ledger needs a host name without ':' (got '\(configuration.host)')")
        }
        guard configuration.leaseTimeToLive > .zero, configuration.flushEvery > 0 else {
            throw LedgerError(kind: .invalidConfiguration, message: "lease time-to-live and flush batch must be positive")
        }
        let journal = try HostJournal(path: configuration.journalPath)
        let left = try journal.contents()
        let box = LeasedState(LeasedState.Local(nextSeq: try journal.lastSequence() + 1, policy: LeasePolicy(configuration: configuration.policy)))
        let ledger = LeasedLedger(
            remote: remote, configuration: configuration, journal: journal, box: box,
            originPrefix: "\(configuration.host):\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())",
            logger: logger ?? Logger(label: "bats.ledger.leased", factory: { _ in SwiftLogNoOpLogHandler() }))
        let at = LedgerStore.micros(now)
        var recovered: [(Int64, LocalCall)] = []
        for (seq, open, call) in left.calls {
            var c = call
            if open {
                c.status = EntryStatus.expired.rawValue
                c.finishedAt = at
                c.actualIn = c.estIn
                c.actualOut = c.estOut
                c.actualCost = c.estCost
                c.estimated = true
                c.flags |= EntryFlags.chargedAtExpiry.rawValue
                c.error = "the host stopped before the call finished: charged at its estimate"
                try await journal.put(seq, c, open: false)
            }
            recovered.append((seq, c))
        }
        box.state.withLock { s in
            s.pending = recovered
            for g in left.leases { if let id = g.id { s.retired[id] = LocalLease(grant: g, single: false, lastUse: at) } }
        }
        if !recovered.isEmpty || !left.leases.isEmpty {
            do { try await ledger.flush(at: now) } catch let e as LedgerError where e.kind == .unreachable {
                ledger.logger.warning("ledger database unreachable: the journal's calls wait for the next flush", metadata: ["calls": "\(recovered.count)"])
            }
        }
        return ledger
    }

    init(remote: PostgresLedger, configuration: Configuration, journal: HostJournal, box: LeasedState, originPrefix: String, logger: Logger) {
        self.remote = remote
        self.configuration = configuration
        self.journal = journal
        self.box = box
        self.originPrefix = originPrefix
        self.logger = logger
    }

    // MARK: - BudgetLedger

    /// Reserves against the host's lease for the call's scopes, taking a new lease from the server (one transaction)
    /// when it has no room; critical calls reserve on the server directly.
    public func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        if let local = try await reserveLocally(request, at: date, choose: choose) { return local }
        return try await acquiring.withGate {
            // Another call may have taken a lease while this one waited.
            if let local = try await reserveLocally(request, at: date, choose: choose) { return local }
            return try await reserveThroughServer(request, at: date, choose: choose)
        }
    }

    /// Settles a call: locally (its lease and the journal), or on the server for a critical call reserved there.
    public func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        if reservationID > 0 { return try await remote.settle(reservationID, settlement, at: date) }
        guard settlement.cost.rawValue >= 0, settlement.cost.rawValue <= LedgerStore.maxCallCost else {
            throw LedgerError(kind: .invalidAmount, message: "a cost of \(settlement.cost) cannot be settled on reservation \(reservationID)")
        }
        guard settlement.inputTokens >= 0, settlement.outputTokens >= 0, (settlement.cachedInputTokens ?? 0) >= 0 else {
            throw LedgerError(kind: .invalidAmount, message: "negative token counts cannot be settled on reservation \(reservationID)")
        }
        let now = LedgerStore.micros(date)
        let (seq, call) = try box.finish(-reservationID, at: now) { c in
            var flags = settlement.flags
            if settlement.cost.rawValue > c.estCost { flags.insert(.overReservation) }
            c.status = EntryStatus.settled.rawValue
            c.actualIn = Int64(settlement.inputTokens)
            c.actualOut = Int64(settlement.outputTokens)
            c.cached = settlement.cachedInputTokens.map(Int64.init)
            c.actualCost = settlement.cost.rawValue
            c.estimated = settlement.estimated
            c.flags = flags.rawValue
            c.error = settlement.note ?? (flags.contains(.overReservation) ? "cost \(settlement.cost) passed the reserved estimate \(MicroDollars(micros: c.estCost))" : nil)
        }
        try await journal.put(seq, call, open: false)
        try await flushIfDue(at: date)
        return SettlementReceipt(
            entryID: reservationID, cost: settlement.cost, usageEstimated: settlement.estimated, overLimit: false, flags: EntryFlags(rawValue: call.flags))
    }

    /// Frees a call's hold (locally, or on the server for a critical call reserved there).
    public func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        if reservationID > 0 { return try await remote.release(reservationID, error: error, at: date) }
        let (seq, call) = try box.finish(-reservationID, at: LedgerStore.micros(date)) { c in
            c.status = EntryStatus.released.rawValue
            c.error = error
        }
        try await journal.put(seq, call, open: false)
        try await flushIfDue(at: date)
    }

    /// The server's windows after writing what this host has pending (two transactions: not for the hot path).
    public func snapshot(at date: Date) async throws -> BudgetSnapshot {
        try await flush(at: date)
        return try await remote.snapshot(at: date)
    }

    /// What the host holds now (for tests and reports).
    public var holdings: (openCalls: Int, pendingCalls: Int, leases: Int, leasedRoom: Int64) {
        box.state.withLock { s in
            let all = Array(s.leases.values) + Array(s.retired.values)
            return (s.open.count, s.pending.count, all.filter { $0.grant.id != nil }.count, all.reduce(0) { $0 + max(0, $1.room) })
        }
    }
}
