public import Foundation
public import Logging
public import ModelSelection
import NIOCore
import NIOPosix
public import PostgresNIO
public import SpendLedger
import Synchronization

/// The spend ledger on a PostgreSQL server, shared by every host of a fleet: the same ``BudgetLedger`` semantics as
/// ``SpendLedger/SQLiteLedger`` (reservations against running window and scope totals, settle, release, expiry
/// charged at the estimate, limits history, alerts exactly once, the hash chain), so one budget holds across hosts.
///
/// Every write is one transaction that first locks the ledger's state row (`SELECT … FOR UPDATE`): writes are
/// serialized, the chain is one global sequence, and the totals a reservation checks cannot move before it commits
/// (docs/ledger.md says why this beats a conditional `UPDATE` or SERIALIZABLE retries here). For local-speed
/// reservations across a network, put a ``LeasedLedger`` in front.
///
/// Open one with ``connect(_:now:logger:)`` and ``close()`` it, or use ``withLedger(_:now:logger:_:)``.
public struct PostgresLedger: BudgetLedger {
    /// How the ledger connects and what it enforces.
    public struct Configuration: Sendable {
        /// The server and database.
        public var url: PostgresLedgerURL
        /// The password, or `nil` to resolve it from the environment and files (``PostgresLedgerURL/password(environment:)``).
        public var password: String?
        /// Limits to record, or `nil` to keep the ones the ledger records (as ``SQLiteLedger/Configuration/limits``).
        public var limits: BudgetLimits?
        /// The zone of a new ledger's windows (UTC when `nil`); an existing ledger's other zone is refused.
        public var calendar: BudgetCalendar?
        /// How long a reservation may stay open before it is charged at its estimate.
        public var reservationTimeToLive: Duration
        /// The hash chain's key, as for the SQLite ledger.
        public var chainKey: LedgerChainKey?
        /// Whether opening records ``limits`` and ``calendar`` (off for reports).
        public var recordsLimits: Bool
        /// How long one ledger operation may take (connecting included) before it fails as `unreachable`.
        public var operationTimeout: Duration
        /// Connections in the pool.
        public var maximumConnections: Int

        /// Creates a configuration.
        public init(
            url: PostgresLedgerURL, password: String? = nil, limits: BudgetLimits? = nil, calendar: BudgetCalendar? = nil,
            reservationTimeToLive: Duration = .seconds(15 * 60), chainKey: LedgerChainKey? = nil, recordsLimits: Bool = true,
            operationTimeout: Duration = .seconds(10), maximumConnections: Int = 8
        ) {
            self.url = url
            self.password = password
            self.limits = limits
            self.calendar = calendar
            self.reservationTimeToLive = reservationTimeToLive
            self.chainKey = chainKey
            self.recordsLimits = recordsLimits
            self.operationTimeout = operationTimeout
            self.maximumConnections = maximumConnections
        }
    }

    /// The configuration in force.
    public let configuration: Configuration
    let client: PostgresClient
    let shared: PostgresLedgerShared
    let logger: Logger

    /// The limits in force as of the last transaction this process ran (reservations read the ones in force).
    public var limits: BudgetLimits { shared.limits }
    /// The calendar the windows follow.
    public var calendar: BudgetCalendar { (try? shared.calendar(shared.zone)) ?? BudgetCalendar() }

    /// Connects, migrates (under an advisory lock), checks the chain key, records the configuration's limits and zone,
    /// and reclaims expired reservations and leases.
    /// - Throws: ``SpendLedger/LedgerError`` in one line: `unreachable`, `authentication-failed`, `no-such-database`,
    ///   `newer-schema`, `chain-key`, `time-zone-mismatch`, `invalid-configuration`.
    public static func connect(_ configuration: Configuration, now: Date = Date(), logger: Logger? = nil) async throws -> PostgresLedger {
        try configuration.limits?.validate()
        guard configuration.reservationTimeToLive > .zero else {
            throw LedgerError(kind: .invalidConfiguration, message: "reservation time-to-live must be positive")
        }
        let logger = logger ?? Logger(label: "bats.ledger.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
        let password = try configuration.password ?? configuration.url.password()
        let pgConfig = Self.clientConfiguration(configuration, password: password)
        // One plain connection first, so a wrong password, a missing database or an unreachable server is one clear
        // error (the pool would retry in the background).
        try await Self.probe(pgConfig, url: configuration.url, timeout: configuration.operationTimeout, logger: logger)
        let client = PostgresClient(configuration: pgConfig, backgroundLogger: logger)
        let shared = PostgresLedgerShared(runner: ClientRunner(client))
        let ledger = PostgresLedger(configuration: configuration, client: client, shared: shared, logger: logger)
        do {
            try await ledger.guarded { try await PostgresSchema.migrate(client, logger: logger) }
            try await ledger.open(now: now)
        } catch {
            await ledger.close()
            throw error
        }
        return ledger
    }

    /// Connects, runs `body` with the ledger, and closes it.
    public static func withLedger<T: Sendable>(
        _ configuration: Configuration, now: Date = Date(), logger: Logger? = nil, _ body: (PostgresLedger) async throws -> T
    ) async throws -> T {
        let ledger = try await connect(configuration, now: now, logger: logger)
        do {
            let result = try await body(ledger)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }

    /// Closes the connections. Operations after it fail.
    public func close() async { await shared.runner.stop() }

    private init(configuration: Configuration, client: PostgresClient, shared: PostgresLedgerShared, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.shared = shared
        self.logger = logger
    }

    static func clientConfiguration(_ c: Configuration, password: String?) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch c.url.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var config: PostgresClient.Configuration
        if let socket = c.url.socketPath {
            config = .init(unixSocketPath: socket, username: c.url.user, password: password, database: c.url.database)
        } else {
            config = .init(host: c.url.host ?? "localhost", port: c.url.port, username: c.url.user, password: password, database: c.url.database, tls: tls)
        }
        config.options.maximumConnections = max(1, c.maximumConnections)
        config.options.connectTimeout = c.operationTimeout
        config.options.keepAliveBehavior = nil
        if let name = c.url.applicationName { config.options.additionalStartupParameters = [("application_name", name)] }
        return config
    }

    // MARK: - BudgetLedger

    /// Reads the windows, lets `choose` pick, and reserves its estimate, in one transaction holding the state lock.
    public func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        let ledger = self
        return try await write { c in try await PostgresStore.reserve(c, request, at: date, ledger: ledger, choose: choose) }
    }

