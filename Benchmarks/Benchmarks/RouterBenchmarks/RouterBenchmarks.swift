// CPU per routed call: the whole path (select → reserve → simulated provider → settle → record) through the Router,
// on an on-disk WAL ledger, at concurrency 1, 8, 32 and 128. One iteration routes 1,000 calls; metrics are per call.
//
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target RouterBenchmarks
import BATS
import Benchmark
import Foundation
import Gateway
import ModelSelection
import Replay
import SpendLedger

let selector = try! ModelSelector(catalog: try! ModelCatalog.bundled())
let day0 = Date(timeIntervalSince1970: 1_790_000_000)
/// The provider answers at once: what is measured is BATS, not a sleep.
let gateway = SimulatedGateway(configuration: .init(latency: .zero ... .zero, promptTokens: 1_000, completionShare: 0.5...1))
let tiers: [Complexity] = [.simple, .medium, .complex, .simple, .medium, .complex, .simple, .medium, .complex, .critical]

func openLedger(_ name: String) throws -> SQLiteLedger {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-router-\(name)-\(UUID().uuidString).sqlite").path
    return try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1_000_000), monthly: nil)), now: day0)
}

/// Routes `count` calls, at most `concurrency` at once.
func route(_ count: Int, concurrency: Int, router: Router, base: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        func add(_ i: Int) {
            group.addTask {
                let task = RoutedTask(
                    kind: "bench", complexity: tiers[i % tiers.count], request: ChatRequest(messages: [.user("quote AAPL \(i)")]),
                    inputTokens: 1_000, maxOutputTokens: 400, tags: ["agent": "bench"], requestID: "b-\(base + i)")
                blackHole(try await router.complete(task))
            }
        }
        var next = 0
        while next < min(concurrency, count) {
            add(next)
            next += 1
        }
        while try await group.next() != nil {
            if next < count {
                add(next)
                next += 1
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .cpuUser, .cpuSystem, .wallClock, .throughput, .mallocCountTotal, .peakMemoryResident], warmupIterations: 2,
        scalingFactor: .kilo, maxDuration: .seconds(15), maxIterations: 40)

    for concurrency in [1, 8, 32, 128] {
        Benchmark("routed call (on-disk ledger, simulated provider), concurrency \(concurrency)") { benchmark, ledger in
            let router = Router(selector: selector, ledger: ledger, gateway: gateway, now: { day0 })
            let base = Int.random(in: 0..<Int.max / 2)
            benchmark.startMeasurement()
            try await route(benchmark.scaledIterations.count, concurrency: concurrency, router: router, base: base)
            benchmark.stopMeasurement()
        } setup: {
            try openLedger("c\(concurrency)")
        }
    }
}
