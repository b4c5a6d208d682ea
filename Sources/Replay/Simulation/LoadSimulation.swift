import BATS
public import Foundation
import Gateway
public import Logging
public import ModelSelection
public import SpendLedger

/// Many concurrent routed calls through the real ``BATS/Router`` and a real ledger, against a
/// ``SimulatedGateway``: seeded failures, slow calls and cancellations, for stress and crash tests of the budget.
///
/// Tasks run in one task group, at most ``Configuration/concurrency`` at a time. Each task's tier, whether it is
/// cancelled, and when, are drawn from the seed and the task's index, so a run's mix does not depend on scheduling.
public struct LoadSimulation: Sendable {
    /// What to run.
    public struct Configuration: Sendable {
        /// How many routed calls to make.
        public var tasks: Int
        /// How many run at once.
        public var concurrency: Int
        /// The share (0...1) of CRITICAL tasks; the rest are SIMPLE, MEDIUM or COMPLEX with equal odds.
        public var criticalShare: Double
        /// The share (0...1) of tasks cancelled mid-call.
        public var cancelRate: Double
        /// When a cancelled task is cancelled, after it starts.
        public var cancelAfter: ClosedRange<Duration>
        /// The prompt tokens each task declares (and the simulated provider reports).
        public var promptTokens: Int
        /// Each task's completion cap.
        public var maxOutputTokens: Int
        /// The seed of the task mix (the gateway has its own).
        public var seed: UInt64
        /// The prefix of request ids (`PREFIX-N`); give each process its own.
        public var requestIDPrefix: String
        /// The router's deadline for one gateway call (reservations live at least this plus ``settleDeadline``).
        public var requestTimeout: Duration = .seconds(60)
        /// Tag task N with `agent=agent-K`, K = N mod this + 1 (0: no agent tag), for budgets per agent.
        public var agents: Int = 0
        /// How long the router keeps retrying a settlement the ledger refused.
        public var settleDeadline: Duration = .seconds(30)

        /// Creates a configuration.
        public init(
            tasks: Int = 1_000, concurrency: Int = 64, criticalShare: Double = 0.05, cancelRate: Double = 0,
            cancelAfter: ClosedRange<Duration> = .zero ... .milliseconds(20), promptTokens: Int = 1_000, maxOutputTokens: Int = 500,
            seed: UInt64 = 1, requestIDPrefix: String? = nil
        ) {
            self.tasks = max(0, tasks)
            self.concurrency = max(1, concurrency)
            self.criticalShare = min(1, max(0, criticalShare))
            self.cancelRate = min(1, max(0, cancelRate))
            self.cancelAfter = cancelAfter
            self.promptTokens = max(0, promptTokens)
            self.maxOutputTokens = max(1, maxOutputTokens)
            self.seed = seed
            self.requestIDPrefix = requestIDPrefix ?? "sim-\(seed)"
        }
    }

    /// What a run did.
    public struct Report: Sendable, Hashable, Codable {
        /// Tasks started.
        public var tasks = 0
        /// Tasks at once.
        public var concurrency = 0
        /// Calls that completed and were settled.
        public var ok = 0
        /// Calls refused for budget.
        public var refused = 0
        /// Calls that failed at the provider on every model they could use.
        public var failed = 0
        /// Calls cancelled mid-call (their reservations released).
        public var cancelled = 0
        /// Calls that failed with a ledger error (such as a lock held past the busy timeout).
        public var ledgerErrors = 0
        /// Calls that failed otherwise.
        public var otherErrors = 0
        /// The first ledger or other error, for diagnosis.
        public var firstError: String?
        /// Settled spend of the calls that completed.
        public var settledMicros: Int64 = 0
        /// Reservations timed.
        public var reservations: UInt64 = 0
        /// Median reservation latency, µs.
        public var reserveP50Micros: Double = 0
        /// 99th percentile, µs.
        public var reserveP99Micros: Double = 0
        /// 99.9th percentile, µs.
        public var reserveP999Micros: Double = 0
        /// Slowest reservation, µs.
        public var reserveMaxMicros: Double = 0
        /// Wall time, seconds.
        public var elapsedSeconds: Double = 0

        /// Creates an empty report.
        public init() {}

        enum CodingKeys: String, CodingKey {
            case tasks, concurrency, ok, refused, failed, cancelled
            case ledgerErrors = "ledger_errors", otherErrors = "other_errors", firstError = "first_error"
            case settledMicros = "settled_micros", reservations
            case reserveP50Micros = "reserve_p50_us", reserveP99Micros = "reserve_p99_us", reserveP999Micros = "reserve_p999_us"
            case reserveMaxMicros = "reserve_max_us", elapsedSeconds = "elapsed_s"
        }

