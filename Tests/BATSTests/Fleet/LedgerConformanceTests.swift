import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// The ledger's semantics, once for every backend: what an embedding, the router and the reports rely on.
@Suite("Ledger conformance (SQLite and PostgreSQL)")
struct LedgerConformanceTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func reserve(_ l: any BudgetLedger, _ tier: Complexity, at date: Date, id: String = UUID().uuidString, tags: [String: String] = ["agent": "a1"])
        async throws -> ReservationOutcome
    {
        let t = F.task(tier)
        return try await l.reserve(ReservationRequest(requestID: id, taskKind: "k", tags: tags), at: date) { F.selector.select(t, budget: $0) }
    }

    @Test("Reserve, settle and release keep exact running totals; finished and unknown reservations are refused", arguments: LedgerBackend.all)
    func totals(_ backend: LedgerBackend) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(1), monthly: .dollars(10)), now: t0)
        let l = u.ledger
        let r1 = try #require(F.reservation(try await Self.reserve(l, .simple, at: t0)))
        let r2 = try #require(F.reservation(try await Self.reserve(l, .medium, at: t0)))
        var s = try await l.snapshot(at: t0)
        #expect(s.daily.reserved == r1.selection.estimate + r2.selection.estimate)
        let receipt = try await l.settle(r1.id, Settlement(inputTokens: 900, outputTokens: 100, cost: MicroDollars(micros: 400)), at: t0)
        #expect(receipt.daily?.settled == MicroDollars(micros: 400))
        try await l.release(r2.id, error: "provider 503", at: t0)
        s = try await l.snapshot(at: t0)
        #expect(s.daily.reserved == .zero && s.daily.settled == MicroDollars(micros: 400) && s.monthly.settled == MicroDollars(micros: 400))
        await #expect { try await l.release(r1.id, error: nil, at: t0) } throws: { ($0 as? LedgerError)?.kind == .alreadyFinished }
        await #expect { _ = try await l.settle(999, Settlement(inputTokens: 1, outputTokens: 1, cost: .zero), at: t0) } throws: {
            ($0 as? LedgerError)?.kind == .unknownReservation
        }
        let e = try #require(try await u.reports().entry(id: r1.id))
        #expect(e.status == .settled && e.actualCost == MicroDollars(micros: 400) && e.tags == ["agent": "a1"])
        try await u.expectInvariants()
        await u.close()
    }

    @Test("Bad amounts are refused with a typed error and change nothing", arguments: LedgerBackend.all)
    func badInput(_ backend: LedgerBackend) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(1), monthly: nil), now: t0)
        let r = try #require(F.reservation(try await Self.reserve(u.ledger, .simple, at: t0)))
        await #expect { _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: -5)), at: t0) } throws: {
            ($0 as? LedgerError)?.kind == .invalidAmount
        }
        await #expect { _ = try await u.ledger.settle(r.id, Settlement(inputTokens: -1, outputTokens: 1, cost: .zero), at: t0) } throws: {
            ($0 as? LedgerError)?.kind == .invalidAmount
        }
        let t = F.task(.simple)
        await #expect {
            _ = try await u.ledger.reserve(ReservationRequest(requestID: "x"), at: t0) { _ in
                var s = F.selector.select(t, budget: .unlimited)
                s.estimate = MicroDollars(micros: Int64.max)
                return s
            }
        } throws: { ($0 as? LedgerError)?.kind == .invalidAmount }
        let s = try await u.ledger.snapshot(at: t0)
        #expect(s.daily.reserved == r.selection.estimate && s.daily.settled == .zero)
        try await u.expectInvariants()
        await u.close()
    }

    @Test("A refusal is recorded; the ledger itself stops a selection that ignores the budget; critical passes a zero budget", arguments: LedgerBackend.all)
    func refusalsAndCritical(_ backend: LedgerBackend) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .zero, monthly: .zero), now: t0)
        guard case .refused(_, _, let id) = try await Self.reserve(u.ledger, .simple, at: t0) else {
            Issue.record("expected a refusal")
            return
        }
        let t = F.task(.simple)
        await #expect {
            _ = try await u.ledger.reserve(ReservationRequest(requestID: "x"), at: t0) { _ in F.selector.select(t, budget: .unlimited) }
        } throws: { ($0 as? LedgerError)?.kind == .wouldExceedBudget }
        let r = try #require(F.reservation(try await Self.reserve(u.ledger, .critical, at: t0)))
        #expect(r.selection.model == .claudeOpus)
        let receipt = try await u.ledger.settle(r.id, Settlement(inputTokens: 1_000, outputTokens: 500, cost: r.selection.estimate), at: t0)
        #expect(receipt.overLimit)
        let reports = try await u.reports()
        #expect(try reports.entry(id: id)?.status == .refused)
        #expect(try reports.windowTotals().allSatisfy { $0.criticalSettled == r.selection.estimate && $0.nonCriticalSettled == .zero })
        #expect(try await reports.alerts().contains { $0.kind == .criticalOverLimit })
        try await u.expectInvariants()
        await u.close()
    }

    @Test("Concurrent reservations never pass the budget", arguments: LedgerBackend.all)
    func concurrency(_ backend: LedgerBackend) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: MicroDollars(micros: 30_000), monthly: nil), now: t0)
        let l = u.ledger, t0 = self.t0
        let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<120 {
                group.addTask {
                    let tier: Complexity = i % 10 == 0 ? .critical : .medium
                    do {
                        guard case .reserved(let r) = try await Self.reserve(l, tier, at: t0, id: "c\(i)") else { return 0 }
                        if i % 3 == 0 { try await l.release(r.id, error: "failed", at: t0) } else {
                            _ = try await l.settle(r.id, Settlement(inputTokens: 900, outputTokens: 300, cost: r.selection.estimate), at: t0)
                        }
                        return 1
                    } catch let e as LedgerError where e.kind == .wouldExceedBudget { return 0 }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(outcomes >= 12)
        let s = try await l.snapshot(at: t0)
        #expect(s.daily.reserved == .zero)
        try await u.expectInvariants()
        await u.close()
    }

    @Test("An abandoned reservation expires after its time-to-live, charged at its estimate; a late settlement corrects it", arguments: LedgerBackend.all)
    func expiry(_ backend: LedgerBackend) async throws {
        var u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(5), monthly: nil), ttl: .seconds(60), now: t0)
        let r = try #require(F.reservation(try await Self.reserve(u.ledger, .medium, at: t0)))
        let later = t0.addingTimeInterval(120)
        u = try await u.reopen(ttl: .seconds(60), now: later)
        var s = try await u.ledger.snapshot(at: later)
        #expect(s.daily.reserved == .zero && s.daily.settled == r.selection.estimate)
        let e = try #require(try await u.reports().entry(id: r.id))
        #expect(e.status == .expired && e.flags.contains(.chargedAtExpiry))
        _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: MicroDollars(micros: 123)), at: later)
        s = try await u.ledger.snapshot(at: later)
        #expect(s.daily.settled == MicroDollars(micros: 123))
        try await u.expectInvariants()
        await u.close()
    }

    @Test("Scopes: a per-agent budget binds its agent, others spend on, and each scope window keeps its totals", arguments: LedgerBackend.all)
    func scopes(_ backend: LedgerBackend) async throws {
        let scope = try BudgetScope([.tag(key: "agent", value: "a1")], daily: MicroDollars(micros: 5_000))
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(10), monthly: nil, scopes: [scope]), now: t0)
        var a1 = 0, a2 = 0
        for i in 0..<30 {
            if case .reserved(let r) = try await Self.reserve(u.ledger, .medium, at: t0, id: "a1-\(i)", tags: ["agent": "a1"]) {
                a1 += 1
                #expect(r.scopes == [scope.name])
                _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: t0)
            }
            if case .reserved(let r) = try await Self.reserve(u.ledger, .medium, at: t0, id: "a2-\(i)", tags: ["agent": "a2"]) {
                a2 += 1
                _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: t0)
            }
        }
        #expect(a1 < 30 && a2 == 30)
        let totals = try await u.reports().scopeWindowTotals(scope: scope.name)
        #expect(totals.contains { $0.period == "day" && $0.settled <= MicroDollars(micros: 5_000) && $0.settled > .zero })
        try await u.expectInvariants()
        await u.close()
    }

    @Test("A threshold alert fires exactly once, however many calls cross it at once", arguments: LedgerBackend.all)
    func alertsOnce(_ backend: LedgerBackend) async throws {
        let limits = BudgetLimits(daily: MicroDollars(micros: 20_000), monthly: nil, alerts: [BudgetAlertThreshold(.day, partsPerMillion: 500_000)])
        let u = try await LedgerUnderTest.make(backend, limits: limits, now: t0)
        let l = u.ledger, t0 = self.t0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    guard case .reserved(let r) = try? await Self.reserve(l, .medium, at: t0, id: "al\(i)") else { return }
                    _ = try await l.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: t0)
                }
            }
            try await group.waitForAll()
        }
        let alerts = try await u.reports().alerts().filter { $0.kind == .threshold }
        #expect(alerts.count == 1)
        #expect(alerts.first?.thresholdPartsPerMillion == 500_000)
        await u.close()
    }

    @Test("Limits are ledger state: a change is recorded with its time and applies at once; entries persist across reopen", arguments: LedgerBackend.all)
    func limitsHistory(_ backend: LedgerBackend) async throws {
        var u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(1), monthly: .dollars(10)), now: t0)
        let r = try #require(F.reservation(try await Self.reserve(u.ledger, .simple, at: t0)))
        _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 700)), at: t0)
        let later = t0.addingTimeInterval(3_600)
        u = try await u.reopen(limits: .init(daily: .dollars(2), monthly: .dollars(10)), now: later)
        #expect(u.ledger.limits.daily == .dollars(2))
        let recorded = try await u.reports().recordedLimits()
        #expect(recorded.map(\.limits.daily) == [.dollars(1), .dollars(2)])
        #expect(try await u.ledger.snapshot(at: later).daily.settled == MicroDollars(micros: 700))
        // Reopening with no limits keeps the recorded ones.
        u = try await u.reopen(now: later)
        #expect(u.ledger.limits.daily == .dollars(2))
        #expect(try await u.reports().recordedLimits().count == 2)
        await u.close()
    }

    @Test("The audit sums what was settled, by model and by tag", arguments: LedgerBackend.all)
    func audit(_ backend: LedgerBackend) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(5), monthly: nil), now: t0)
        var total: Int64 = 0
        for (i, tier) in [Complexity.simple, .medium, .complex, .simple].enumerated() {
            let r = try #require(F.reservation(try await Self.reserve(u.ledger, tier, at: t0, id: "au\(i)", tags: ["agent": "a\(i % 2)"])))
            let cost = Int64(100 * (i + 1))
            total += cost
            let settlement = Settlement(inputTokens: 10, outputTokens: 10, cachedInputTokens: i, cost: MicroDollars(micros: cost))
            _ = try await u.ledger.settle(r.id, settlement, at: t0)
        }
        let reports = try await u.reports()
        var byModel = try reports.audit(by: .model)
        #expect(byModel.totals.spend == MicroDollars(micros: total) && byModel.totals.calls == 4)
        // Cached prompt tokens reach the audit from either backend (0 + 1 + 2 + 3 of 40), and are priced the same.
        #expect(byModel.totals.cachedInputTokens == 6 && byModel.totals.inputTokens == 40)
        try byModel.priceCacheSavings(with: F.catalog)
        #expect(byModel.rows.first { $0.group == "deepseek-v3" }?.cachedInputTokensByModel == ["deepseek-v3": 3])
        let byAgent = try reports.audit(by: .tag("agent"))
        #expect(byAgent.rows.map(\.spend).reduce(.zero, +) == MicroDollars(micros: total))
        #expect(Set(byAgent.rows.map(\.group)) == ["a0", "a1"])
        await u.close()
    }

    @Test(
        "Verify finds an edited entry, a changed total and a deleted entry",
        arguments: LedgerBackend.all.flatMap { b in ["edit", "totals", "delete"].map { (b, $0) } })
    func tamper(_ backend: LedgerBackend, _ how: String) async throws {
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .dollars(5), monthly: nil), now: t0)
        for i in 0..<3 {
            let r = try #require(F.reservation(try await Self.reserve(u.ledger, .simple, at: t0, id: "tm\(i)")))
            _ = try await u.ledger.settle(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: MicroDollars(micros: 300)), at: t0)
        }
        let clean = try await u.verify()
        #expect(clean.isIntact && clean.entriesChecked == 3)
        switch how {
        case "edit": try await u.tamper("UPDATE entry SET model = 'claude-opus-4' WHERE id = 2")
        case "totals": try await u.tamper("UPDATE budget_window SET settled = settled - 100 WHERE period = 'day'")
        default: try await u.tamper("DELETE FROM entry WHERE id = 2")
        }
        let report = try await u.verify()
        let expected: VerificationReport.Problem.Kind = how == "edit" ? .edited : how == "totals" ? .totalsMismatch : .insertedOrDeleted
        #expect(report.firstProblem?.kind == expected, "\(String(describing: report.firstProblem))")
        await u.close()
    }
}
