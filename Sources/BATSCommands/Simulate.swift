import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

extension BATSCommand {
    /// `bats simulate`: a burst of concurrent routed calls against a ledger file, with injected faults.
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run many concurrent routed calls through the real router and ledger against a simulated provider.",
            discussion: """
                For stress and crash testing: seeded provider failures (429, 503, timeouts), slow calls and cancellations. \
                Prints one line of JSON: ok, refused, failed, cancelled, and reservation latency percentiles in µs.
                """,
            shouldDisplay: false)

        @Option(help: "The ledger file (created if missing).")
        var ledger: String

        @Option(help: "How many routed calls to make.")
        var tasks: Int = 1_000

        @Option(help: "How many calls run at once.")
        var concurrency: Int = 64

        @Option(help: "Chance (0...1) that one provider attempt fails with a 429, 503 or timeout.")
        var failureRate: Double = 0.1

        @Option(help: "Chance (0...1) that one provider attempt is slow.")
        var slowRate: Double = 0.05

        @Option(help: "Chance (0...1) that a call is cancelled mid-flight.")
        var cancelRate: Double = 0.05

        @Option(help: "Share (0...1) of CRITICAL calls.")
        var criticalShare: Double = 0.05

        @Option(help: "Seed of the task mix and of the provider's draws.")
        var seed: UInt64 = 1

        @Option(help: "Milliseconds a slow call (or a timeout) takes.")
        var slowMs: Int = 200

        @Option(help: "Microseconds a normal call takes, at least (0 with --max-latency-us 0: the provider answers at once).")
        var minLatencyUs: Int = 1_000

        @Option(help: "Microseconds a normal call takes, at most.")
        var maxLatencyUs: Int = 5_000

        @Option(help: "Seconds before an open reservation is taken for abandoned.")
        var reservationTtl: Int = 900

        @Option(help: "Milliseconds one gateway call may take (a reservation lives at least this plus the settle deadline).")
        var requestTimeoutMs: Int = 60_000

        @Option(help: "Milliseconds the router keeps retrying a settlement the ledger refused.")
        var settleDeadlineMs: Int = 30_000

        @Option(help: "Milliseconds a write waits for another process's lock.")
        var busyTimeoutMs: Int = 10_000

        @Option(help: "Prefix of request ids (default sim-SEED).")
        var requestPrefix: String?

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @Option(help: "Tag the calls agent=agent-1 … agent-N in turn (for per-agent --scope-budget).")
        var agents: Int = 0

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        func validate() throws {
            guard tasks >= 0 else { throw ValidationError("--tasks must not be negative") }
            guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
            guard (0...10_000).contains(agents) else { throw ValidationError("--agents must be between 0 and 10000") }
            for (flag, v) in [("--failure-rate", failureRate), ("--slow-rate", slowRate), ("--cancel-rate", cancelRate), ("--critical-share", criticalShare)] {
                guard (0...1).contains(v) else { throw ValidationError("\(flag) must be between 0 and 1, got \(v)") }
            }
            guard requestTimeoutMs > 0, settleDeadlineMs >= 0 else {
                throw ValidationError("--request-timeout-ms must be positive and --settle-deadline-ms must not be negative")
            }
            guard (0...3_600_000_000).contains(minLatencyUs), (minLatencyUs...3_600_000_000).contains(maxLatencyUs) else {
                throw ValidationError("--min-latency-us and --max-latency-us must be between 0 and an hour, the minimum first")
            }
            guard slowMs >= 0, reservationTtl > 0, busyTimeoutMs >= 0 else {
                throw ValidationError("--slow-ms and --busy-timeout-ms must not be negative; --reservation-ttl must be positive")
            }
            // A slow call sleeps this long: past an hour the run would only hang.
            guard slowMs <= 3_600_000 else { throw ValidationError("--slow-ms must be at most 3600000 (an hour), got \(slowMs)") }
        }

        func run() async throws {
            // The file's catalog, routing and budget apply; --ledger stays required, so a stress run never
            // defaults to the live ledger.
            let settings = try deployment.load()
            try InputFile.checkWritableLedger(ledger)
            let selector = try settings.selector(prices: prices)
            var config = try budget.ledgerConfiguration(forLedger: ledger, file: settings.file)
            config.reservationTimeToLive = .seconds(reservationTtl)
            config.busyTimeout = .milliseconds(busyTimeoutMs)
            let store = try SQLiteLedger(path: ledger, configuration: config)
            let gateway = SimulatedGateway(
                configuration: .init(
                    failureRate: failureRate, slowRate: slowRate, latency: .microseconds(minLatencyUs) ... .microseconds(maxLatencyUs),
                    slowLatency: .milliseconds(slowMs), seed: seed))
            var simulation = LoadSimulation(
                selector: selector, gateway: gateway,
                configuration: .init(
                    tasks: tasks, concurrency: concurrency, criticalShare: criticalShare, cancelRate: cancelRate, seed: seed,
                    requestIDPrefix: requestPrefix))
            simulation.configuration.requestTimeout = .milliseconds(requestTimeoutMs)
            simulation.configuration.settleDeadline = .milliseconds(settleDeadlineMs)
            simulation.configuration.agents = agents
            let report = try await simulation.run(ledger: store)
            print(try report.json())
        }
    }
}
