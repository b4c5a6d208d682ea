import BATS
import Foundation
import Gateway
import ModelSelection
import Replay
import SpendLedger
import Testing

/// The one routing policy: a replay and live routing through ``Router`` decide alike.
@Suite("One routing policy for replay and live calls")
struct PolicyEquivalenceTests {
    static let t0 = LedgerFixture.utc("2026-11-20T08:00:00Z")
    static let seed: UInt64 = 42
    static let failureRate = 0.3

    /// 400 tasks over three days, every tier, with completions at their caps (what the simulated gateway reports).
    static func workload() -> [WorkloadTask] {
        // CRITICAL only on the third day, so the first two run out of budget gradually (downgrades, then refusals).
        let tiers: [Complexity] = [.simple, .medium, .complex, .complex, .reasoning, .medium, .complex, .simple, .complex, .medium, .critical]
        return (0..<400).map { i in
            let cap = 1_000 + (i % 7) * 500
            return WorkloadTask(
                date: t0.addingTimeInterval(Double(i) * 600), id: "eq-\(i)", task: "kind\(i % 5)", complexity: i < 288 && i % tiers.count == 10 ? .complex : tiers[i % tiers.count],
                inputTokens: 1_000, outputTokens: cap, maxOutputTokens: cap, tags: ["agent": "a\(i % 3)"])
        }
    }

    static let limits = BudgetLimits(daily: MicroDollars(micros: 250_000), monthly: .dollars(10))

    @Test("The replay engine and the Router on the simulated gateway, with the same seeded failures, decide the same per task")
    func replayAndRouterDecideAlike() async throws {
        let tasks = Self.workload()
        let selector = LedgerFixture.selector

        // The replay: virtual clock, simulated provider, its own ledger.
        let replayLedger = try SQLiteLedger.inMemory(configuration: .init(limits: Self.limits), now: Self.t0)
        let engine = ReplayEngine(
            selector: selector,
            configuration: .init(limits: Self.limits, failureRate: Self.failureRate, seed: Self.seed, retriesPerModel: 1, criticalAttempts: 3))
        var replayed: [RoutingDecision] = []
        var iterator = tasks.makeIterator()
        let report = try engine.run(next: { iterator.next() }, into: replayLedger, decisions: { replayed.append($0) })

        // Live: the Router, its clock at each task's time, the simulated gateway with the same seed and retries.
        let liveLedger = try SQLiteLedger.inMemory(configuration: .init(limits: Self.limits), now: Self.t0)
        let gateway = SimulatedGateway(
            configuration: .init(
                failureRate: Self.failureRate, latency: .zero ... .zero, slowLatency: .zero, promptTokens: 1_000, completionShare: 1...1,
                seed: Self.seed, retries: 1))
        var live: [RoutingDecision] = []
        for t in tasks {
            let router = Router(
                selector: selector, ledger: liveLedger, gateway: gateway, configuration: .init(criticalAttempts: 3), now: { t.date })
            let task = RoutedTask(
                kind: t.task, complexity: t.complexity, request: ChatRequest(messages: [.user("x")]), inputTokens: t.inputTokens,
                maxOutputTokens: t.maxOutputTokens, tags: t.tags, requestID: t.id)
            do {
                live.append(RoutingDecision(try await router.complete(task).record))
            } catch let e as RoutingError {
                live.append(RoutingDecision(e))
            }
        }

        #expect(replayed.count == tasks.count && live.count == tasks.count)
        for (r, l) in zip(replayed, live) where r != l {
            Issue.record("replay: \(r)\nlive:   \(l)")
        }
        // The workload exercises every branch of the policy.
        #expect(report.downgrades > 0 && report.refusals > 0 && report.providerFallbacks > 0 && report.failed > 0)
        #expect(replayed.contains { $0.outcome == .refused } && replayed.contains { $0.attempts.count > 1 })
        let replaySpend = try await replayLedger.snapshot(at: Self.t0).monthly.settled
        let liveSpend = try await liveLedger.snapshot(at: Self.t0).monthly.settled
        #expect(replaySpend == liveSpend)
    }
}
