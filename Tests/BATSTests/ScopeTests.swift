import BATS
import Foundation
import Replay
import Testing

@testable import SpendLedger

/// Budget scopes: per agent, task kind, tier or caller key, nested, under the global budget, all checked in the
/// reservation's one transaction.
@Suite("Budget scopes")
struct ScopeTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func scope(_ name: String, daily: MicroDollars? = nil, monthly: MicroDollars? = nil, alerts: [BudgetAlertThreshold] = []) -> BudgetScope {
        // Names in tests are well formed.
        (try? BudgetScope(name: name, daily: daily, monthly: monthly, alerts: alerts)) ?? BudgetScope([])
    }

    static func reserve(
        _ l: SQLiteLedger, _ tier: Complexity, tags: [String: String] = [:], kind: String? = "k", key: String? = nil, at date: Date = t0,
        output: Int = 500
    ) throws -> ReservationOutcome {
        let t = F.task(tier, output: output)
        return try l.reserveNow(ReservationRequest(requestID: UUID().uuidString, taskKind: kind, tags: tags, tier: tier, callerKey: key), at: date) {
            F.selector.select(t, budget: $0)
        }
    }

    static func estimate(_ tier: Complexity, output: Int = 500) -> MicroDollars {
        let t = F.task(tier, output: output)
        return F.selector.select(t, budget: .unlimited).estimate
    }

    @Test("500 concurrent routes across 4 agents with per-agent budgets: every scope and the global windows hold")
    func concurrentAgents() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let limits = BudgetLimits(
            daily: .dollars(3), monthly: nil,
            scopes: [
                Self.scope("tag:agent=agent-1", daily: .cents(5)), Self.scope("tag:agent=agent-2", daily: .cents(20)),
                Self.scope("tag:agent=agent-3", daily: .cents(40)),
            ])
        let ledger = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        var sim = LoadSimulation(
            selector: F.selector, gateway: SimulatedGateway(configuration: .init(failureRate: 0.1, seed: 7)),
            configuration: .init(tasks: 500, concurrency: 64, criticalShare: 0.02, cancelRate: 0.05, seed: 7, requestIDPrefix: "agents"))
        sim.configuration.agents = 4
        let report = try await sim.run(ledger: ledger, now: { Self.t0 })
        #expect(report.ledgerErrors == 0 && report.otherErrors == 0, "\(report.firstError ?? "")")
        #expect(report.refused > 0, "the agents' budgets should fit only a fraction")
        try LedgerInvariants.expectHolds(ledger)
        let scoped = try ledger.scopeWindowTotals()
        for agent in 1...3 {
            let day = try #require(scoped.first { $0.scope == "tag:agent=agent-\(agent)" && $0.period == "day" })
            #expect(day.nonCriticalSettled <= day.limit ?? .zero)
            #expect(day.reserved == .zero)
        }
        // Agent 1's small budget bound its refusals, and they name its scope.
        let refusals = try ledger.entries(status: .refused).filter { $0.tags["agent"] == "agent-1" }
        #expect(!refusals.isEmpty)
        #expect(refusals.allSatisfy { $0.error?.contains("scope tag:agent=agent-1 day") == true })
        // Agent 4 has no scope: it ran within the global budget only.
        #expect(!scoped.contains { $0.scope?.contains("agent-4") == true })
        #expect(try ledger.entries(status: .settled).contains { $0.tags["agent"] == "agent-4" })
    }

    @Test("The same per-agent budgets hold across two OS processes")
    func twoProcesses() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let scopes = ["--scope-budget", "tag:agent=agent-1@0.05", "--scope-budget", "tag:agent=agent-2@0.15/1", "--scope-budget", "tag:agent=agent-3@0.30"]
        let runs = try (1...2).map { i in
            let out = dir.appendingPathComponent("p\(i)")
            let args = MultiProcessTests.simulate(path, seed: i, tasks: 400, concurrency: 32, daily: "2", extra: ["--agents", "4"] + scopes)
            return (try BATSChild.start(args, output: out), out)
        }
        var refused = 0
        for (p, out) in runs {
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "bats simulate failed: \(o.stderr)")
            let r = try JSONDecoder().decode(LoadSimulation.Report.self, from: Data(o.stdout.utf8))
            #expect(r.ledgerErrors == 0 && r.otherErrors == 0, "\(r.firstError ?? "")")
            refused += r.refused
        }
        #expect(refused > 0)
        let l = try LedgerInvariants.open(path)
        try LedgerInvariants.expectHolds(l)
        #expect(Set(try l.scopeWindowTotals().compactMap(\.scope)) == ["tag:agent=agent-1", "tag:agent=agent-2", "tag:agent=agent-3"])
        #expect(try l.entries(status: .reserved).isEmpty)
    }

    @Test("A scope nested in another: a call counts in both, the inner one binds, and only matching calls count")
    func nested() throws {
        let e = Self.estimate(.simple)
        let limits = BudgetLimits(
            daily: .dollars(100), monthly: nil,
            scopes: [Self.scope("key:desk-a", daily: MicroDollars(micros: e.rawValue * 10)), Self.scope("key:desk-a/tag:agent=scanner", daily: MicroDollars(micros: e.rawValue * 2))])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let scanner = ["agent": "scanner"]
        for _ in 0..<2 { #expect(F.reservation(try Self.reserve(l, .simple, tags: scanner, key: "desk-a")) != nil) }
        // The inner scope is full; its refusal names it.
        guard case .refused(let sel, let snapshot, _) = try Self.reserve(l, .simple, tags: scanner, key: "desk-a") else {
            Issue.record("the nested scope should refuse")
            return
        }
        #expect(sel.refusal?.binding?.scope == "key:desk-a/tag:agent=scanner")
        #expect(snapshot.scopes.map(\.name) == ["key:desk-a", "key:desk-a/tag:agent=scanner"])
        // Another agent of the same key counts in the outer scope only.
        let other = try #require(F.reservation(try Self.reserve(l, .simple, tags: ["agent": "other"], key: "desk-a")))
        #expect(other.scopes == ["key:desk-a"])
        // The scanner tag without the key belongs to neither.
        let loose = try #require(F.reservation(try Self.reserve(l, .simple, tags: scanner)))
        #expect(loose.scopes.isEmpty && loose.snapshot.scopes.isEmpty)
        let totals = Dictionary(uniqueKeysWithValues: try l.scopeWindowTotals().filter { $0.period == "day" }.map { ($0.scope ?? "", $0.reserved) })
        #expect(totals["key:desk-a"] == MicroDollars(micros: e.rawValue * 3))
        #expect(totals["key:desk-a/tag:agent=scanner"] == MicroDollars(micros: e.rawValue * 2))
        #expect(try l.verify().isIntact)
    }

    @Test("A call in no scope is checked against the global windows only, and records no scope")
    func noScope() throws {
        let limits = BudgetLimits(daily: .dollars(1), monthly: nil, scopes: [Self.scope("tag:agent=scanner", daily: .zero)])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let r = try #require(F.reservation(try Self.reserve(l, .simple, tags: ["agent": "trader"])))
        #expect(r.scopes.isEmpty && r.snapshot.scopes.isEmpty)
        #expect(try l.scopeWindowTotals().isEmpty)
        #expect(try l.entry(id: r.id)?.status == .reserved)
        // The scanner's zero budget refuses it, naming the scope.
        guard case .refused(let sel, _, let id) = try Self.reserve(l, .simple, tags: ["agent": "scanner"]) else {
            Issue.record("a zero scope budget should refuse a non-critical call")
            return
        }
        #expect(sel.refusal?.summary.contains("scope tag:agent=scanner") == true)
        #expect(try l.entry(id: id)?.error?.contains("scope tag:agent=scanner") == true)
    }

    @Test("A downgrade for a scope's budget names the scope")
    func downgradeNamesScope() throws {
        let kimi = Self.estimate(.complex)
        let limits = BudgetLimits(daily: .dollars(100), monthly: nil, scopes: [Self.scope("kind:options_structure", daily: MicroDollars(micros: kimi.rawValue - 1))])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let r = try #require(F.reservation(try Self.reserve(l, .complex, kind: "options_structure")))
        #expect(r.selection.reason == .downgradedForBudget)
        #expect(r.selection.boundBy?.scope == "kind:options_structure")
        #expect(r.selection.boundBy?.description == "scope kind:options_structure day 2026-11-20")
    }

    @Test("Tier scopes: a call counts in its tier's scope")
    func tierScope() throws {
        let limits = BudgetLimits(daily: nil, monthly: nil, scopes: [Self.scope("tier:simple", monthly: .zero)])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        #expect(F.reservation(try Self.reserve(l, .simple)) == nil)
        #expect(F.reservation(try Self.reserve(l, .medium)) != nil)
        // A request that does not name its tier is still checked against its tier's scope, from the selection, in
        // the same transaction: the ledger refuses what the selector could not see.
        let t = F.task(.simple)
        #expect {
            try l.reserveNow(ReservationRequest(requestID: "no-tier"), at: Self.t0) { F.selector.select(t, budget: $0) }
        } throws: { ($0 as? LedgerError)?.kind == .wouldExceedBudget && "\($0)".contains("scope tier:simple") }
    }

    @Test("CRITICAL is never refused by a scope; it is recorded against the scope and flagged where it pushed it over")
    func critical() throws {
        let limits = BudgetLimits(daily: .dollars(100), monthly: nil, scopes: [Self.scope("tag:agent=trader", daily: .cents(1))])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let r = try #require(F.reservation(try Self.reserve(l, .critical, tags: ["agent": "trader"])))
        #expect(r.selection.exceedsScopes == ["tag:agent=trader"])
        #expect(r.scopes == ["tag:agent=trader"])
        let receipt = try l.settleNow(r.id, Settlement(inputTokens: 1_000, outputTokens: 500, cost: r.selection.estimate), at: Self.t0)
        #expect(receipt.overLimit)
        let day = try #require(try l.scopeWindowTotals().first { $0.period == "day" })
        #expect(day.criticalSettled == r.selection.estimate && day.settled == r.selection.estimate)
        // A second critical call still runs.
        #expect(F.reservation(try Self.reserve(l, .critical, tags: ["agent": "trader"])) != nil)
        #expect(try l.verify().isIntact)
    }

    @Test("Scope windows follow the ledger's zone across a DST change (New York, 2026-03-08 has 23 hours)")
    func dst() throws {
        let tz = try BudgetCalendar(timeZoneIdentifier: "America/New_York")
        let e = Self.estimate(.simple)
        let limits = BudgetLimits(daily: nil, monthly: nil, scopes: [Self.scope("tag:agent=scanner", daily: MicroDollars(micros: e.rawValue * 2))])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits, calendar: tz), now: F.utc("2026-03-08T05:00:00Z"))
        let tags = ["agent": "scanner"]
        // 00:30 EST and 23:30 EDT on March 8 are the same local day (23 hours apart less 1).
        let early = F.utc("2026-03-08T05:30:00Z"), late = F.utc("2026-03-09T03:30:00Z"), next = F.utc("2026-03-09T04:30:00Z")
        let a = try #require(F.reservation(try Self.reserve(l, .simple, tags: tags, at: early)))
        let b = try #require(F.reservation(try Self.reserve(l, .simple, tags: tags, at: late)))
        #expect(a.dayKey == "2026-03-08" && b.dayKey == "2026-03-08")
        #expect(F.reservation(try Self.reserve(l, .simple, tags: tags, at: late)) == nil, "the scope's day is full")
        // 00:30 EDT on March 9 is a new day for the scope.
        let c = try #require(F.reservation(try Self.reserve(l, .simple, tags: tags, at: next)))
        #expect(c.dayKey == "2026-03-09")
        let days = try l.scopeWindowTotals().filter { $0.period == "day" }.map(\.key)
        #expect(days == ["2026-03-08", "2026-03-09"])
    }

    @Test("Scope limits are the ledger's state: another process's ledger enforces them, and the audit judges by the limits then")
    func limitsAreState() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let limits = BudgetLimits(daily: nil, monthly: nil, scopes: [Self.scope("tag:agent=scanner", daily: .zero)])
        _ = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        let other = try SQLiteLedger(path: path, now: Self.t0)
        #expect(other.limits.scopes.map(\.name) == ["tag:agent=scanner"])
        #expect(F.reservation(try Self.reserve(other, .simple, tags: ["agent": "scanner"])) == nil)
        // Reopening with the same limits records nothing new.
        _ = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        #expect(try other.recordedLimits().count == 1)
    }

    @Test("verify finds a scope window whose totals were edited")
    func verifyScopeTotals() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let limits = BudgetLimits(daily: .dollars(10), monthly: nil, scopes: [Self.scope("tag:agent=scanner", daily: .dollars(1))])
        let l = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        let r = try #require(F.reservation(try Self.reserve(l, .simple, tags: ["agent": "scanner"])))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: .cents(1)), at: Self.t0)
        #expect(try l.verify().isIntact)
        try l.writer.write { db in try db.execute(sql: "UPDATE scope_window SET settled = settled - 5000") }
        let problem = try #require(try l.verify().firstProblem)
        #expect(problem.kind == .totalsMismatch && problem.detail.contains("scope tag:agent=scanner"))
    }
}

