import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// What a leased ledger does while PostgreSQL is down: critical calls still go to Opus and are journaled on the
/// host, non-critical calls that need the server are refused, and the journal is written exactly once on return.
@Suite("PostgreSQL down mid-run", .serialized, .enabled(if: PostgresTestServer.enabled, Comment(rawValue: PostgresTestServer.howTo)))
struct CriticalFailoverTests {
    typealias F = LedgerFixture

    @Test("The server stops and starts again: critical journaled and written once, non-critical fails closed")
    func serverStopsAndReturns() async throws {
        let cluster = try await PrivateCluster.start()
        let t0 = Date()
        let limits = BudgetLimits(daily: .dollars(1), monthly: nil)
        let config = PostgresLedger.Configuration(url: cluster.url, password: cluster.password, limits: limits,
            // Long enough for a loaded machine (the whole suite runs at once on 2 cores); the calls while the server is down
            // wait it out, and the flush after it returns retries within its own deadline.
            operationTimeout: .seconds(30))
        let remote = try await PostgresLedger.connect(config, now: t0)
        let dir = try F.tempDir()
        let journal = dir.appendingPathComponent("h1.journal").path
        var host = try await LeasedLedger.open(remote: remote, configuration: .init(host: "h1", journalPath: journal), now: t0)
        let medium = F.task(.medium), critical = F.task(.critical)
        // A non-critical call before: a lease is taken.
        guard case .reserved(let before) = try await host.reserve(ReservationRequest(requestID: "before"), at: t0, choose: { F.selector.select(medium, budget: $0) })
        else { Issue.record("refused"); return }
        _ = try await host.settle(before.id, Settlement(inputTokens: 1, outputTokens: 1, cost: before.selection.estimate), at: t0)

        try await cluster.pause()
        // Critical: still Opus, journaled on the host.
        let r = try await host.reserve(ReservationRequest(requestID: "trade-1"), at: t0, choose: { F.selector.select(critical, budget: $0) })
        guard case .reserved(let trade) = r else { Issue.record("critical refused"); return }
        #expect(trade.model == .claudeOpus && trade.id < 0)
        _ = try await host.settle(trade.id, Settlement(inputTokens: 1_000, outputTokens: 400, cost: MicroDollars(micros: 31_000)), at: t0)
        // Non-critical on a host without a lease: refused, fail closed.
        let other = try await LeasedLedger.open(remote: remote, configuration: .init(host: "h2", journalPath: dir.appendingPathComponent("h2.journal").path), now: t0)
        await #expect {
            _ = try await other.reserve(ReservationRequest(requestID: "scan"), at: t0.addingTimeInterval(2)) { F.selector.select(medium, budget: $0) }
        } throws: { e in
            guard let e = e as? LedgerError, e.kind == .unreachable else { return false }
            return e.message.contains("fail closed")
        }
        // The host dies with the critical call in its journal; it starts again once the server is back.
        host = try await LeasedLedger.open(remote: remote, configuration: .init(host: "h1", journalPath: journal), now: t0)
        #expect(host.holdings.pendingCalls >= 1)
        try await cluster.resume()
        let back = t0.addingTimeInterval(5)
        // The pool reconnects with a backoff: retried as the upkeep loop would (bounded), then once more (idempotent).
        let deadline = ContinuousClock.now + .seconds(150)
        while true {
            do {
                try await host.flush(at: back)
                break
            } catch let e as LedgerError where e.kind == .unreachable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        try await host.flush(at: back)
        let copy = try await remote.reportingCopy()
        let trades = try copy.entries().filter { $0.requestID == "trade-1" }
        #expect(trades.count == 1)
        #expect(trades.first?.model == ModelID.claudeOpus.rawValue && trades.first?.critical == true && trades.first?.actualCost == MicroDollars(micros: 31_000))
        try await host.close(at: back)
        try await other.close(at: back)
        #expect(try await remote.verify().isIntact)
        await remote.close()
    }
}
