import BATSCommands
import Foundation
import ModelSelection
import Replay
import SpendLedger
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Checks every invariant a ledger must keep after any run, clean or killed.
enum LedgerInvariants {
    /// Opens `path` read-mostly (nothing recorded) at `now`, which reclaims reservations expired by then.
    static func open(_ path: String, now: Date = Date()) throws -> SQLiteLedger {
        try SQLiteLedger(path: path, configuration: .init(recordsLimits: false), now: now)
    }

    /// Non-critical spend within every limited window; totals equal the entries (verify); integrity ok.
    static func expectHolds(_ l: SQLiteLedger, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for w in try l.windowTotals() + l.scopeWindowTotals() {
            if let limit = w.limit {
                #expect(
                    w.nonCriticalSettled <= limit, "\(w.scope ?? "global") \(w.period) \(w.key): non-critical \(w.nonCriticalSettled) over \(limit)",
                    sourceLocation: sourceLocation)
            }
        }
        let report = try l.verify()
        #expect(report.isIntact, "verify: \(String(describing: report.firstProblem))", sourceLocation: sourceLocation)
        #expect(try l.integrityCheck() == "ok", sourceLocation: sourceLocation)
    }
}

@Suite("Several processes on one ledger file", .serialized)
struct MultiProcessTests {
    typealias Report = LoadSimulation.Report

    static func simulate(_ ledger: String, seed: Int, tasks: Int, concurrency: Int, daily: String, monthly: String = "400", extra: [String] = [])
        -> [String]
    {
        [
            "simulate", "--ledger", ledger, "--tasks", "\(tasks)", "--concurrency", "\(concurrency)", "--failure-rate", "0.1",
            "--slow-rate", "0.05", "--slow-ms", "150", "--cancel-rate", "0.05", "--critical-share", "0.02", "--seed", "\(seed)",
            "--request-prefix", "p\(seed)", "--daily-budget", daily, "--monthly-budget", monthly,
        ] + extra
    }

    static func runProcesses(_ count: Int, ledger: String, scratch: URL, tasks: Int, concurrency: Int, daily: String) async throws -> [Report] {
        let runs = try (1...count).map { i in
            let out = scratch.appendingPathComponent("proc\(i)")
            return (try BATSChild.start(simulate(ledger, seed: i, tasks: tasks, concurrency: concurrency, daily: daily), output: out), out)
        }
        var reports: [Report] = []
        for (p, out) in runs {
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "bats simulate failed: \(o.stderr)")
            let r = try JSONDecoder().decode(Report.self, from: Data(o.stdout.utf8))
            #expect(r.ledgerErrors == 0 && r.otherErrors == 0, "\(r.firstError ?? "")")
            #expect(r.ok + r.refused + r.failed + r.cancelled == tasks)
            reports.append(r)
        }
        return reports
    }

    static func expectAllFinished(_ l: SQLiteLedger, reports: [Report]) throws {
        #expect(try l.entries(status: .reserved).isEmpty, "reservations left open after clean exits")
        #expect(try l.entries(status: .settled).count == reports.reduce(0) { $0 + $1.ok })
    }

    @Test("4 processes × 64 tasks, 10% provider failures, slow calls, cancellations: the budget holds, nothing is left open")
    func fourProcesses() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let reports = try await Self.runProcesses(4, ledger: path, scratch: dir, tasks: 2_500, concurrency: 64, daily: "8")
        #expect(reports.reduce(0) { $0 + $1.refused } > 0, "the budget should fit only a fraction of the calls")
        #expect(reports.reduce(0) { $0 + $1.cancelled } > 0)
        let l = try LedgerInvariants.open(path)
        try LedgerInvariants.expectHolds(l)
        try Self.expectAllFinished(l, reports: reports)
        // Reservation latency under 4-process contention is measured by Benchmarks/multiprocess.sh, not asserted here.
    }

    @Test("Two processes sharing one ledger file keep one budget")
    func twoProcesses() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let reports = try await Self.runProcesses(2, ledger: path, scratch: dir, tasks: 1_000, concurrency: 32, daily: "2")
        #expect(reports.reduce(0) { $0 + $1.refused } > 0)
        let l = try LedgerInvariants.open(path)
        try LedgerInvariants.expectHolds(l)
        try Self.expectAllFinished(l, reports: reports)
        // Both processes' request ids are in the one ledger.
        let prefixes = Set(try l.entries().map { $0.requestID.prefix(3) })
        #expect(prefixes.contains("p1-") && prefixes.contains("p2-"))
    }
}

@Suite("bats simulate flags")
struct SimulateCommandTests {
    @Test(
        "Bad simulate flags are usage errors",
        arguments: [
            (["simulate", "--ledger", "l", "--failure-rate", "2"], "--failure-rate must be between 0 and 1"),
            (["simulate", "--ledger", "l", "--cancel-rate=-0.1"], "--cancel-rate must be between 0 and 1"),
            (["simulate", "--ledger", "l", "--concurrency", "0"], "--concurrency must be at least 1"),
            (["simulate", "--ledger", "l", "--daily-budget=-1"], "must not be negative"),
            (["simulate", "--ledger", "l", "--monthly-budget", "lots"], "must be a dollar amount"),
            (["simulate", "--ledger", "l", "--tz", "Europe/Atlantis"], "unknown time zone"),
        ])
    func usageErrors(arguments: [String], message: String) {
        #expect {
            _ = try BATSCommand.parseAsRoot(arguments)
        } throws: { error in
            BATSCommand.message(for: error).contains(message) && BATSCommand.exitCode(for: error) == .validationFailure
        }
    }

    @Test("A zero budget is legal: only CRITICAL calls run")
    func zeroBudget() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let o = try await BATSChild.run(
            ["simulate", "--ledger", path, "--tasks", "200", "--critical-share", "0.2", "--failure-rate", "0", "--cancel-rate", "0",
             "--slow-rate", "0", "--daily-budget", "0", "--monthly-budget", "0"], scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        let r = try JSONDecoder().decode(LoadSimulation.Report.self, from: Data(o.stdout.utf8))
        #expect(r.ok > 0 && r.ok + r.refused == 200)
        let l = try LedgerInvariants.open(path)
        #expect(try l.entries(status: .settled).allSatisfy { $0.tier == .critical })
        try LedgerInvariants.expectHolds(l)
    }
}
