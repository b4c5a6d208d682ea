public import Foundation
import GRDB
public import Logging
public import ModelSelection
import Synchronization

/// The spend ledger in an SQLite file (GRDB `DatabasePool`, WAL): reservations, settlements and running totals
/// per budget window.
///
/// Every write is one IMMEDIATE transaction behind a cross-process write gate (`flock` on `PATH.lock`), so processes
/// sharing the file take turns on SQLite's write lock instead of starving one another.
/// Reservations check and update the running totals of the day and month windows; they never scan entries,
/// so their cost does not grow with the ledger.
public struct SQLiteLedger: BudgetLedger {
    /// How a ledger enforces budgets and reclaims abandoned reservations.
    public struct Configuration: Sendable {
        /// The limits enforced for non-critical calls.
        public var limits: BudgetLimits
        /// The calendar (time zone) of the windows. UTC by default.
        public var calendar: BudgetCalendar
        /// How long a reservation may stay open before it is taken for abandoned (its process crashed) and expired.
        /// Longer than the slowest call you make.
        public var reservationTimeToLive: Duration
        /// How long a write (or opening) waits for another process's lock (SQLite's write lock, the write gate, the open
        /// lock) before failing with ``LedgerError/Kind/locked``.
        public var busyTimeout: Duration
        /// `PRAGMA synchronous = FULL` (durable at every commit) instead of WAL's default NORMAL.
        public var synchronousFull: Bool
        /// Whether opening records ``limits`` and the zone as the configuration in force (off for read-only reports).
        public var recordsLimits: Bool

        /// Creates a configuration.
        public init(
            limits: BudgetLimits = .unlimited, calendar: BudgetCalendar = BudgetCalendar(),
            reservationTimeToLive: Duration = .seconds(15 * 60), busyTimeout: Duration = .seconds(10), synchronousFull: Bool = false,
            recordsLimits: Bool = true
        ) {
            self.recordsLimits = recordsLimits
            self.limits = limits
            self.calendar = calendar
            self.reservationTimeToLive = reservationTimeToLive
            self.busyTimeout = busyTimeout
            self.synchronousFull = synchronousFull
        }
    }

    /// The file, or `nil` for an in-memory ledger.
    public let path: String?
    /// The configuration in force.
    public let configuration: Configuration
    /// The limits this ledger enforces.
    public var limits: BudgetLimits { configuration.limits }
    /// The calendar its windows follow.
    public var calendar: BudgetCalendar { configuration.calendar }

    let writer: any DatabaseWriter
    /// Queues writers of several processes fairly (`nil` in memory).
    let gate: WriteGate?
    let windowCache: WindowCacheBox
    /// Where this process last saw open reservations (shared by ``reconfigured(_:)`` copies).
    let openReservations: OpenReservationTracker