@Suite("Replay with budget scopes")
struct ScopeReplayTests {
    @Test("A replay honours per-agent budgets and reports a row per scope that agrees with the ledger")
    func perAgentReplay() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let limits = BudgetLimits(
            daily: .dollars(2), monthly: .dollars(50),
            scopes: [ScopeTests.scope("tag:agent=scanner", daily: .cents(10)), ScopeTests.scope("tag:agent=analyst", daily: .cents(50), monthly: .dollars(8))])
        let (r, ledger) = try ReplayTests.replay(try ReplayTests.fixture(), limits: limits, ledgerIn: dir)
        #expect(r.scopes.map(\.name) == ["tag:agent=analyst", "tag:agent=scanner"])
        let scanner = try #require(r.scopes.last), analyst = try #require(r.scopes.first)
        #expect(scanner.refusals > 0 && analyst.refusals > 0)
        for s in r.scopes {
            #expect(!s.nonCriticalOverBudget, "\(s.name) passed its limit")
            #expect(!s.days.isEmpty && s.days.count <= 30)
        }
        #expect(scanner.maxDayNonCriticalSpend <= .cents(10) && analyst.maxMonthNonCriticalSpend <= .dollars(8))
        // The report's scope spend is the ledger's.
        let months = try ledger.scopeWindowTotals().filter { $0.period == "month" }
        for s in r.scopes {
            let settled = months.filter { $0.scope == s.name }.reduce(MicroDollars.zero) { (try? $0.adding($1.settled)) ?? .max }
            #expect(settled == s.spend, "\(s.name)")
        }
        try LedgerInvariants.expectHolds(ledger)
    }
}

