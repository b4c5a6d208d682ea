public import BATS
import Foundation
import Gateway
public import Logging
public import ModelSelection
public import SpendLedger

/// Replays a workload through the real selector and the real SQLite ledger, on a virtual clock taken from the
/// trace's timestamps, with a simulated provider: a month replays in seconds.
public struct ReplayEngine: Sendable {
    /// How the replay commits its ledger writes.
    public struct CommitMode: Sendable, Hashable, CustomStringConvertible {
        /// Tasks per transaction; 1 means one transaction per reserve and per settle.
        public let batchSize: Int
        /// One transaction per reserve and per settle, as live routing does.
        public static let perCall = CommitMode(batchSize: 1)
        /// Many tasks per transaction (a replay needs no per-call durability).
        public static func batched(_ size: Int = 5_000) -> CommitMode { CommitMode(batchSize: max(2, size)) }
        /// `per-call` or `batched(N)`.
        public var description: String { batchSize == 1 ? "per-call" : "batched(\(batchSize))" }
    }

    /// The replay's budget, provider and commit settings.
    public struct Configuration: Sendable {
        /// The limits.
        public var limits: BudgetLimits
        /// The calendar of the windows.
        public var calendar: BudgetCalendar
        /// The chance that one provider attempt fails.
        public var failureRate: Double
        /// The seed of the failure draws.
        public var seed: UInt64
        /// Retries of the same model after a retryable failure, before falling back.
        public var retriesPerModel: Int
        /// Attempts of the pinned model for critical tasks.
        public var criticalAttempts: Int
        /// How ledger writes are committed.
        public var commitMode: CommitMode
        /// A what-if: the share of each prompt assumed served from the cache, for tasks without their own
        /// ``WorkloadTask/cachedInputTokens`` (`nil`: none assumed). The report then says the hits were assumed.
        public var cacheHitShare: CacheHitShare?

        /// Creates a configuration.
        /// - Parameters:
        ///   - limits: The budget limits.
        ///   - calendar: The calendar of the windows.
        ///   - failureRate: The chance that one provider attempt fails.
        ///   - seed: The seed of the failure draws.
        ///   - retriesPerModel: Retries of the same model before falling back.
        ///   - criticalAttempts: Attempts of the pinned model for critical tasks.
        ///   - commitMode: How ledger writes are committed.
        ///   - cacheHitShare: The what-if cache-hit share for tasks that record none (`nil`: none).
        public init(
            limits: BudgetLimits = .unlimited, calendar: BudgetCalendar = BudgetCalendar(), failureRate: Double = 0, seed: UInt64 = 1,
            retriesPerModel: Int = 1, criticalAttempts: Int = 3, commitMode: CommitMode = .batched(), cacheHitShare: CacheHitShare? = nil
        ) {
            self.limits = limits
            self.calendar = calendar
            self.failureRate = failureRate
            self.seed = seed
            self.retriesPerModel = max(0, retriesPerModel)
            self.criticalAttempts = max(1, criticalAttempts)
            self.commitMode = commitMode
            self.cacheHitShare = cacheHitShare
        }
    }

    /// The selection policy and catalog.
    public let selector: ModelSelector
    /// The settings.
    public let configuration: Configuration
    /// The routing policy replayed: ``QualityPolicy/staticTiers`` (the tier map) unless comparing policies.
    public let policy: QualityPolicy
    /// The workload's labelled models, which policies other than the tier map route over.
    public let ladder: QualityLadder

    /// Creates an engine.
    /// - Parameters:
    ///   - selector: The selection policy and catalog.
    ///   - configuration: Budget, provider and commit settings.
    ///   - policy: The routing policy (default: the tier map).
    ///   - ladder: The workload's labelled models (default: none, for the tier map).
    public init(selector: ModelSelector, configuration: Configuration, policy: QualityPolicy = .staticTiers, ladder: QualityLadder? = nil) {
        self.selector = selector
        self.configuration = configuration
        self.policy = policy
        self.ladder = ladder ?? QualityLadder(catalog: selector.catalog)
    }

    /// Replays tasks into `ledger`.
    /// - Parameters:
    ///   - next: Returns the next task, `nil` at the end (streamed: memory stays flat in the workload's length).
    ///   - ledger: The ledger (its limits and calendar are the replay's).
    ///   - progress: Called every 10,000 tasks with the count so far.
    ///   - decisions: Called with each task's decision (model, reason, attempts, cost), in workload order.
    ///   - logger: Where to log; `nil` is silent.
    /// - Returns: The report.
    /// - Throws: What `next` throws (``ReplayError``), ``SpendLedger/LedgerError``, or ``ModelSelection/MoneyError``
    ///   when a total does not fit in 64-bit micro-dollars.
    public func run(
        next: () throws -> WorkloadTask?, into ledger: SQLiteLedger, progress: ((Int) -> Void)? = nil,
        decisions: ((RoutingDecision) -> Void)? = nil, logger: Logger? = nil
    ) throws -> ReplayReport {
        var state = ReplayState(engine: self)
        state.decisions = decisions
        let clock = ContinuousClock()
        let start = clock.now
        var done = false
        let batch = configuration.commitMode.batchSize
        while !done {
            if batch == 1 {
                guard let task = try next() else { break }
                var ops = PerCallOps(ledger: ledger)
                try state.process(task, ops: &ops)
                if state.report.tasks % 10_000 == 0 { progress?(state.report.tasks) }
            } else {
                try ledger.batch { b in
                    var ops = BatchOps(batch: b)
                    for _ in 0..<batch {
                        guard let task = try next() else {
                            done = true
                            break
                        }
                        try state.process(task, ops: &ops)
                        if state.report.tasks % 10_000 == 0 { progress?(state.report.tasks) }
                    }
                    b = ops.batch
                }
            }
        }
        var report = try state.finish()
        let elapsed = clock.now - start
        report.elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report.ledgerPath = ledger.path
        logger?.debug("replay finished", metadata: ["tasks": "\(report.tasks)", "cost": "\(report.cost)"])
        return report
    }
}

/// Ledger writes of a replay, committed per call or inside a batch.
protocol ReplayLedgerOps {
    mutating func reserve(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws -> ReservationOutcome
    mutating func settle(_ id: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt
    mutating func release(_ id: Int64, error: String?, at date: Date) throws
}

struct PerCallOps: ReplayLedgerOps {
    let ledger: SQLiteLedger
    mutating func reserve(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws -> ReservationOutcome {
        try ledger.reserveNow(request, at: date, choose: choose)
    }
    mutating func settle(_ id: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt { try ledger.settleNow(id, settlement, at: date) }
    mutating func release(_ id: Int64, error: String?, at date: Date) throws { try ledger.releaseNow(id, error: error, at: date) }
}

struct BatchOps: ReplayLedgerOps {
    var batch: LedgerBatch
    mutating func reserve(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws -> ReservationOutcome {
        try batch.reserve(request, at: date, choose: choose)
    }
    mutating func settle(_ id: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt { try batch.settle(id, settlement, at: date) }
    mutating func release(_ id: Int64, error: String?, at date: Date) throws { try batch.release(id, error: error, at: date) }
}