    /// Opens (creating if needed) a ledger file, migrates it and reclaims expired reservations.
    ///
    /// Safe when several processes open the same file at once: opening and migrating happen under an exclusive
    /// lock on `PATH.lock`. The file, its WAL and its lock file are created with mode 0600.
    /// - Parameters:
    ///   - path: The SQLite file.
    ///   - configuration: Limits, calendar and timeouts.
    ///   - now: The current time, for reclaiming expired reservations.
    ///   - logger: Where to log (debug only); `nil` is silent.
    /// - Throws: ``LedgerError`` (`notALedger`, `corrupt`, `readOnly`, `locked`, `newerSchema`, `cannotOpen`).
    public init(path: String, configuration: Configuration = .init(), now: Date = Date(), logger: Logger? = nil) throws {
        try configuration.validate()
        let lock = try FileLock(path: path + ".lock", timeout: configuration.busyTimeout)
        try createPrivateFileIfMissing(path)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: Self.grdbConfiguration(configuration))
        } catch {
            throw Self.map(error, path: path)
        }
        try self.init(writer: pool, gate: try WriteGate(path: path + ".lock"), path: path, configuration: configuration, now: now, logger: logger)
        lock.unlock()
    }

    /// A ledger in memory (tests, what-if replays that need no file).
    /// - Parameters:
    ///   - configuration: Limits, calendar and timeouts.
    ///   - now: The current time.
    /// - Throws: ``LedgerError``.
    public static func inMemory(configuration: Configuration = .init(), now: Date = Date()) throws -> SQLiteLedger {
        try configuration.validate()
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(configuration: grdbConfiguration(configuration)) } catch { throw map(error, path: nil) }
        return try SQLiteLedger(writer: queue, gate: nil, path: nil, configuration: configuration, now: now, logger: nil)
    }

    private init(writer: any DatabaseWriter, gate: WriteGate?, path: String?, configuration: Configuration, now: Date, logger: Logger?) throws {
        self.writer = writer
        self.gate = gate
        self.path = path
        self.configuration = configuration
        self.windowCache = WindowCacheBox()
        self.openReservations = OpenReservationTracker()
        do {
            let migrator = Self.migrator
            let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                throw LedgerError(
                    kind: .newerSchema, path: path,
                    message: "the ledger was written by a newer version of BATS (it has migrations this version does not know)")
            }
            try migrator.migrate(writer)
            if configuration.synchronousFull {
                try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            }
            // The caller holds the open lock, which is the gate's file: this one write goes ungated.
            let reclaimed = try write(gated: false) { db in
                if configuration.recordsLimits { try LedgerStore.recordConfiguration(db, configuration, at: now) }
                var noCache: LedgerBatchCache?
                return try openReservations.reclaim(db, now: LedgerStore.micros(now), cache: &noCache)
            }
            logger?.debug("ledger opened", metadata: ["path": "\(path ?? ":memory:")", "reclaimed": "\(reclaimed)"])
        } catch {
            throw Self.map(error, path: path)
        }
    }

    /// The same ledger file with other limits or another calendar (for reports that apply recorded limits).
    /// - Parameter configuration: The new configuration; nothing is recorded.
    /// - Returns: A ledger sharing this one's connection.
    public func reconfigured(_ configuration: Configuration) -> SQLiteLedger {
        SQLiteLedger(
            writer: writer, gate: gate, path: path, configuration: configuration, windowCache: WindowCacheBox(), openReservations: openReservations)
    }

    private init(
        writer: any DatabaseWriter, gate: WriteGate?, path: String?, configuration: Configuration, windowCache: WindowCacheBox,
        openReservations: OpenReservationTracker
    ) {
        self.writer = writer
        self.gate = gate
        self.path = path
        self.configuration = configuration
        self.windowCache = windowCache
        self.openReservations = openReservations
    }

    // MARK: - BudgetLedger

    /// Reads the windows containing `date`, lets `choose` pick a model, and reserves its estimate in one transaction.
    public func reserve(_ request: ReservationRequest, at date: Date, choose: @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        try reserveNow(request, at: date, choose: choose)
    }

    /// Records what a reserved call actually used.
    public func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        try settleNow(reservationID, settlement, at: date)
    }

    /// Frees a reservation whose call failed or was cancelled.
    public func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        try releaseNow(reservationID, error: error, at: date)
    }

    /// The windows containing `date`, after reclaiming expired reservations.
    public func snapshot(at date: Date) async throws -> BudgetSnapshot { try snapshotNow(at: date) }

    // MARK: - Synchronous forms

    /// ``reserve(_:at:choose:)`` without suspending: the write runs on the calling thread.
    ///
    /// The ledger's writes are never cancelled half-way: once started they commit or roll back.
    public func reserveNow(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws -> ReservationOutcome {
        let w = windows(for: date)
        let expiring = windowCache.shouldCheckExpired(at: date) ? openReservations : nil
        return try write { db in
            var noCache: LedgerBatchCache?
            return try LedgerStore.reserve(
                db, request, at: date, windows: w, configuration: configuration, expiring: expiring, cache: &noCache, choose: choose)
        }
    }

    /// ``settle(_:_:at:)`` without suspending.
    public func settleNow(_ reservationID: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt {
        try write { db in
            var noCache: LedgerBatchCache?
            return try LedgerStore.settle(db, reservationID, settlement, at: date, cache: &noCache)
        }
    }

    /// ``release(_:error:at:)`` without suspending.
    public func releaseNow(_ reservationID: Int64, error: String?, at date: Date) throws {
        try write { db in
            var noCache: LedgerBatchCache?
            try LedgerStore.release(db, reservationID, error: error, at: date, cache: &noCache)
        }
    }

    /// ``snapshot(at:)`` without suspending.
    public func snapshotNow(at date: Date) throws -> BudgetSnapshot {
        let w = windows(for: date)
        return try write { db in
            var noCache: LedgerBatchCache?
            _ = try openReservations.reclaim(db, now: LedgerStore.micros(date), cache: &noCache)
            return try LedgerStore.snapshot(db, windows: w, limits: configuration.limits, cache: &noCache)
        }
    }

    /// Expires reservations older than their time-to-live and frees their amounts.
    /// - Returns: How many were expired.
    @discardableResult
    public func reclaimExpired(at date: Date) throws -> Int {
        try write { db in
            var noCache: LedgerBatchCache?
            return try openReservations.reclaim(db, now: LedgerStore.micros(date), cache: &noCache)
        }
    }

    // MARK: - Batches

    /// Runs many operations in one transaction (a replay needs no per-call durability).
    ///
    /// Each operation keeps its own checks; the batch commits once at the end, or rolls back entirely if `body` throws.
    /// - Parameter body: The operations, through a ``LedgerBatch`` that must not escape.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``LedgerError``.
    public func batch<T>(_ body: (inout LedgerBatch) throws -> T) throws -> T {
        try write { db in
            var b = LedgerBatch(db: db, ledger: self)
            let result = try body(&b)
            try b.cache?.flush(db)
            return result
        }
    }

    // MARK: - Internals

    func windows(for date: Date) -> (day: BudgetCalendar.Window, month: BudgetCalendar.Window) {
        windowCache.cache.withLock { $0.windows(for: date, calendar: configuration.calendar) }
    }

    /// One IMMEDIATE write transaction, behind the cross-process ``WriteGate`` when the ledger is a file and `gated`.
    func write<T>(gated: Bool = true, _ body: (Database) throws -> T) throws -> T {
        do {
            return try writer.writeWithoutTransaction { db in
                func transaction() throws -> T {
                    // BEGIN and COMMIT as cached statements: the hot path prepares nothing.
                    try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
                    do {
                        let result = try body(db)
                        try db.cachedStatement(sql: "COMMIT").execute()
                        openReservations.transactionEnded(committed: true)
                        return result
                    } catch {
                        openReservations.transactionEnded(committed: false)
                        if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                        throw error
                    }
                }
                guard let gate, gated else { return try transaction() }
                return try gate.withLock(timeout: configuration.busyTimeout, transaction)
            }
        } catch { throw Self.map(error, path: path) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch { throw Self.map(error, path: path) }
    }

    static func grdbConfiguration(_ c: Configuration) -> GRDB.Configuration {
        var config = GRDB.Configuration()
        config.busyMode = .callback(FairBusyHandler(timeout: c.busyTimeout).callback)
        config.label = "bats-ledger"
        return config
    }

    static func map(_ error: any Error, path: String?) -> any Error {
        if error is LedgerError || error is CancellationError { return error }
        guard let e = error as? DatabaseError else { return error }
        let code = e.resultCode
        let message = e.message ?? "\(e)"
        switch code {
        case .SQLITE_NOTADB:
            return LedgerError(kind: .notALedger, path: path, sqliteCode: code.rawValue, message: "the file is not an SQLite database")
        case .SQLITE_CORRUPT:
            return LedgerError(kind: .corrupt, path: path, sqliteCode: code.rawValue, message: "the database is damaged: \(message)")
        case .SQLITE_READONLY:
            return LedgerError(kind: .readOnly, path: path, sqliteCode: code.rawValue, message: "the ledger is read-only: \(message)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return LedgerError(kind: .locked, path: path, sqliteCode: code.rawValue, message: "the ledger is locked by another process or connection: \(message)")
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return LedgerError(kind: .cannotOpen, path: path, sqliteCode: code.rawValue, message: "cannot open the ledger: \(message)")
        default:
            return LedgerError(kind: .database, path: path, sqliteCode: code.rawValue, message: message)
        }
    }
}

extension SQLiteLedger.Configuration {
    func validate() throws {
        try limits.validate()
        guard reservationTimeToLive > .zero else {
            throw LedgerError(kind: .invalidConfiguration, message: "reservation time-to-live must be positive")
        }
        guard busyTimeout >= .zero else { throw LedgerError(kind: .invalidConfiguration, message: "busy timeout must not be negative") }
    }
}

final class WindowCacheBox: Sendable {
    let cache = Mutex(WindowCache())
    /// The last time (µs) a reservation looked for expired reservations.
    private let lastExpiryCheck = Mutex(Int64.min)

    /// Whether a reservation at `date` should look for expired reservations: at most once a second of call time
    /// (reading a window always does).
    func shouldCheckExpired(at date: Date) -> Bool {
        let now = LedgerStore.micros(date)
        return lastExpiryCheck.withLock { last in
            guard now >= last &+ 1_000_000 || now < last else { return false }
            last = now
            return true
        }
    }
}

/// A busy handler that retries with short, jittered sleeps (50 µs growing by 10 µs a try to 1 ms, plus up to 200 µs
/// of jitter) until a deadline, instead of SQLite's default growing sleeps, so no process starves behind the others.
///
/// One start time is kept per handler; in WAL mode only the single writer connection of a process waits here.
final class FairBusyHandler: Sendable {
    let timeout: Duration
    private let episodeStart = Mutex(ContinuousClock.now)

    init(timeout: Duration) { self.timeout = timeout }

    var callback: @Sendable (Int) -> Bool { { [self] tries in handle(tries) } }

    func handle(_ tries: Int) -> Bool {
        let now = ContinuousClock.now
        let elapsed = episodeStart.withLock { start in
            if tries == 0 { start = now }
            return now - start
        }
        if elapsed >= timeout { return false }
        usleep(UInt32(min(1_000, 50 + tries * 10) + Int.random(in: 0...200)))
        return true
    }
}

/// Operations run inside one ``SQLiteLedger/batch(_:)`` transaction.
public struct LedgerBatch {
    let db: Database
    let ledger: SQLiteLedger
    /// Window totals, open reservations and the chain head, exact while the batch's transaction is open.
    var cache: LedgerBatchCache? = LedgerBatchCache()

    init(db: Database, ledger: SQLiteLedger) {
        self.db = db
        self.ledger = ledger
    }

    /// Reserves, as ``SQLiteLedger/reserve(_:at:choose:)``, inside the batch.
    public mutating func reserve(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws
        -> ReservationOutcome
    {
        try LedgerStore.reserve(
            db, request, at: date, windows: ledger.windows(for: date), configuration: ledger.configuration,
            expiring: ledger.windowCache.shouldCheckExpired(at: date) ? ledger.openReservations : nil, cache: &cache, choose: choose)
    }

    /// Settles, as ``SQLiteLedger/settle(_:_:at:)``, inside the batch.
    /// - Returns: Whether a critical call pushed a window over its limit (the entry is not read back).
    @discardableResult
    public mutating func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) throws -> Bool {
        try LedgerStore.settle(db, reservationID, settlement, at: date, cache: &cache).overLimit
    }

    /// Releases, as ``SQLiteLedger/release(_:error:at:)``, inside the batch.
    public mutating func release(_ reservationID: Int64, error: String?, at date: Date) throws {
        try LedgerStore.release(db, reservationID, error: error, at: date, cache: &cache)
    }
}

extension SQLiteLedger {
    /// The cheapest write the ledger can make (one cached one-row UPDATE in an IMMEDIATE transaction), for benchmarks
    /// that compare an operation with the floor of SQLite and GRDB on this machine. Changes nothing.
    public func floorTransaction() throws {
        try write { db in try db.cachedStatement(sql: "UPDATE budget_config SET id = id WHERE id = 1").execute() }
    }
}
