// Ledger benchmarks: pure selection, and reserve+settle on an on-disk ledger pre-filled with 1M entries.
//
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target LedgerBenchmarks
// The 1M-entry ledger is built once in $TMPDIR/bats-bench-ledger-1m.sqlite and reused by later runs.
import Benchmark
import Foundation
import ModelSelection
@_spi(Benchmarks) import SpendLedger

let catalog = try! ModelCatalog.bundled()
let selector = try! ModelSelector(catalog: catalog)
let day0 = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21
let task = TaskProfile(kind: "analyze_technicals", complexity: .complex, inputTokens: 1_200, maxOutputTokens: 400)

/// Opens (building on first use) a ledger with `count` settled entries spread over 30 days.
func prefilledLedger(count: Int) throws -> SQLiteLedger {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-ledger-\(count / 1_000_000)m.sqlite").path
    let limits = BudgetLimits(daily: .dollars(1_000_000), monthly: .dollars(100_000_000))
    let ledger = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: day0)
    let have = try ledger.windowTotals().isEmpty ? 0 : try ledger.entries(status: .settled, afterID: Int64(count - 1), limit: 1).count
    guard have == 0 else { return ledger }
    let perBatch = 20_000
    var n = 0
    while n < count {
        try ledger.batch { b in
            for i in n..<min(count, n + perBatch) {
                let at = day0.addingTimeInterval(Double(i) * 30 * 86_400 / Double(count))
                if case .reserved(let r) = try b.reserve(ReservationRequest(requestID: "fill-\(i)", taskKind: "fill"), at: at, choose: {
                    selector.select(task, budget: $0)
                }) {
                    try b.settle(r.id, Settlement(inputTokens: 1_000, outputTokens: 300, cost: r.selection.estimate), at: at)
                }
            }
        }
        n += perBatch
    }
    return ledger
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput], warmupIterations: 100)

    Benchmark("select (pure, complex tier, 3-model chain)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var snapshot = BudgetSnapshot(daily: .init(limit: .dollars(10)), monthly: .init(limit: .dollars(100)))
        snapshot.daily.settled = MicroDollars(micros: 9_999_000)
        for _ in benchmark.scaledIterations {
            blackHole(selector.select(task, budget: snapshot))
        }
    }

    Benchmark(
        "reserve+settle (on-disk WAL ledger, 1M entries, two transactions)",
        configuration: .init(metrics: [.wallClock, .cpuTotal, .throughput, .syscalls], maxDuration: .seconds(10), maxIterations: 200_000)
    ) { benchmark, ledger in
        // The async API, as the router calls it: each write hops to the ledger's writer thread and back.
        let at = day0.addingTimeInterval(29.5 * 86_400)
        for i in benchmark.scaledIterations {
            guard case .reserved(let r) = try await ledger.reserve(ReservationRequest(requestID: "bench-\(i)"), at: at, choose: {
                selector.select(task, budget: $0)
            }) else { fatalError("budget unexpectedly exhausted") }
            blackHole(try await ledger.settle(r.id, Settlement(inputTokens: 1_000, outputTokens: 300, cost: r.selection.estimate), at: at))
        }
    } setup: {
        try prefilledLedger(count: 1_000_000)
    }

    Benchmark(
        "floor: one-row UPDATE in an IMMEDIATE transaction through the same GRDB pool",
        configuration: .init(metrics: [.wallClock, .throughput], maxDuration: .seconds(5), maxIterations: 100_000)
    ) { benchmark, ledger in
        for _ in benchmark.scaledIterations {
            try ledger.floorTransaction()
        }
    } setup: {
        try prefilledLedger(count: 1_000_000)
    }

    scopeBenchmarks()
}
