import FleetLedger
import Foundation
import SpendLedger
import Testing

/// Eight `bats simulate` processes, each 64 concurrent tasks with 10% provider failures, on one PostgreSQL budget
/// that fits a fraction of their demand; one process is SIGKILLed mid-run. With budget leases and without.
@Suite("Fleet: 8 processes on one PostgreSQL budget", .serialized, .enabled(if: PostgresTestServer.enabled, Comment(rawValue: PostgresTestServer.howTo)))
struct FleetProcessTests {
    static let hosts = 8, killed = 3, tasksPerHost = 160
    /// Seconds before a dead host's reservations and leases are reclaimed.
    static let ttl = 9

    struct Report: Decodable {
        var ok: Int
        var refused: Int
        var settled_micros: Int64
    }

    @Test("No overspend in any window or scope, every reservation and lease ends, verify passes, the audit equals the reports", arguments: [true, false])
    func fleet(leases: Bool) async throws {
        let url = try await PostgresTestServer.freshDatabase(leases ? "fleetl" : "fleetd")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-fleet-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = ["BATS_LEDGER_PASSWORD": PostgresTestServer.password ?? ""]
        func arguments(_ i: Int, tasks: Int) -> [String] {
            var a = [
                "simulate", "--ledger", url.description, "--tasks", "\(tasks)", "--concurrency", "64", "--failure-rate", "0.1", "--seed", "\(i + 1)",
                "--request-prefix", "h\(i)-", "--critical-share", "0.02", "--min-latency-us", "2000", "--max-latency-us", "20000",
                "--reservation-ttl", "\(Self.ttl)", "--request-timeout-ms", "2000", "--settle-deadline-ms", "60000", "--busy-timeout-ms", "60000", "--agents", "4", "--daily-budget", "0.60", "--monthly-budget", "5",
                "--scope-budget", "tag:agent=agent-1@0.05", "--scope-budget", "tag:agent=agent-2@0.10/0.50",
            ]
            if leases { a += ["--leases", "--host", "host-\(i)", "--journal", dir.appendingPathComponent("host-\(i).journal").path, "--lease-ttl", "\(Self.ttl)"] }
            return a
        }
        // Create the ledger (and its limits) once, so the eight do not race to record the same limits.
        let first = try await BATSChild.run(arguments(99, tasks: 0), scratch: dir, environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        var running: [(Int, Process, URL)] = []
        for i in 0..<Self.hosts {
            let out = dir.appendingPathComponent("run-\(i)")
            running.append((i, try BATSChild.start(arguments(i, tasks: Self.tasksPerHost), output: out, environment: env), out))
        }
        // One host dies mid-run.
        try await Task.sleep(for: .milliseconds(700))
        kill(running[Self.killed].1.processIdentifier, SIGKILL)
        var reports: [Int: Report] = [:]
        for (i, p, out) in running {
            let o = try await BATSChild.wait(p, output: out)
            if i == Self.killed {
                #expect(o.status == SIGKILL || o.status == 0, "host \(i): \(o.stderr)")
                continue
            }
            #expect(o.status == 0, "host \(i) failed: \(o.stderr)")
            reports[i] = try JSONDecoder().decode(Report.self, from: Data(o.stdout.utf8))
        }
        #expect(reports.values.reduce(0) { $0 + $1.refused } > 0, "the budget should bind")
        // With leases the dead host starts again on its journal, which writes what it had finished, once, and gives
        // back its leases; its reservations (and, without a restart, its leases) end by their time-to-live, reclaimed
        // below at a moment past it (the deadlines are generous: a loaded machine queues on the ledger's lock).
        if leases {
            let restart = try await BATSChild.run(arguments(Self.killed, tasks: 0), scratch: dir, environment: env)
            #expect(restart.status == 0, "\(restart.stderr)")
        }
        let config = PostgresLedger.Configuration(url: url, password: PostgresTestServer.password, recordsLimits: false, operationTimeout: PostgresTestServer.operationTimeout)
        let remote = try await PostgresLedger.connect(config)
        // Before any reclaim: only the dead host may have left reservations open.
        let open = try await remote.reportingCopy().entries(status: .reserved)
        #expect(open.allSatisfy { $0.requestID.hasPrefix("h\(Self.killed)-") }, "\(open.map(\.requestID))")
        _ = try await remote.reclaimExpired(at: Date().addingTimeInterval(3_600))
        #expect(try await remote.openLeaseCount() == 0)
        let copy = try await remote.reportingCopy()
        #expect(try copy.entries(status: .reserved).isEmpty)
        let audit = try copy.audit(by: .day)
        #expect(audit.breaches.isEmpty, "\(audit.breaches.map(AuditFormatterLine.line))")
        #expect(try await remote.verify().isIntact)
        // What each surviving process reports is what the ledger holds under its request ids.
        let entries = try copy.entries()
        for (i, r) in reports {
            let mine = entries.filter { $0.requestID.hasPrefix("h\(i)-") && $0.status == .settled }
            #expect(mine.reduce(Int64(0)) { $0 + ($1.actualCost?.rawValue ?? 0) } == r.settled_micros, "host \(i)")
        }
        // Every scope held: non-critical spend judged by the audit above; the scope windows never ran over.
        #expect(!entries.contains { $0.requestID.hasPrefix("h\(Self.killed)-") && $0.status == .reserved })
        await remote.close()
        // The command line agrees.
        let verify = try await BATSChild.run(["audit", "verify", "--ledger", url.description], scratch: dir, environment: env)
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok:"), "\(verify.stdout)\(verify.stderr)")
        let cliAudit = try await BATSChild.run(["audit", "--ledger", url.description, "--format", "json"], scratch: dir, environment: env)
        #expect(cliAudit.status == 0, "\(cliAudit.stderr)")
    }
}

/// A breach in one line, for a failed expectation.
enum AuditFormatterLine {
    static func line(_ b: BudgetBreach) -> String { "\(b.scope ?? "global") \(b.period) \(b.key) charged \(b.charged) > \(b.limitThen)" }
}
