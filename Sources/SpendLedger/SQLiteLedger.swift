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
        /// What to do when ``calendar`` names another zone than the one the ledger's windows follow.
        public struct TimeZoneChange: Sendable, Hashable {
            enum Base: Sendable, Hashable { case refuse, fromNextDay }
            let base: Base
            /// Refuse to open (``LedgerError/Kind/timeZoneMismatch``): the zone is fixed when the ledger is created.
            public static let refuse = TimeZoneChange(base: .refuse)
            /// Record the change, effective from the start of the next day in the current zone, so no window is
            /// counted in two zones at once.
            public static let fromNextDay = TimeZoneChange(base: .fromNextDay)
        }

        /// Limits to set for non-critical calls, or `nil` to keep the ones the ledger records (a new ledger: none).
        ///
        /// The limits are the ledger's state: every reservation of every process reads the ones in force. Setting
        /// other limits records the change with its time (shown by the audit); it applies to every process at once.
        public var limits: BudgetLimits?
        /// The zone of the windows, or `nil` for the ledger's own. A new ledger fixes it (UTC when `nil`); on an
        /// existing one another zone is refused unless ``timeZoneChange`` is ``TimeZoneChange/fromNextDay``.
        public var calendar: BudgetCalendar?
        /// Whether another ``calendar`` than the ledger's is refused or scheduled (refused by default).
        public var timeZoneChange: TimeZoneChange
        /// How long a reservation may stay open before it is taken for abandoned and charged at its estimate;
        /// a reservation whose ``ReservationRequest/callDeadline`` is longer lives that long instead.
        public var reservationTimeToLive: Duration
        /// How long a write (or opening) waits for another process's lock (SQLite's write lock, the write gate, the open
        /// lock) before failing with ``LedgerError/Kind/locked``.
        public var busyTimeout: Duration
        /// `PRAGMA synchronous = FULL` (durable at every commit) instead of WAL's default NORMAL.
        public var synchronousFull: Bool
        /// Whether opening records ``limits`` and ``calendar`` (off for reports, which only read).
        public var recordsLimits: Bool
        /// Open for reading only: nothing is written (no migration unless one is needed, no expiry, no lock file),
        /// and a missing file is ``LedgerError/Kind/notFound``. Writes fail with ``LedgerError/Kind/readOnly``.
        public var readOnly: Bool
        /// The secret of an HMAC-SHA256 hash chain (from ``LedgerChainKey/fromEnvironment(_:)``), or `nil` for a plain
        /// SHA-256 chain. Fixed when the ledger is created: a keyed ledger refuses to open without its key (or with
        /// another), a plain one refuses a key.
        public var chainKey: LedgerChainKey?
        /// Run SQLite's `PRAGMA quick_check` when opening for writing, and refuse a damaged ledger
        /// (``LedgerError/Kind/corrupt``) before writing into it. Its cost grows with the file (about 1 s per GB).
        public var checksIntegrityAtOpen: Bool

        /// Creates a configuration.
        public init(
            limits: BudgetLimits? = nil, calendar: BudgetCalendar? = nil, timeZoneChange: TimeZoneChange = .refuse,
            reservationTimeToLive: Duration = .seconds(15 * 60), busyTimeout: Duration = .seconds(10), synchronousFull: Bool = false,
            recordsLimits: Bool = true, readOnly: Bool = false, checksIntegrityAtOpen: Bool = true, chainKey: LedgerChainKey? = nil
        ) {
            self.chainKey = chainKey
            self.recordsLimits = recordsLimits
            self.limits = limits
            self.calendar = calendar
            self.timeZoneChange = timeZoneChange
            self.reservationTimeToLive = reservationTimeToLive
            self.busyTimeout = busyTimeout
            self.synchronousFull = synchronousFull
            self.readOnly = readOnly
            self.checksIntegrityAtOpen = checksIntegrityAtOpen
        }

        /// How the chain is hashed.
        var chain: ChainHasher { ChainHasher(key: chainKey) }
    }

    /// The file, or `nil` for an in-memory ledger.
    public let path: String?
    /// The configuration in force.
    public let configuration: Configuration
    /// The limits in force when the ledger was opened, with their scopes and alert thresholds (reservations read the
    /// ones in force at each call).
    public var limits: BudgetLimits {
        let state = windowCache.opened.withLock { $0 }
        var limits = state.limits
        if let config = windowCache.scopeConfigs.cached(state.configID) {
            limits.scopes = config.scopes
            limits.alerts = config.alerts
        }
        return limits
    }
    /// The calendar the windows followed when the ledger was opened.
    public var calendar: BudgetCalendar {
        let zone = windowCache.opened.withLock { $0.zone } ?? "UTC"
        return (try? windowCache.calendar(zone)) ?? BudgetCalendar()
    }

    let writer: any DatabaseWriter
    /// Queues writers of several processes fairly (`nil` in memory).
    let gate: WriteGate?
    let windowCache: WindowCacheBox
    /// Where this process last saw open reservations (shared by ``reconfigured(_:)`` copies).
    let openReservations: OpenReservationTracker
    /// The window totals as of this process's last commit (shared by ``reconfigured(_:)`` copies: one connection).
    let committedWindows: CommittedWindows
    /// The asynchronous writes waiting for the next group transaction.
    package let commits = LedgerCommitQueue()

    /// Opens (creating if needed) a ledger file, migrates it and reclaims expired reservations.
    ///
    /// Safe when several processes open the same file at once: opening and migrating happen under an exclusive
    /// lock on `PATH.lock`. The file, its WAL and its lock file are created with mode 0600. A new ledger records
    /// its limits and fixes its zone; an existing one keeps its own unless the configuration changes them.
    /// - Parameters:
    ///   - path: The SQLite file.
    ///   - configuration: Limits, calendar and timeouts.
    ///   - now: The current time, for reclaiming expired reservations and dating a change of limits.
    ///   - logger: Where to log (debug only); `nil` is silent.
    /// - Throws: ``LedgerError`` (`notALedger`, `notAFile`, `notFound`, `corrupt`, `readOnly`, `locked`, `newerSchema`,
    ///   `cannotOpen`, `timeZoneMismatch`, `ioError`).
    public init(path: String, configuration: Configuration = .init(), now: Date = Date(), logger: Logger? = nil) throws {
        try configuration.validate()
        try LedgerFile.check(path, mustExist: configuration.readOnly)
        if configuration.readOnly {
            var grdb = Self.grdbConfiguration(configuration)
            grdb.readonly = true
            let reader: any DatabaseWriter
            do {
                do {
                    let pool = try DatabasePool(path: path, configuration: grdb)
                    _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
                    reader = pool
                } catch let e as DatabaseError where e.resultCode == .SQLITE_CANTOPEN {
                    // On read-only media SQLite cannot create the WAL's shared-memory file: nobody can write there,
                    // so the file is read as immutable.
                    let uri = "file:" + path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "?", with: "%3f")
                        .replacingOccurrences(of: "#", with: "%23") + "?immutable=1"
                    reader = try DatabaseQueue(path: uri, configuration: grdb)
                }
                let migrated = try reader.read { db in try Self.migrator.hasCompletedMigrations(db) }
                if !migrated {
                    // An older ledger: upgrade it once with write access, then read.
                    _ = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, checksIntegrityAtOpen: false), now: now)
                }
            } catch {
                throw Self.map(error, path: path)
            }
            try self.init(writer: reader, gate: nil, path: path, configuration: configuration, now: now, logger: logger)
            return
        }
        let lock = try FileLock(path: path + ".lock", timeout: configuration.busyTimeout)
        try createPrivateFileIfMissing(path)
        let pool: DatabasePool
        do {
            // Before the pool: opening one writes (GRDB makes SQLite create the WAL index), and a damaged file must
            // not be written at all.
            if configuration.checksIntegrityAtOpen { try Self.quickCheck(path) }
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
        self.committedWindows = CommittedWindows()
        if let path { windowCache.fileIdentity = LedgerFile.identity(path) }
        do {
            if configuration.readOnly {
                let windowCache = self.windowCache
                let state = try writer.read { db in
                    let s = try LedgerState.read(db)
                    _ = try windowCache.scopeConfigs.config(db, s.configID)
                    return s
                }
                try Self.checkChainKey(state, configuration.chainKey, path: path)
                windowCache.opened.withLock { $0 = state }
                return
            }
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
            let windowCache = self.windowCache
            let committedWindows = self.committedWindows
            let reclaimed = try write(gated: false) { db in
                try Self.checkChain(db, configuration.chainKey, path: path)
                if configuration.recordsLimits {
                    try Self.applyConfiguration(db, configuration, at: LedgerStore.micros(now), calendars: windowCache, path: path)
                }
                let opened = try LedgerState.read(db)
                windowCache.opened.withLock { $0 = opened }
                _ = try windowCache.scopeConfigs.config(db, opened.configID)
                var cache = try LedgerBatchCache(db, from: committedWindows)
                let n = try openReservations.reclaim(db, now: LedgerStore.micros(now), cache: &cache, chain: configuration.chain)
                committedWindows.stage(cache)
                try cache.flush(db)
                return n
            }
            logger?.debug("ledger opened", metadata: ["path": "\(path ?? ":memory:")", "reclaimed": "\(reclaimed)"])
        } catch {
            throw Self.map(error, path: path)
        }
    }

    /// Runs `PRAGMA quick_check` on a read-only connection of its own.
    private static func quickCheck(_ path: String) throws {
        var attributes = stat()
        guard stat(path, &attributes) == 0, attributes.st_size > 0 else { return }
        var config = GRDB.Configuration()
        config.readonly = true
        let result = try DatabaseQueue(path: path, configuration: config).read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        if result != ["ok"] {
            throw LedgerError(
                kind: .corrupt, path: path,
                message: "the ledger is damaged (SQLite's quick_check: \(result.prefix(3).joined(separator: "; "))); nothing was written to it")
        }
    }

    /// Fixes a new ledger's chain mode, and checks an existing one's against the key given.
    private static func checkChain(_ db: Database, _ key: LedgerChainKey?, path: String?) throws {
        let state = try LedgerState.read(db)
        let empty = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM (SELECT 1 FROM entry LIMIT 1)") == 0
        if empty, state.chainMode == "sha256", state.chainKeyCheck == nil, let key {
            try db.execute(sql: "UPDATE ledger_state SET chain_mode = 'hmac-sha256', chain_key_check = ? WHERE id = 1", arguments: [key.check])
            return
        }
        try checkChainKey(state, key, path: path)
    }

    static func checkChainKey(_ state: LedgerState, _ key: LedgerChainKey?, path: String?) throws {
        switch (state.chainMode, key) {
        case ("hmac-sha256", nil):
            throw LedgerError(
                kind: .chainKey, path: path,
                message: "the ledger's hash chain is keyed (HMAC-SHA256): set \(LedgerChainKey.environmentVariable) or \(LedgerChainKey.fileEnvironmentVariable)")
        case ("hmac-sha256", let key?) where key.check != state.chainKeyCheck:
            throw LedgerError(kind: .chainKey, path: path, message: "the ledger chain key is not the one this ledger was created with")
        case ("sha256", .some):
            throw LedgerError(
                kind: .chainKey, path: path,
                message: "the ledger's hash chain is not keyed (it was created without a key); unset \(LedgerChainKey.environmentVariable)")
        default: return
        }
    }

    /// Records what the configuration sets: a new ledger's limits and zone, or an explicit change of either.
    private static func applyConfiguration(
        _ db: Database, _ c: Configuration, at now: Int64, calendars: WindowCacheBox, path: String?
    ) throws {
        let state = try LedgerState.read(db)
        if state.isNew {
            let zone = c.calendar?.zoneName ?? "UTC"
            try LedgerState.fixZone(db, zone, at: now)
            _ = try LedgerState.recordLimits(db, c.limits ?? state.limits, zone: zone, at: now)
            return
        }
        let current = state.zone(at: now)
        if let wanted = c.calendar?.zoneName, wanted != current, wanted != state.nextZone {
            guard c.timeZoneChange == .fromNextDay else {
                throw LedgerError(
                    kind: .timeZoneMismatch, path: path,
                    message: "the ledger's budget windows follow \(current), fixed when it was created; \(wanted) was asked for. "
                        + "Leave the zone out to use the ledger's, or change it explicitly (bats budget --tz \(wanted) --change-time-zone), "
                        + "which takes effect from the next day")
            }
            let from = LedgerStore.micros(try calendars.calendar(current).day(containing: LedgerStore.date(now)).end)
            try LedgerState.scheduleZone(db, wanted, from: from, state: state, at: now)
        }
        if let limits = c.limits {
            var recorded = state.limits
            if let id = state.configID {
                let config = try ScopeConfig.load(db, configID: id)
                recorded.scopes = config.scopes
                recorded.alerts = config.alerts
            }
            if limits.normalized != recorded.normalized { _ = try LedgerState.recordLimits(db, limits, zone: current, at: now) }
        }
    }

    /// The same ledger file with other limits or another calendar (for reports that apply recorded limits).
    /// - Parameter configuration: The new configuration; nothing is recorded.
    /// - Returns: A ledger sharing this one's connection.
    public func reconfigured(_ configuration: Configuration) -> SQLiteLedger {
        SQLiteLedger(
            writer: writer, gate: gate, path: path, configuration: configuration, windowCache: WindowCacheBox(), openReservations: openReservations,
            committedWindows: committedWindows)
    }

    /// The same database, opened again read-only (fresh caches): an in-memory copy for reports.
    func reopenedReadOnly(chainKey: LedgerChainKey?) throws -> SQLiteLedger {
        var c = Configuration(recordsLimits: false, readOnly: true, checksIntegrityAtOpen: false, chainKey: chainKey)
        c.reservationTimeToLive = configuration.reservationTimeToLive
        return try SQLiteLedger(writer: writer, gate: nil, path: path, configuration: c, now: Date(), logger: nil)
    }

    private init(
        writer: any DatabaseWriter, gate: WriteGate?, path: String?, configuration: Configuration, windowCache: WindowCacheBox,
        openReservations: OpenReservationTracker, committedWindows: CommittedWindows
    ) {
        self.committedWindows = committedWindows
        self.writer = writer
        self.gate = gate
        self.path = path
        self.configuration = configuration
        self.windowCache = windowCache
        self.openReservations = openReservations
    }

    // MARK: - BudgetLedger

    /// Reads the windows containing `date`, lets `choose` pick a model, and reserves its estimate in one transaction.
    ///
    /// The write runs on the ledger's writer thread, never on Swift's cooperative pool, and may share its transaction
    /// with other writes waiting at the same moment (group commit); it returns once its own change is committed.
    public func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        let expiring = windowCache.shouldCheckExpired(at: date) ? openReservations : nil
        let ledger = self
        return try await submit { db, cache in
            try LedgerStore.reserve(
                db, request, at: date, windows: { try ledger.windows(for: date, zone: $0) }, configuration: ledger.configuration,
                context: ledger.storeContext, expiring: expiring, cache: &cache, choose: choose)
        }
    }

    /// Records what a reserved call actually used (off the cooperative pool, group-committed, as ``reserve(_:at:choose:)``).
    public func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        let context = storeContext
        var receipt = try await submit { db, cache in
            try LedgerStore.settle(db, reservationID, settlement, at: date, cache: &cache, context: context)
        }
        receipt.daily?.limit = limits.daily
        return receipt
    }

    /// Frees a reservation whose call failed or was cancelled (off the cooperative pool, group-committed).
    public func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        let chain = configuration.chain
        try await submit { db, cache in try LedgerStore.release(db, reservationID, error: error, at: date, cache: &cache, chain: chain) }
    }

    /// The windows containing `date`, after reclaiming expired reservations (off the cooperative pool).
    public func snapshot(at date: Date) async throws -> BudgetSnapshot {
        let ledger = self
        if configuration.readOnly {
            do {
                return try await writer.read { db in
                    var cache = LedgerBatchCache()
                    return try ledger.snapshot(db, at: date, reclaim: false, cache: &cache)
                }
            } catch {
                throw Self.map(error, path: path)
            }
        }
        return try await submit { db, cache in try ledger.snapshot(db, at: date, reclaim: true, cache: &cache) }
    }

    // MARK: - Synchronous forms

    /// ``reserve(_:at:choose:)`` without suspending: the write runs on the calling thread.
    ///
    /// The ledger's writes are never cancelled half-way: once started they commit or roll back.
    package func reserveNow(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws -> ReservationOutcome {
        let expiring = windowCache.shouldCheckExpired(at: date) ? openReservations : nil
        return try writeOps { db, cache in
            try LedgerStore.reserve(
                db, request, at: date, windows: { try windows(for: date, zone: $0) }, configuration: configuration, context: storeContext,
                expiring: expiring, cache: &cache, choose: choose)
        }
    }

    /// ``settle(_:_:at:)`` without suspending.
    package func settleNow(_ reservationID: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt {
        try writeOps { db, cache in try LedgerStore.settle(db, reservationID, settlement, at: date, cache: &cache, context: storeContext) }
    }

    /// ``release(_:error:at:)`` without suspending.
    package func releaseNow(_ reservationID: Int64, error: String?, at date: Date) throws {
        try writeOps { db, cache in try LedgerStore.release(db, reservationID, error: error, at: date, cache: &cache, chain: configuration.chain) }
    }

    /// ``snapshot(at:)`` without suspending.
    ///
    /// A read-only ledger reclaims nothing: a reservation past its time-to-live still shows as reserved (the same
    /// amount it would be charged).
    package func snapshotNow(at date: Date) throws -> BudgetSnapshot {
        if configuration.readOnly {
            return try read { db in
                var cache = LedgerBatchCache()
                return try snapshot(db, at: date, reclaim: false, cache: &cache)
            }
        }
        return try writeOps { db, cache in try snapshot(db, at: date, reclaim: true, cache: &cache) }
    }

    /// The snapshot in an open transaction, with every configured scope's windows; `reclaim` expires what is past
    /// its time-to-live first (and flushes the totals it changed).
    func snapshot(_ db: Database, at date: Date, reclaim: Bool, cache: inout LedgerBatchCache) throws -> BudgetSnapshot {
        if reclaim { _ = try openReservations.reclaim(db, now: LedgerStore.micros(date), cache: &cache, chain: configuration.chain) }
        let state = try LedgerState.read(db)
        let config = try windowCache.scopeConfigs.config(db, state.configID)
        let w = try windows(for: date, zone: state.zone(at: LedgerStore.micros(date)))
        return try LedgerStore.snapshot(db, windows: w, limits: state.limits, scopes: config.scopes, cache: &cache)
    }

    /// The zone the windows follow at `date` (after a scheduled change, the new one).
    /// - Throws: ``LedgerError``.
    public func timeZone(at date: Date) throws -> String {
        try read { db in try LedgerState.read(db).zone(at: LedgerStore.micros(date)) }
    }

    /// Expires reservations older than their time-to-live and frees their amounts.
    /// - Returns: How many were expired.
    @discardableResult
    public func reclaimExpired(at date: Date) throws -> Int {
        try writeOps { db, cache in try openReservations.reclaim(db, now: LedgerStore.micros(date), cache: &cache, chain: configuration.chain) }
    }

    // MARK: - Batches

    /// Runs many operations in one transaction (a replay needs no per-call durability).
    ///
    /// Each operation keeps its own checks; the batch commits once at the end, or rolls back entirely if `body` throws.
    /// - Parameter body: The operations, through a ``LedgerBatch`` that must not escape.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws, or ``LedgerError``.
    public func batch<T>(_ body: (inout LedgerBatch) throws -> T) throws -> T {
        var fired: Set<AlertKey> = []
        let result = try write { db in
            var b = LedgerBatch(db: db, ledger: self, cache: try LedgerBatchCache(db, from: committedWindows))
            let result = try body(&b)
            committedWindows.stage(b.cache)
            try b.cache.flush(db)
            fired = b.cache.firedAlerts
            return result
        }
        windowCache.alertLog.committed(fired)
        return result
    }

}
