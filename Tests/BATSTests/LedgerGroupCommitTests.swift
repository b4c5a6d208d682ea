import BATS
import Foundation
import Gateway
import GRDB
import ModelSelection
import Replay
import SpendLedger
import Testing

/// The ledger's asynchronous writes: group commit keeps per-call semantics, and a locked ledger never blocks
/// Swift's cooperative pool.
@Suite("Ledger group commit and the cooperative pool")
struct LedgerGroupCommitTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func fileLedger(_ dir: URL, daily: MicroDollars?) throws -> SQLiteLedger {
        try SQLiteLedger(
            path: dir.appendingPathComponent("ledger.sqlite").path, configuration: .init(limits: .init(daily: daily, monthly: nil)), now: t0)
    }

    static func reserve(_ l: SQLiteLedger, _ i: Int) async throws -> ReservationOutcome {
        let t = F.task(.simple)
        return try await l.reserve(ReservationRequest(requestID: "g-\(i)", taskKind: "k"), at: t0) { F.selector.select(t, budget: $0) }
    }

    @Test("Concurrent reservations share transactions yet each fit check sees the ones before it: never past the limit")
    func groupedFitChecks() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = try SQLiteLedger.inMemory(configuration: .init(limits: .unlimited), now: Self.t0)
        let one = try #require(F.reservation(try F.reserve(probe, .simple, at: Self.t0))).selection.estimate
        // Room for exactly 10 of 200 identical reservations.
        let l = try Self.fileLedger(dir, daily: try one.multiplied(by: 10))
        let outcomes = try await withThrowingTaskGroup(of: ReservationOutcome.self) { group in
            for i in 0..<200 { group.addTask { try await Self.reserve(l, i) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let reserved = outcomes.compactMap(F.reservation)
        #expect(reserved.count == 10)
        let stats = l.commits.statistics
        #expect(stats.operations == 200)
        // Some transactions held more than one write (200 writes in fewer than 200 commits).
        #expect(stats.groups < stats.operations)
        let snapshot = try await l.snapshot(at: Self.t0)
        #expect(snapshot.daily.reserved == (try one.multiplied(by: 10)))
        // Every receipt is the caller's own; settling all of them in parallel keeps the totals exact.
        try await withThrowingTaskGroup(of: SettlementReceipt.self) { group in
            for r in reserved {
                group.addTask { try await l.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: .init(micros: 7)), at: Self.t0) }
            }
            var ids = Set<Int64>()
            for try await receipt in group { ids.insert(receipt.entryID) }
            #expect(ids == Set(reserved.map(\.id)))
        }
        let after = try await l.snapshot(at: Self.t0)
        #expect(after.daily.reserved == .zero && after.daily.settled == .init(micros: 70))
        #expect(try l.verify().isIntact)
    }

    @Test("A write that fails inside a group is rolled back alone: the others commit, and the chain stays whole")
    func failureIsIsolated() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try Self.fileLedger(dir, daily: nil)
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<64 {
                group.addTask {
                    if i % 4 == 0 {
                        // An unknown reservation: refused with its own error.
                        do {
                            _ = try await l.settle(999_999 + Int64(i), Settlement(inputTokens: 1, outputTokens: 1, cost: .init(micros: 1)), at: Self.t0)
                            return (i, false)
                        } catch let e as LedgerError { return (i, e.kind == .unknownReservation) } catch { return (i, false) }
                    }
                    do { return (i, F.reservation(try await Self.reserve(l, i)) != nil) } catch { return (i, false) }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 64 && results.values.allSatisfy { $0 })
        let q = try DatabaseQueue(path: dir.appendingPathComponent("ledger.sqlite").path)
        let count = try await q.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM entry WHERE status = 'reserved'") }
        #expect(count == 48)
        #expect(try l.verify().isIntact)
    }

    @Test("While another process holds the ledger for 3 s, a timer in this process fires on time as 64 routed calls wait")
    func lockedLedgerLeavesThePoolFree() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let l = try Self.fileLedger(dir, daily: nil)
        let router = Router(
            selector: F.selector, ledger: l, gateway: SimulatedGateway(configuration: .init(latency: .zero ... .zero)),
            configuration: .init(requestTimeout: .seconds(30)), now: { Self.t0 })
        // Another process takes the write gate and SQLite's write lock, says so, and holds both for 3 s.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            """
            import fcntl, sqlite3, sys, time
            gate = open(sys.argv[1] + '.lock', 'a')
            fcntl.flock(gate, fcntl.LOCK_EX)
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute('BEGIN IMMEDIATE')
            print('held', flush=True)
            time.sleep(3)
            db.execute('ROLLBACK')
            """,
            path,
        ]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        let line = out.fileHandleForReading.availableData
        try #require(String(decoding: line, as: UTF8.self).contains("held"), "the lock holder did not start (python3 is needed)")

        let clock = ContinuousClock()
        let started = clock.now
        // Every task runs on one thread, as on a strictly sized pool (Linux's dispatch would otherwise add threads
        // when some block, hiding the stall): a blocking wait there stops everything else.
        let executor = OneThreadExecutor()
        defer { executor.stop() }
        let (lateness, routed) = try await withTaskExecutorPreference(executor) {
          try await withThrowingTaskGroup(of: (Duration?, Int).self) { group in
            // A timer due every 50 ms for the next second (while the holder surely holds), that records how late its
            // task ran. Its wake-ups come from a thread of their own, straight to the task's executor: what is measured
            // is whether that executor is free, not how busy the rest of the process is.
            let origin = clock.now
            group.addTask {
                var worst = Duration.zero
                for k in 1...20 {
                    let due = origin + .milliseconds(50 * k)
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        Thread.detachNewThread {
                            let wait = due - ContinuousClock.now
                            if wait > .zero { Thread.sleep(forTimeInterval: Double(wait.components.attoseconds) / 1e18 + Double(wait.components.seconds)) }
                            c.resume()
                        }
                    }
                    worst = max(worst, clock.now - due)
                }
                return (worst, 0)
            }
            // 64 routed calls: each waits for the ledger.
            for i in 0..<64 {
                group.addTask {
                    let r = try await router.complete(
                        RoutedTask(kind: "classify", complexity: .simple, request: ChatRequest(messages: [.user("task \(i)")]), maxOutputTokens: 100))
                    return (nil, r.record.cost.rawValue >= 0 ? 1 : 0)
                }
            }
            var worst = Duration.zero, ok = 0
            for try await (late, n) in group {
                if let late { worst = late }
                ok += n
            }
            return (worst, ok)
          }
        }
        #expect(routed == 64)
        // The calls did wait for the holder (so the timer ran while they were blocked on the ledger).
        #expect(clock.now - started >= .seconds(2))
        // A blocked cooperative pool would wake the timer about 3 s late; a free one within a few ms (the bound is
        // loose for a loaded machine, and far below the blocked case).
        #expect(lateness < .milliseconds(500), "the timer woke \(lateness) late: the ledger's wait blocked the cooperative pool")
        holder.waitUntilExit()
    }
}

/// A task executor with a single thread of its own.
final class OneThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "one-thread-executor"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
