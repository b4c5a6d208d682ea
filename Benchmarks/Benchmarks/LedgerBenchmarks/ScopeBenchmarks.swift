// Budget scopes on the hot path: reserve+settle when each call belongs to 0, 3 or 10 scopes.
//
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target LedgerBenchmarks --filter "scopes"
// Each variant uses its own fresh on-disk ledger with the same 24 scopes configured (each with limits and alert
// thresholds); only the call's tags differ, so the variants differ only by the scopes each call counts in.
import Benchmark
import Foundation
import ModelSelection
import SpendLedger

/// 24 scopes: tag:s=0…9 (the first three nested under key:bench), tag:other=0…13; each with daily and monthly limits far
/// above the benchmark's spend, and 50/80/100% thresholds.
func scopedLedger(name: String) throws -> SQLiteLedger {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-scopes-\(name)-\(UUID().uuidString).sqlite").path
    let alerts: [BudgetAlertThreshold] = [.percent(50, of: .day), .percent(80, of: .day), .percent(100, of: .month)]
    var scopes: [BudgetScope] = []
    for i in 0..<10 { scopes.append(try BudgetScope(name: "tag:s\(i)=on", daily: .dollars(100_000), monthly: .dollars(1_000_000), alerts: alerts)) }
    for i in 0..<14 { scopes.append(try BudgetScope(name: "tag:other\(i)=on", daily: .dollars(100_000), monthly: .dollars(1_000_000), alerts: alerts)) }
    let limits = BudgetLimits(daily: .dollars(1_000_000), monthly: .dollars(100_000_000), scopes: scopes, alerts: alerts)
    return try SQLiteLedger(path: path, configuration: .init(limits: limits), now: day0)
}

/// The tags of a call in `n` scopes (plus two tags no scope names, as a real call has).
func scopedTags(_ n: Int) -> [String: String] {
    var tags = ["agent": "bench", "symbol": "AAPL"]
    for i in 0..<n { tags["s\(i)"] = "on" }
    return tags
}

func scopeBenchmarks() {
    for n in [0, 3, 10] {
        Benchmark(
            "reserve+settle, \(n) scopes per call (24 configured, on-disk WAL ledger)",
            configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput], maxDuration: .seconds(8), maxIterations: 100_000)
        ) { benchmark, ledger in
            let at = day0.addingTimeInterval(10 * 86_400)
            let tags = scopedTags(n)
            for i in benchmark.scaledIterations {
                guard case .reserved(let r) = try await ledger.reserve(
                    ReservationRequest(requestID: "bench-\(i)", taskKind: "analyze_technicals", tags: tags, tier: .complex), at: at,
                    choose: { selector.select(task, budget: $0) })
                else { fatalError("budget unexpectedly exhausted") }
                precondition(r.scopes.count == n)
                blackHole(try await ledger.settle(r.id, Settlement(inputTokens: 1_000, outputTokens: 300, cost: r.selection.estimate), at: at))
            }
        } setup: {
            try scopedLedger(name: "\(n)")
        }
    }
}