@Suite("Audit with budget scopes")
struct ScopeAuditTests {
    @Test("audit --by tag:agent shows each agent's scope limit; breaches are judged per scope against the limits then")
    func auditByTag() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let e = ScopeTests.estimate(.simple)
        let limit = MicroDollars(micros: e.rawValue * 2)
        let limits = BudgetLimits(daily: .dollars(100), monthly: nil, scopes: [ScopeTests.scope("tag:agent=scanner", daily: limit)])
        let l = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: ScopeTests.t0)
        let a = try #require(LedgerFixture.reservation(try ScopeTests.reserve(l, .simple, tags: ["agent": "scanner"])))
        let b = try #require(LedgerFixture.reservation(try ScopeTests.reserve(l, .simple, tags: ["agent": "scanner"])))
        _ = try l.settleNow(a.id, Settlement(inputTokens: 1, outputTokens: 1, cost: e), at: ScopeTests.t0)
        // The provider billed past b's reservation: the scope's day passes its limit (the global one does not).
        _ = try l.settleNow(b.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: e.rawValue + 1)), at: ScopeTests.t0)
        // Raising the scope's limit afterwards neither hides the breach nor changes the limit it was judged by.
        var raised = limits
        raised.scopes[0].daily = .dollars(10)
        _ = try SQLiteLedger(path: path, configuration: .init(limits: raised), now: ScopeTests.t0)
        let audit = try l.audit(by: .tag("agent"))
        let row = try #require(audit.rows.first { $0.group == "scanner" })
        #expect(row.scope == "tag:agent=scanner" && row.scopeDailyLimit == .dollars(10))
        #expect(audit.breaches.count == 1)
        let breach = try #require(audit.breaches.first)
        #expect(breach.scope == "tag:agent=scanner" && breach.period == "day" && breach.limitThen == limit && breach.limitNow == .dollars(10))
        #expect(breach.overReservations == 1)
    }
}
