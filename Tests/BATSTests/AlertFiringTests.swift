import Foundation
import GRDB
import ModelSelection
import Testing

@testable import SpendLedger

/// Alerts are recorded by the ledger in the transaction that crossed them, once per (kind, scope, window, threshold).
@Suite("Budget alerts: firing")
struct AlertFiringTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func alerts(_ l: SQLiteLedger) throws -> [Row] {
        try l.writer.read { db in try Row.fetchAll(db, sql: "SELECT kind, scope, period, window_key, threshold_ppm, spent, limit_micros FROM budget_alert ORDER BY id") }
    }

    @Test("Thresholds fire once each, as committed spend reaches them, on the global budget and on a scope")
    func thresholds() throws {
        let e = ScopeTests.estimate(.simple)
        let limit = MicroDollars(micros: e.rawValue * 10)
        let limits = BudgetLimits(
            daily: limit, monthly: nil,
            scopes: [ScopeTests.scope("tag:agent=scanner", daily: MicroDollars(micros: e.rawValue * 4), alerts: [.percent(50, of: .day), .percent(100, of: .day)])],
            alerts: [.percent(50, of: .day), .percent(80, of: .day), .percent(50, of: .month)])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        // 4 calls: the scanner's 50% at the 2nd, 100% at the 4th; nothing global yet (40%).
        var held: [Reservation] = []
        for n in 1...4 {
            held.append(try #require(F.reservation(try ScopeTests.reserve(l, .simple, tags: ["agent": "scanner"]))))
            let fired = try Self.alerts(l).map { "\($0["scope"] as String)|\($0["threshold_ppm"] as Int64)" }
            switch n {
            case 1: #expect(fired.isEmpty)
            case 2, 3: #expect(fired == ["tag:agent=scanner|500000"])
            default: #expect(fired == ["tag:agent=scanner|500000", "tag:agent=scanner|1000000"])
            }
        }
        // Releasing and reserving again crosses the same thresholds again: nothing new.
        try l.releaseNow(held[3].id, error: nil, at: Self.t0)
        _ = try #require(F.reservation(try ScopeTests.reserve(l, .simple, tags: ["agent": "scanner"])))
        #expect(try Self.alerts(l).count == 2)
        // Global 50% (5 of 10) and 80% (8 of 10); the monthly window is unlimited, so its threshold never fires.
        for _ in 0..<4 { _ = try #require(F.reservation(try ScopeTests.reserve(l, .simple, tags: ["agent": "other"]))) }
        let global = try Self.alerts(l).filter { ($0["scope"] as String).isEmpty }
        #expect(global.map { $0["threshold_ppm"] as Int64 } == [500_000, 800_000])
        #expect(global.allSatisfy { ($0["period"] as String) == "day" && ($0["limit_micros"] as Int64) == limit.rawValue })
    }

    @Test("Alerts fire exactly once across two ledgers on one file and across a restart")
    func acrossProcessesAndRestart() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let e = ScopeTests.estimate(.simple)
        let limits = BudgetLimits(daily: MicroDollars(micros: e.rawValue * 4), monthly: nil, alerts: [.percent(50, of: .day)])
        let a = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        let b = try SQLiteLedger(path: path, now: Self.t0)
        _ = try F.reserve(a, .simple, at: Self.t0)
        _ = try F.reserve(b, .simple, at: Self.t0)  // b crosses 50%
        _ = try F.reserve(a, .simple, at: Self.t0)  // a is past it: nothing new
        #expect(try Self.alerts(a).count == 1)
        let restarted = try SQLiteLedger(path: path, now: Self.t0)
        _ = try F.reserve(restarted, .simple, at: Self.t0)
        #expect(try Self.alerts(restarted).count == 1)
    }

    @Test("A critical call pushing a window over its limit, and a provider billing past the reservation, each fire once")
    func criticalAndOverReservation() throws {
        let limits = BudgetLimits(daily: .cents(1), monthly: nil)
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let r = try #require(F.reservation(try F.reserve(l, .critical, at: Self.t0)))
        let billed = MicroDollars(micros: r.selection.estimate.rawValue + 1)
        _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: billed), at: Self.t0)
        let kinds = try Self.alerts(l).map { "\($0["kind"] as String)|\($0["period"] as String)" }
        #expect(kinds == ["critical-over-limit|day", "over-reservation|"])
        let r2 = try #require(F.reservation(try F.reserve(l, .critical, at: Self.t0)))
        _ = try l.settleNow(r2.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r2.selection.estimate), at: Self.t0)
        #expect(try Self.alerts(l).count == 2, "the day was already over: no second critical-over-limit")
    }

    @Test("An alert recorded by a transaction that rolls back still fires later (the process learns of it only at commit)")
    func rollbackKeepsAlertPending() async throws {
        let e = ScopeTests.estimate(.simple)
        let limits = BudgetLimits(daily: MicroDollars(micros: e.rawValue * 2), monthly: nil, alerts: [.percent(50, of: .day)])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: Self.t0)
        let t = F.task(.simple)
        // A reservation that fires the alert, in a batch that then throws: everything rolls back.
        #expect(throws: (any Error).self) {
            try l.batch { b in
                _ = try b.reserve(ReservationRequest(requestID: "x"), at: Self.t0) { F.selector.select(t, budget: $0) }
                throw LedgerError(kind: .invalidAmount, message: "rolled back")
            }
        }
        #expect(try Self.alerts(l).isEmpty)
        _ = try await l.reserve(ReservationRequest(requestID: "y"), at: Self.t0) { F.selector.select(t, budget: $0) }
        #expect(try Self.alerts(l).count == 1)
    }
}

/// The window totals kept between transactions are dropped as soon as another connection has committed.
@Suite("Window totals kept across transactions")
struct CommittedWindowsTests {
    @Test("Two ledgers on one file each see the other's reservations, global and scoped")
    func twoConnections() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let e = ScopeTests.estimate(.simple)
        let limits = BudgetLimits(
            daily: MicroDollars(micros: e.rawValue * 3), monthly: nil,
            scopes: [ScopeTests.scope("tag:agent=scanner", daily: MicroDollars(micros: e.rawValue * 2))])
        let a = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: ScopeTests.t0)
        let b = try SQLiteLedger(path: path, now: ScopeTests.t0)
        let scanner = ["agent": "scanner"]
        // Each ledger keeps the totals it committed; the other's commits must invalidate them.
        #expect(LedgerFixture.reservation(try ScopeTests.reserve(a, .simple, tags: scanner)) != nil)
        #expect(LedgerFixture.reservation(try ScopeTests.reserve(b, .simple, tags: scanner)) != nil)
        #expect(LedgerFixture.reservation(try ScopeTests.reserve(a, .simple, tags: scanner)) == nil, "a must see b's reservation in the scope")
        #expect(LedgerFixture.reservation(try ScopeTests.reserve(a, .simple)) != nil)
        let t = LedgerFixture.task(.simple)
        let o = try await b.reserve(ReservationRequest(requestID: "last"), at: ScopeTests.t0) { LedgerFixture.selector.select(t, budget: $0) }
        #expect(LedgerFixture.reservation(o) == nil, "b must see a's reservation in the global day")
        try LedgerInvariants.expectHolds(a)
    }
}
