import GRDB
import Synchronization

/// Finds the open reservations of a ledger, to expire those past their time-to-live, without an index on them.
///
/// An index of open reservations would be written by every reserve and every settle: one more WAL page per commit,
/// about a tenth of a reserve+settle. Instead the ledger keeps one fact in `ledger_state.open_floor` (every entry
/// with a smaller id is finished) and each process keeps, in memory, what it saw at its last check:
///
/// - `floor`: every entry below it is finished;
/// - `scannedThrough`: every open entry from `floor` through it is in `open`.
///
/// A check reads only what changed since: entries after `scannedThrough` (a range of the rowid), and the
/// entries it knew open (one lookup each). Its cost follows the traffic since the last check and the number of
/// calls in flight, never the size of the ledger. Entries are only ever open when inserted, and ids only grow
/// (each is the largest plus one, in a write transaction), so this stays exact with several processes.
///
/// What a check learns is staged and kept only when its transaction commits (``transactionEnded(committed:)``):
/// a rolled-back transaction may have inserted entries whose ids will be used again.
final class OpenReservationTracker: Sendable {
    /// What one process knows of the ledger's open reservations.
    struct Scan: Sendable {
        /// Every entry with a smaller id is finished.
        var floor: Int64
        /// The floor last read from or written to `ledger_state`.
        var persistedFloor: Int64
        /// Every open entry with an id from ``floor`` through this one is in ``open``.
        var scannedThrough: Int64
        /// Open reservations seen: id → expiry (µs since 1970).
        var open: [Int64: Int64]
    }

    /// How far the floor advances before it is written back: writing it at every check would cost a page each time,
    /// and a process that opens the ledger only rescans this many more entries.
    static let persistStep: Int64 = 1024

    private let state = Mutex<(committed: Scan?, pending: Scan?)>((nil, nil))

    init() {}

    /// Keeps (on commit) or drops (on rollback) what the transaction's checks learned. Called by every write.
    func transactionEnded(committed: Bool) {
        state.withLock { s in
            if committed, let pending = s.pending { s.committed = pending }
            s.pending = nil
        }
    }

    /// What the open transaction's checks have learned so far (a savepoint of the tracker).
    func pendingMark() -> Scan? { state.withLock { $0.pending } }

    /// Forgets what was learned since `mark` (its savepoint was rolled back).
    func restorePending(_ mark: Scan?) { state.withLock { $0.pending = mark } }

    /// The known state, for tests.
    var committedScan: Scan? { state.withLock { $0.committed } }

    /// Expires the reservations whose time-to-live has passed at `now`, inside the caller's write transaction.
    /// - Returns: How many were expired.
    func reclaim(_ db: Database, now: Int64, cache: inout LedgerBatchCache, chain: ChainHasher) throws -> Int {
        var scan = try state.withLock { $0.pending ?? $0.committed } ?? Self.load(db)

        // Reservations known open at the last check: drop the finished ones.
        for id in Array(scan.open.keys) {
            let row = try SQLiteCall(db, "SELECT status = 'reserved' FROM entry WHERE id = ?")
            row.bind(1, id)
            let open = try row.next() && row.bool(0)
            row.finish()
            if !open { scan.open[id] = nil }
        }

        // Entries written since: a range of the rowid.
        let fresh = try SQLiteCall(db, "SELECT id, expires_at FROM entry WHERE id > ? AND status = 'reserved'")
        fresh.bind(1, scan.scannedThrough)
        while try fresh.next() { scan.open[fresh.int64(0)] = fresh.optionalInt64(1) ?? .min }
        let last = try SQLiteCall(db, "SELECT MAX(id) FROM entry")
        if try last.next() { scan.scannedThrough = max(scan.scannedThrough, last.int64(0)) }
        last.finish()

        var expired = 0
        for (id, _) in scan.open.filter({ $0.value < now }).sorted(by: { $0.key < $1.key }) {
            if try LedgerStore.expire(db, id, now: now, cache: &cache, chain: chain) { expired += 1 }
            scan.open[id] = nil
        }

        scan.floor = scan.open.keys.min() ?? (scan.scannedThrough + 1)
        if scan.floor >= scan.persistedFloor + Self.persistStep {
            let update = try SQLiteCall(db, "UPDATE ledger_state SET open_floor = ? WHERE id = 1 AND open_floor < ?")
            update.bind(1, scan.floor)
            update.bind(2, scan.floor)
            try update.run()
            scan.persistedFloor = scan.floor
        }
        state.withLock { $0.pending = scan }
        return expired
    }

    /// A process's first check starts from the floor recorded in the ledger.
    private static func load(_ db: Database) throws -> Scan {
        let row = try SQLiteCall(db, "SELECT open_floor FROM ledger_state WHERE id = 1")
        let floor = try row.next() ? row.int64(0) : 1
        row.finish()
        return Scan(floor: floor, persistedFloor: floor, scannedThrough: floor - 1, open: [:])
    }
}