        /// The report as one line of JSON with sorted keys (`first_error` escaped by `JSONEncoder`, so any error text
        /// gives valid JSON).
        /// - Returns: The JSON document.
        /// - Throws: `EncodingError` when a measurement is not finite.
        public func json() throws -> String {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try e.encode(self), as: UTF8.self)
        }
    }

    /// The selection policy.
    public let selector: ModelSelector
    /// The simulated provider.
    public let gateway: SimulatedGateway
    /// The run's settings.
    public var configuration: Configuration

    /// Creates a simulation.
    /// - Parameters:
    ///   - selector: The selection policy and catalog.
    ///   - gateway: The simulated provider.
    ///   - configuration: The task mix and concurrency.
    public init(selector: ModelSelector, gateway: SimulatedGateway, configuration: Configuration) {
        self.selector = selector
        self.gateway = gateway
        self.configuration = configuration
    }

    /// Runs every task through a router on `ledger`.
    /// - Parameters:
    ///   - ledger: The ledger (its limits apply).
    ///   - now: The router's clock.
    ///   - logger: Where to log; `nil` is silent.
    /// - Returns: The tallies and reservation latency.
    /// - Throws: ``ModelSelection/MoneyError`` when the settled total does not fit in 64-bit micro-dollars (after
    ///   every task has finished, so no reservation is left open by it).
    public func run(
        ledger: any BudgetLedger, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger? = nil
    ) async throws(MoneyError) -> Report {
        let timed = TimedLedger(ledger)
        let router = Router(
            selector: selector, ledger: timed, gateway: gateway, configuration: .init(requestTimeout: configuration.requestTimeout, criticalAttempts: 3, settleDeadline: configuration.settleDeadline),
            now: now)
        let clock = ContinuousClock()
        let start = clock.now
        var report = Report()
        report.tasks = configuration.tasks
        report.concurrency = configuration.concurrency
        var overflow: MoneyError?
        await withTaskGroup(of: Outcome.self) { group in
            var next = 0
            while next < min(configuration.concurrency, configuration.tasks) {
                let i = next
                group.addTask { await self.one(i, router: router, logger: logger) }
                next += 1
            }
            for await outcome in group {
                do throws(MoneyError) { try Self.tally(outcome, into: &report) } catch { overflow = overflow ?? error }
                if next < configuration.tasks {
                    let i = next
                    group.addTask { await self.one(i, router: router, logger: logger) }
                    next += 1
                }
            }
        }
        if let overflow { throw overflow }
        let e = (clock.now - start).components
        report.elapsedSeconds = Double(e.seconds) + Double(e.attoseconds) / 1e18
        let h = timed.samples.histogram.withLock { $0 }
        report.reservations = h.totalCount
        report.reserveP50Micros = Double(h.valueAtPercentile(50)) / 1_000
        report.reserveP99Micros = Double(h.valueAtPercentile(99)) / 1_000
        report.reserveP999Micros = Double(h.valueAtPercentile(99.9)) / 1_000
        report.reserveMaxMicros = Double(timed.samples.maximum.withLock { $0 }) / 1_000
        return report
    }

    // MARK: - One task

    enum Outcome: Sendable {
        case ok(MicroDollars)
        case refused
        case failed
        case cancelled
        case ledgerError(String)
        case other(String)
    }

    /// The drawn shape of task `index`.
    func plan(_ index: Int) -> (tier: Complexity, cancelAfter: Duration?) {
        var random = SeededGenerator(seed: configuration.seed, stream: UInt64(index) &+ 0x5111)
        let critical = random.unitDouble() < configuration.criticalShare
        let tier: Complexity = critical ? .critical : [.simple, .medium, .complex][Int(random.uniform(below: 3))]
        var cancel: Duration?
        if configuration.cancelRate > 0, random.unitDouble() < configuration.cancelRate {
            cancel = SimulatedGateway.uniform(configuration.cancelAfter, &random)
        }
        return (tier, cancel)
    }

    /// The tags of task `index`.
    func tags(_ index: Int) -> [String: String] {
        var tags = ["sim": configuration.requestIDPrefix]
        if configuration.agents > 0 { tags["agent"] = "agent-\(index % configuration.agents + 1)" }
        return tags
    }

    func one(_ index: Int, router: Router, logger: Logger?) async -> Outcome {
        let (tier, cancelAfter) = plan(index)
        let task = RoutedTask(
            kind: "sim_\(tier.rawValue.lowercased())", complexity: tier,
            request: ChatRequest(messages: [.user("simulated task \(index)")]), inputTokens: configuration.promptTokens,
            maxOutputTokens: configuration.maxOutputTokens, tags: tags(index),
            requestID: "\(configuration.requestIDPrefix)-\(index)")
        guard let cancelAfter else { return await Self.route(task, router: router, logger: logger) }
        // Race the call against a timer; whichever ends first cancels the other.
        return await withTaskGroup(of: Outcome?.self) { group in
            group.addTask { await Self.route(task, router: router, logger: logger) }
            group.addTask {
                try? await Task.sleep(for: cancelAfter)
                return nil
            }
            var result: Outcome?
            while let next = await group.next() {
                if let next {
                    result = next
                    break
                }
                group.cancelAll()
            }
            group.cancelAll()
            return result ?? .cancelled
        }
    }

    static func route(_ task: RoutedTask, router: Router, logger: Logger?) async -> Outcome {
        do {
            let r = try await router.complete(task, logger: logger)
            return .ok(r.record.cost)
        } catch let e as RoutingError {
            return e.kind == .budgetExhausted ? .refused : .failed
        } catch is CancellationError {
            return .cancelled
        } catch let e as LedgerError {
            return .ledgerError(e.description)
        } catch {
            return .other("\(error)")
        }
    }

    static func tally(_ o: Outcome, into r: inout Report) throws(MoneyError) {
        switch o {
        case .ok(let cost):
            r.ok += 1
            r.settledMicros = try MicroDollars(micros: r.settledMicros).adding(cost).rawValue
        case .refused: r.refused += 1
        case .failed: r.failed += 1
        case .cancelled: r.cancelled += 1
        case .ledgerError(let e):
            r.ledgerErrors += 1
            if r.firstError == nil { r.firstError = e }
        case .other(let e):
            r.otherErrors += 1
            if r.firstError == nil { r.firstError = e }
        }
    }
}
