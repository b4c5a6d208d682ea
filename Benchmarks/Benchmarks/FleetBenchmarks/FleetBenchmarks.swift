// Fleet benchmarks: reserve+settle on a new SQLite ledger (the baseline), on PostgreSQL directly, and on PostgreSQL
// through budget leases; with BATS_BENCH_POSTGRES_DELAYED_URL also through a delaying proxy (Benchmarks/delay-proxy.py).
//
// Run (a cluster from Scripts/pg-cluster; its env file gives the URL and password):
//   d=$(mktemp -d /tmp/bats-pg-XXXXXX) && Scripts/pg-cluster start "$d" && source "$d/env"
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target FleetBenchmarks
// Each PostgreSQL benchmark prints the transactions it ran per 1,000 calls to stderr.
import Benchmark
import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Synchronization

let selector = try! ModelSelector(catalog: try! ModelCatalog.bundled())
let task = TaskProfile(kind: "classify_headline", complexity: .simple, inputTokens: 400, maxOutputTokens: 50)
let environment = ProcessInfo.processInfo.environment
let password = environment["BATS_TEST_POSTGRES_PASSWORD"]
let limits = BudgetLimits(daily: .dollars(1_000_000), monthly: .dollars(100_000_000))

func postgres(_ variable: String) async throws -> PostgresLedger? {
    guard let text = environment[variable] else { return nil }
    return try await PostgresLedger.connect(.init(url: try PostgresLedgerURL(text), password: password, limits: limits))
}

func call(_ ledger: some BudgetLedger, _ i: Int) async throws {
    let at = Date()
    guard case .reserved(let r) = try await ledger.reserve(ReservationRequest(requestID: "bench-\(i)"), at: at, choose: { selector.select(task, budget: $0) })
    else { fatalError("budget unexpectedly exhausted") }
    blackHole(try await ledger.settle(r.id, Settlement(inputTokens: 400, outputTokens: 50, cost: r.selection.estimate), at: at))
}

/// Prints the PostgreSQL transactions a benchmark ran per 1,000 calls (its samples; each sample is one call).
func report(_ name: String, _ remote: PostgresLedger, _ holder: Holder) {
    let tx = remote.transactionCount - holder.start, calls = holder.calls.load(ordering: .relaxed)
    let per = Double(tx) * 1_000 / Double(max(calls, 1))
    FileHandle.standardError.write(Data("\(name): \(tx) PostgreSQL transactions for \(calls) calls (\(Int(per.rounded())) per 1,000)\n".utf8))
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput], warmupIterations: 20, maxDuration: .seconds(8), maxIterations: 20_000)

    Benchmark("reserve+settle: SQLite (new WAL ledger, baseline)") { (benchmark: Benchmark, ledger: SQLiteLedger) in
        for i in benchmark.scaledIterations { try await call(ledger, i) }
    } setup: { () throws -> SQLiteLedger in
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-fleet-\(UUID().uuidString).sqlite").path
        return try SQLiteLedger(path: path, configuration: .init(limits: limits))
    }

    for (label, variable) in [("loopback", "BATS_TEST_POSTGRES_URL"), ("5 ms proxy", "BATS_BENCH_POSTGRES_DELAYED_URL")] where environment[variable] != nil {
        let direct = Holder(), leased = Holder()
        Benchmark("reserve+settle: PostgreSQL direct (\(label))") { benchmark in
            guard let (remote, _) = direct.get() else { return }
            for i in benchmark.scaledIterations { try await call(remote, i) }
        } setup: {
            guard let remote = try await postgres(variable) else { return }
            direct.set(remote, nil)
        } teardown: {
            guard let (remote, _) = direct.get() else { return }
            report("direct \(label)", remote, direct)
            await remote.close()
        }

        Benchmark("reserve+settle: PostgreSQL with leases (\(label))") { benchmark in
            guard let (_, host) = leased.get(), let host else { return }
            for i in benchmark.scaledIterations { try await call(host, i) }
        } setup: {
            guard let remote = try await postgres(variable) else { return }
            let journal = FileManager.default.temporaryDirectory.appendingPathComponent("bats-bench-journal-\(UUID().uuidString).sqlite").path
            let host = try await LeasedLedger.open(remote: remote, configuration: .init(host: "bench-\(UUID().uuidString.prefix(8))", journalPath: journal))
            for i in 0..<200 { try await call(host, -1 - i) }  // the lease sized from a burn rate
            leased.set(remote, host)
        } teardown: {
            guard let (remote, host) = leased.get(), let host else { return }
            report("leased \(label)", remote, leased)
            try await host.close()
            await remote.close()
        }
    }
}

/// One benchmark's ledgers, made in its setup, and the transaction count and call count at the start.
final class Holder: Sendable {
    let state = Mutex<(remote: PostgresLedger, host: LeasedLedger?, transactions: Int)?>(nil)
    let calls = Atomic<Int>(0)
    var start: Int { state.withLock { $0?.transactions ?? 0 } }

    func set(_ remote: PostgresLedger, _ host: LeasedLedger?) { state.withLock { $0 = (remote, host, remote.transactionCount) } }

    func get() -> (PostgresLedger, LeasedLedger?)? {
        calls.add(1, ordering: .relaxed)
        return state.withLock { s in s.map { ($0.remote, $0.host) } }
    }
}
