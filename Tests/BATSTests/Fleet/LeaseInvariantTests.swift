import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// Budget leases across several hosts on one PostgreSQL ledger, under a seeded random schedule that checks after
/// every step that settled + reserved + outstanding leases stays within every limit (docs/ledger.md, "Budget leases").
@Suite("Budget leases", .enabled(if: PostgresTestServer.enabled, Comment(rawValue: PostgresTestServer.howTo)))
struct LeaseInvariantTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// Windows where non-critical settled + reserved + leased passes the limit, as `scope period key: used > limit`.
    static func violations(_ url: PostgresLedgerURL) async throws -> Int64 {
        try await PostgresTestServer.integer(
            url,
            """
            SELECT COUNT(*) FROM (
                SELECT settled - critical_settled + reserved - critical_reserved + leased AS used, limit_micros FROM budget_window
                UNION ALL SELECT settled - critical_settled + reserved - critical_reserved + leased, limit_micros FROM scope_window) w
            WHERE limit_micros IS NOT NULL AND used > limit_micros
            """)
    }

    static func openLeases(_ url: PostgresLedgerURL) async throws -> Int64 {
        try await PostgresTestServer.integer(url, "SELECT COUNT(*) FROM budget_lease WHERE status = 'open'")
    }

    /// The shared ledger of one test, on its own database.
    static func remote(_ url: PostgresLedgerURL, _ limits: BudgetLimits, now: Date) async throws -> PostgresLedger {
        try await PostgresLedger.connect(
            .init(url: url, password: PostgresTestServer.password, limits: limits, operationTimeout: PostgresTestServer.operationTimeout), now: now)
    }

    /// Reserves and settles one medium call (at its estimate) per id, one after another, the i-th at `at(i)`.
    /// - Returns: `false` after recording an issue when a call is refused.
    static func settleCalls(_ l: LeasedLedger, _ ids: [String], at: (Int) -> Date) async throws -> Bool {
        let t = F.task(.medium)
        for (i, id) in ids.enumerated() {
            guard case .reserved(let res) = try await l.reserve(ReservationRequest(requestID: id), at: at(i), choose: { F.selector.select(t, budget: $0) }) else {
                Issue.record("\(id) refused")
                return false
            }
            _ = try await l.settle(res.id, Settlement(inputTokens: 10, outputTokens: 10, cost: res.selection.estimate), at: at(i))
        }
        return true
    }

    struct Host {
        var name: String
        var journal: String
        var remote: PostgresLedger
        var ledger: LeasedLedger?
        var open: [(Int64, MicroDollars)] = []
    }

    static func config(_ name: String, _ journal: String, ttl: Duration = .seconds(30)) -> LeasedLedger.Configuration {
        LeasedLedger.Configuration(
            host: name, journalPath: journal, policy: .init(maxSharePartsPerMillion: 100_000, maxAmount: 20_000, horizon: .seconds(10), exactBelowCalls: 20),
            leaseTimeToLive: ttl, flushEvery: 8, flushInterval: .seconds(2), idleReturn: .seconds(5))
    }

    @Test("A random schedule of 4 hosts (reserve, settle, release, flush, crash, restart, time passing) never passes a limit", arguments: [1, 2, 3, 4])
    func randomSchedule(seed: Int) async throws {
        let url = try await PostgresTestServer.freshDatabase("lease")
        let scopes = try ["a0", "a1", "a2"].map { try BudgetScope([.tag(key: "agent", value: $0)], daily: MicroDollars(micros: 12_000)) }
        let limits = BudgetLimits(daily: MicroDollars(micros: 40_000), monthly: MicroDollars(micros: 1_000_000), scopes: scopes)
        let dir = try F.tempDir()
        var rng = SplitMix64(seed: UInt64(seed))
        var now = t0
        let ttl = Duration.seconds(30)
        func remote() async throws -> PostgresLedger {
            try await PostgresLedger.connect(
                .init(url: url, password: PostgresTestServer.password, limits: limits, reservationTimeToLive: .seconds(600), operationTimeout: PostgresTestServer.operationTimeout, maximumConnections: 2), now: now)
        }
        var hosts: [Host] = []
        for i in 0..<4 {
            let r = try await remote()
            let j = dir.appendingPathComponent("h\(i).journal").path
            hosts.append(Host(name: "h\(i)", journal: j, remote: r, ledger: try await LeasedLedger.open(remote: r, configuration: Self.config("h\(i)", j, ttl: ttl), now: now)))
        }
        var settledByHosts: Int64 = 0
        var leasedSeen = false
        var refusals = 0
        for step in 0..<400 {
            let h = Int(rng.next() % 4)
            let roll = rng.next() % 100
            if hosts[h].ledger == nil {
                // A crashed host comes back with its journal.
                if roll < 30 {
                    hosts[h].ledger = try await LeasedLedger.open(remote: hosts[h].remote, configuration: Self.config(hosts[h].name, hosts[h].journal, ttl: ttl), now: now)
                }
            } else if let l = hosts[h].ledger {
                switch roll {
                case 0..<45:
                    let tier: Complexity = rng.next() % 25 == 0 ? .critical : [.simple, .medium, .complex][Int(rng.next() % 3)]
                    let agent = "a\(rng.next() % 4)"
                    let t = F.task(tier, input: 800 + Int(rng.next() % 1_500), output: 200 + Int(rng.next() % 600))
                    do {
                        let o = try await l.reserve(ReservationRequest(requestID: "s\(seed)-\(step)", taskKind: "k", tags: ["agent": agent]), at: now) {
                            F.selector.select(t, budget: $0)
                        }
                        switch o {
                        case .reserved(let r): hosts[h].open.append((r.id, r.selection.estimate))
                        case .refused: refusals += 1
                        }
                    } catch let e as LedgerError where e.kind == .wouldExceedBudget { refusals += 1 }
                case 45..<75 where !hosts[h].open.isEmpty:
                    let (id, est) = hosts[h].open.remove(at: Int(rng.next() % UInt64(hosts[h].open.count)))
                    let cost = MicroDollars(micros: est.rawValue * Int64(50 + rng.next() % 51) / 100)
                    _ = try await l.settle(id, Settlement(inputTokens: 100, outputTokens: 100, cost: cost), at: now)
                    settledByHosts += cost.rawValue
                case 75..<85 where !hosts[h].open.isEmpty:
                    let (id, _) = hosts[h].open.remove(at: Int(rng.next() % UInt64(hosts[h].open.count)))
                    try await l.release(id, error: "provider 503", at: now)
                case 85..<92:
                    try await l.maintain(at: now)
                case 92..<95:
                    // The host dies: nothing is closed, its journal and leases are left behind.
                    hosts[h].ledger = nil
                    hosts[h].open = []
                default:
                    now = now.addingTimeInterval(Double(rng.next() % 20))
                }
                if l.holdings.leases > 0 { leasedSeen = true }
            }
            let v = try await Self.violations(url)
            #expect(v == 0, "step \(step): \(v) window(s) over their limit")
            if v != 0 { break }
        }
        #expect(leasedSeen, "the schedule took leases")
        #expect(refusals > 0, "the budget bound the schedule")
        // Every host ends its calls and closes; dead hosts' leases expire and are charged.
        for i in hosts.indices {
            if hosts[i].ledger == nil {
                hosts[i].ledger = try await LeasedLedger.open(remote: hosts[i].remote, configuration: Self.config(hosts[i].name, hosts[i].journal, ttl: ttl), now: now)
                hosts[i].open = []
            }
            for (id, _) in hosts[i].open { try await hosts[i].ledger!.release(id, error: "end", at: now) }
            try await hosts[i].ledger!.close(at: now)
        }
        now = now.addingTimeInterval(700)
        _ = try await hosts[0].remote.reclaimExpired(at: now)
        #expect(try await Self.violations(url) == 0)
        #expect(try await Self.openLeases(url) == 0)
        let report = try await hosts[0].remote.verify()
        #expect(report.isIntact, "\(String(describing: report.firstProblem))")
        let copy = try await hosts[0].remote.reportingCopy()
        #expect(try copy.entries(status: .reserved).isEmpty)
        for h in hosts { await h.remote.close() }
    }

    @Test("Leases keep PostgreSQL off the hot path: one host's 400 calls take at most one transaction per 25")
    func fewTransactions() async throws {
        let url = try await PostgresTestServer.freshDatabase("lease")
        let limits = BudgetLimits(daily: .dollars(100), monthly: nil)
        let r = try await Self.remote(url, limits, now: t0)
        let dir = try F.tempDir()
        var c = Self.config("solo", dir.appendingPathComponent("j").path)
        c.flushEvery = 50
        c.flushInterval = .seconds(3_600)
        c.policy.maxAmount = 2_000_000
        let l = try await LeasedLedger.open(remote: r, configuration: c, now: t0)
        let before = r.transactionCount, t0 = self.t0
        guard try await Self.settleCalls(l, (0..<400).map { "q\($0)" }, at: { t0.addingTimeInterval(Double($0) * 0.01) }) else { return }
        let used = r.transactionCount - before
        #expect(used <= 16, "\(used) transactions for 400 calls")
        try await l.close(at: t0.addingTimeInterval(10))
        let copy = try await r.reportingCopy()
        #expect(try copy.entries(status: .settled).count == 400)
        #expect(try await r.verify().isIntact)
        #expect(try await Self.openLeases(url) == 0)
        await r.close()
    }

    @Test("A host that closes cleanly and starts again on its journal records every call of both runs (origins never repeat)")
    func restartKeepsOriginsUnique() async throws {
        let url = try await PostgresTestServer.freshDatabase("lease")
        let r = try await Self.remote(url, BudgetLimits(daily: .dollars(100), monthly: nil), now: t0)
        let dir = try F.tempDir()
        let t0 = self.t0
        for run in 0..<2 {
            let l = try await LeasedLedger.open(remote: r, configuration: Self.config("again", dir.appendingPathComponent("j").path), now: t0)
            guard try await Self.settleCalls(l, (0..<5).map { "run\(run)-\($0)" }, at: { _ in t0 }) else { return }
            try await l.close(at: t0)
        }
        let settled = try await r.reportingCopy().entries(status: .settled)
        #expect(settled.count == 10, "\(settled.map(\.requestID))")
        await r.close()
    }

    @Test("A leased call is judged where its lease was granted, and moving that position breaks verify")
    func judgedAtIsSealed() async throws {
        let url = try await PostgresTestServer.freshDatabase("lease")
        let r = try await Self.remote(url, BudgetLimits(daily: .dollars(100), monthly: nil), now: t0)
        let dir = try F.tempDir()
        let l = try await LeasedLedger.open(remote: r, configuration: Self.config("judged", dir.appendingPathComponent("j").path), now: t0)
        let t0 = self.t0
        guard try await Self.settleCalls(l, (0..<3).map { "j\($0)" }, at: { _ in t0 }) else { return }
        try await l.close(at: t0)
        #expect(try await PostgresTestServer.integer(url, "SELECT COUNT(*) FROM entry WHERE judged_at IS NOT NULL") == 3)
        #expect(try await r.verify().isIntact)
        try await PostgresTestServer.execute(url, "UPDATE entry SET judged_at = judged_at + 1000 WHERE request_id = 'j1'")
        let report = try await r.verify()
        #expect(report.firstProblem?.kind == .edited, "\(String(describing: report.firstProblem))")
        await r.close()
    }
}