    /// Records what a reserved call used.
    public func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        let ledger = self
        return try await write { c in try await PostgresStore.settle(c, reservationID, settlement, at: date, ledger: ledger) }
    }

    /// Frees a reservation whose call failed or was cancelled.
    public func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        let ledger = self
        try await write { c in try await PostgresStore.release(c, reservationID, error: error, at: date, ledger: ledger) }
    }

    /// The windows containing `date` (every configured scope's too), after reclaiming what expired.
    public func snapshot(at date: Date) async throws -> BudgetSnapshot {
        let ledger = self
        return try await write { c in try await PostgresStore.snapshot(c, at: date, ledger: ledger) }
    }

    /// Expires reservations and leases past their time-to-live.
    /// - Returns: How many reservations and leases were expired.
    @discardableResult
    public func reclaimExpired(at date: Date) async throws -> Int {
        let ledger = self
        return try await write { c in
            let st = try await PostgresStore.state(c, lock: true, ledger.logger)
            var head = (st.headID, st.headHash)
            return try await PostgresStore.reclaim(c, now: LedgerStore.micros(date), head: &head, ledger: ledger)
        }
    }
}

/// What copies of one ``PostgresLedger`` share: the caches of recorded configurations, the alerts known recorded,
/// the limits and zone last seen, and the client's run task.
final class PostgresLedgerShared: Sendable {
    let runner: ClientRunner
    private let configs = Mutex<[Int64: ScopeConfig]>([:])
    private let calendars = Mutex<[String: BudgetCalendar]>([:])
    private let seen = Mutex<(limits: BudgetLimits, zone: String, configID: Int64?)>((.unlimited, "UTC", nil))
    private let alerts = Mutex<Set<String>>([])
    private let lastExpiryCheck = Mutex<Int64>(.min)
    /// PostgreSQL transactions this process committed or tried (benchmarks count them).
    let transactions = Atomic<Int>(0)

    init(runner: ClientRunner) { self.runner = runner }

    var limits: BudgetLimits { seen.withLock { $0.limits } }
    var zone: String { seen.withLock { $0.zone } }
    var configID: Int64? { seen.withLock { $0.configID } }
    func saw(_ limits: BudgetLimits, zone: String, configID: Int64?) { seen.withLock { $0 = (limits, zone, configID) } }

    func config(_ id: Int64?) -> ScopeConfig? { id.flatMap { i in configs.withLock { $0[i] } } }
    func keep(_ config: ScopeConfig, _ id: Int64) { configs.withLock { $0[id] = config } }

    func calendar(_ zone: String) throws -> BudgetCalendar {
        if let c = calendars.withLock({ $0[zone] }) { return c }
        let c = try BudgetCalendar(timeZoneIdentifier: zone)
        calendars.withLock { $0[zone] = c }
        return c
    }

    func alertKnown(_ key: String) -> Bool { alerts.withLock { $0.contains(key) } }
    func alertsCommitted(_ keys: Set<String>) { if !keys.isEmpty { alerts.withLock { $0.formUnion(keys) } } }

    /// Whether expired reservations are due for a check (at most once a second per process).
    func expiryDue(_ now: Int64) -> Bool {
        lastExpiryCheck.withLock { last in
            guard now >= last &+ 1_000_000 || now < last else { return false }
            last = now
            return true
        }
    }
}

/// Runs a ``PostgresClient`` until stopped.
final class ClientRunner: Sendable {
    private let task: Mutex<Task<Void, Never>?>

    init(_ client: PostgresClient) {
        task = Mutex(Task { await client.run() })
    }

    func stop() async {
        guard let t = task.withLock({ t -> Task<Void, Never>? in defer { t = nil }; return t }) else { return }
        t.cancel()
        await t.value
    }
}
