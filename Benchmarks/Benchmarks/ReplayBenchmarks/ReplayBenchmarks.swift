// Replay throughput on a generated 1M-task workload with an on-disk ledger, batched and per-call commits,
// and peak memory (flat in the workload's length).
//
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target ReplayBenchmarks
import Benchmark
import Foundation
import ModelSelection
import Replay
import SpendLedger

/// Writes (once) a trading workload of about `count` tasks and returns its path.
func workload(tasks count: Int) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-workload-\(count).jsonl")
    if FileManager.default.fileExists(atPath: url.path) { return url }
    // The trading profile makes about 2,100 tasks a market day.
    let generator = try TradingWorkloadGenerator(configuration: .init(days: count / 2_100 + 1, seed: 1))
    _ = try WorkloadWriter().write(generator.prefix(count), to: url)
    return url
}

func replay(_ url: URL, commit: ReplayEngine.CommitMode) throws -> ReplayReport {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-replay-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let limits = BudgetLimits(daily: .dollars(3), monthly: .dollars(60))
    let ledger = try SQLiteLedger(path: dir.appendingPathComponent("replay.sqlite").path, configuration: .init(limits: limits))
    let engine = ReplayEngine(
        selector: try ModelSelector(catalog: try ModelCatalog.bundled()),
        configuration: .init(limits: limits, failureRate: 0.02, seed: 1, commitMode: commit))
    var it = WorkloadReader(url: url).makeIterator()
    return try engine.run(next: { try it.next() }, into: ledger)
}

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .peakMemoryResident, .custom("tasks/s", polarity: .prefersLarger)], warmupIterations: 0, maxDuration: .seconds(240), maxIterations: 3)

    Benchmark("replay 1M tasks, batched commits (5,000 tasks per transaction)", configuration: config) { benchmark, url in
        for _ in benchmark.scaledIterations {
            let r = try replay(url, commit: .batched(5_000))
            benchmark.measurement(.custom("tasks/s", polarity: .prefersLarger), Int(r.tasksPerSecond))
            blackHole(r)
        }
    } setup: {
        try workload(tasks: 1_000_000)
    }

    Benchmark("replay 200k tasks, one commit per reserve and per settle", configuration: config) { benchmark, url in
        for _ in benchmark.scaledIterations {
            let r = try replay(url, commit: .perCall)
            benchmark.measurement(.custom("tasks/s", polarity: .prefersLarger), Int(r.tasksPerSecond))
            blackHole(r)
        }
    } setup: {
        try workload(tasks: 200_000)
    }
}
