import ArgumentParser
import FleetLedger
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

        @Option(help: "The ledger: an SQLite file (created if missing) or postgres://USER@HOST:PORT/DB.")
        var ledger: String

        @Flag(help: "On a PostgreSQL ledger, reserve locally against budget leases (with --host and --journal).")
        var leases = false

        @Option(help: "This host's name in the fleet, for its leases and entries; required with --leases (a restart under the same name finds its journal).")
        var host: String?

        @Option(help: "The host's journal file with --leases (default: bats-journal-HOST.sqlite).")
        var journal: String?

        @Option(help: "Seconds a lease lives on the server without renewal (--leases).")
        var leaseTtl: Int = 30

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
            guard (1...86_400).contains(leaseTtl) else { throw ValidationError("--lease-ttl must be between 1 and 86400 seconds") }
            if !leases, host != nil || journal != nil { throw ValidationError("--host and --journal go with --leases") }
            if leases, host == nil { throw ValidationError("--leases needs --host NAME, this host's name in the fleet") }
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
            let location = try LedgerLocation(ledger)
            let selector = try settings.selector(prices: prices)
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
            let report: LoadSimulation.Report
            switch location {
            case .file(let path):
                guard !leases else { throw ValidationError("--leases needs a PostgreSQL ledger (--ledger postgres://…)") }
                try InputFile.checkWritableLedger(path)
                var config = try budget.ledgerConfiguration(forLedger: path, file: settings.file)
                config.reservationTimeToLive = .seconds(reservationTtl)
                config.busyTimeout = .milliseconds(busyTimeoutMs)
                report = try await simulation.run(ledger: try SQLiteLedger(path: path, configuration: config))
            case .postgres(let url):
                var config = try await budget.postgresConfiguration(url, file: settings.file)
                config.reservationTimeToLive = .seconds(reservationTtl)
                config.operationTimeout = .milliseconds(max(busyTimeoutMs, 1_000))
                report = try await PostgresLedger.withLedger(config) { remote in
                    let r = try await leases ? runLeased(simulation, remote: remote) : simulation.run(ledger: remote)
                    printError("bats simulate: \(remote.transactionCount) PostgreSQL transactions")
                    return r
                }
            }
            print(try report.json())
        }

        /// The simulation on budget leases: the host's journal is opened (flushing what a previous run left), leases
        /// are kept renewed beside the workload, and everything is written back and returned at the end.
        func runLeased(_ simulation: LoadSimulation, remote: PostgresLedger) async throws -> LoadSimulation.Report {
            guard let name = host else { throw ValidationError("--leases needs --host NAME, this host's name in the fleet") }
            let config = LeasedLedger.Configuration(host: name, journalPath: journal ?? "bats-journal-\(name).sqlite", leaseTimeToLive: .seconds(leaseTtl))
            let leased = try await LeasedLedger.open(remote: remote, configuration: config)
            let upkeep = Task { await leased.run() }
            let report: LoadSimulation.Report
            do {
                report = try await simulation.run(ledger: leased)
            } catch {
                upkeep.cancel()
                throw error
            }
            upkeep.cancel()
            await upkeep.value
            try await leased.close()
            return report
        }
    }
}
