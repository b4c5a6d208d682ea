import Foundation
import GRDB

extension SQLiteLedger {
    // MARK: - Internals

    func windows(for date: Date, zone: String) throws -> LedgerStore.Windows {
        let calendar = try windowCache.calendar(zone)
        return windowCache.cache.withLock { $0.windows(for: date, calendar: calendar) }
    }

    /// One IMMEDIATE write transaction on the calling thread, behind the cross-process ``WriteGate`` when the ledger
    /// is a file and `gated`. Blocks while another process holds the ledger: callers on Swift's cooperative pool use
    /// ``submit(_:)`` instead.
    func write<T>(gated: Bool = true, _ body: (Database) throws -> T) throws -> T {
        try checkWritable()
        do {
            return try writer.writeWithoutTransaction { db in
                try transaction(db, gated: gated) { db in try body(db) }
            }
        } catch {
            throw noteDamage(Self.map(error, path: path))
        }
    }

    /// The context the ledger's operations share.
    var storeContext: LedgerStore.Context {
        LedgerStore.Context(chain: configuration.chain, scopeConfigs: windowCache.scopeConfigs, alertLog: windowCache.alertLog)
    }

    /// One operation in its own transaction through a ``LedgerBatchCache`` (flushed before the commit); the alerts it
    /// recorded are known to the process once committed.
    func writeOps<T>(_ body: (Database, inout LedgerBatchCache) throws -> T) throws -> T {
        var fired: Set<AlertKey> = []
        let result = try write { db in
            var cache = try LedgerBatchCache(db, from: committedWindows)
            let result = try body(db, &cache)
            committedWindows.stage(cache)
            try cache.flush(db)
            fired = cache.firedAlerts
            return result
        }
        windowCache.alertLog.committed(fired)
        return result
    }

    /// Refuses a write to a read-only, damaged or replaced ledger.
    func checkWritable() throws {
        if configuration.readOnly {
            throw LedgerError(kind: .readOnly, path: path, message: "the ledger was opened read-only")
        }
        if let damage = windowCache.damage.withLock({ $0 }) { throw damage }
        if let path, let opened = windowCache.fileIdentity, windowCache.shouldCheckFile() { try LedgerFile.checkStillThere(path, opened) }
    }

    /// Marks the ledger damaged when `error` says so (it is never written again), and returns it.
    func noteDamage(_ error: any Error) -> any Error {
        if let e = error as? LedgerError, e.kind == .corrupt || e.kind == .notALedger { windowCache.damage.withLock { $0 = e } }
        return error
    }

    /// BEGIN IMMEDIATE … COMMIT around `body` on the writer connection, behind the gate when `gated`.
    private func transaction<T>(_ db: Database, gated: Bool, _ body: (Database) throws -> T) throws -> T {
        func run() throws -> T {
            // BEGIN and COMMIT as cached statements: the hot path prepares nothing.
            try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute()
            do {
                let result = try body(db)
                try db.cachedStatement(sql: "COMMIT").execute()
                openReservations.transactionEnded(committed: true)
                committedWindows.transactionEnded(committed: true)
                return result
            } catch {
                openReservations.transactionEnded(committed: false)
                committedWindows.transactionEnded(committed: false)
                if db.isInsideTransaction { try? db.execute(sql: "ROLLBACK") }
                throw error
            }
        }
        guard let gate, gated else { return try run() }
        return try gate.withLock(timeout: configuration.busyTimeout, run)
    }

    // MARK: - Group commit

    /// Runs `body` in the ledger's next group transaction, off the cooperative pool, and returns once it is committed.
    ///
    /// Never cancelled half-way: a write that was queued commits (or fails) whether or not the caller is cancelled.
    /// - Parameter body: The operation; it may use the group's ``LedgerBatchCache`` (exact while the group is open).
    /// - Returns: What `body` returned, after the commit.
    /// - Throws: What `body` threw (its changes rolled back), the commit's error, or ``LedgerError``.
    func submit<T: Sendable>(_ body: @escaping @Sendable (Database, inout LedgerBatchCache) throws -> T) async throws -> T {
        try checkWritable()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let op = LedgerCommitQueue.Operation(
                run: { db, cache in
                    let value = try body(db, &cache)
                    return { continuation.resume(returning: value) }
                },
                fail: { continuation.resume(throwing: $0) })
            if commits.enqueue(op) { startDrain() }
        }
    }

    /// Starts draining the queue on GRDB's writer queue.
    private func startDrain() {
        let ledger = self
        writer.asyncWriteWithoutTransaction { db in ledger.drain(db) }
    }

    /// Commits groups until nothing waits.
    private func drain(_ db: Database) {
        while let group = commits.nextGroup() {
            commit(group, db)
        }
    }

    /// One group: every operation under its own savepoint, one commit, then every caller resumed.
    private func commit(_ group: [LedgerCommitQueue.Operation], _ db: Database) {
        commits.recorded(group.count)
        var outcomes: [Result<@Sendable () -> Void, any Error>] = []
        outcomes.reserveCapacity(group.count)
        var fired: Set<AlertKey> = []
        do {
            try checkWritable()
            try transaction(db, gated: true) { db in
                var cache = try LedgerBatchCache(db, from: committedWindows)
                if group.count == 1 {
                    outcomes.append(.success(try group[0].run(db, &cache)))
                } else {
                    cache.journaling = true
                    for op in group {
                        let saved = cache.mark()
                        let mark = openReservations.pendingMark()
                        try db.cachedStatement(sql: "SAVEPOINT bats_op").execute()
                        do {
                            let resume = try op.run(db, &cache)
                            try db.cachedStatement(sql: "RELEASE bats_op").execute()
                            outcomes.append(.success(resume))
                        } catch {
                            try db.cachedStatement(sql: "ROLLBACK TO bats_op").execute()
                            try db.cachedStatement(sql: "RELEASE bats_op").execute()
                            cache.rollback(to: saved)
                            openReservations.restorePending(mark)
                            outcomes.append(.failure(noteDamage(Self.map(error, path: path))))
                        }
                    }
                }
                committedWindows.stage(cache)
                try cache.flush(db)
                fired = cache.firedAlerts
            }
        } catch {
            let mapped = noteDamage(Self.map(error, path: path))
            // Nothing of the group was written: every operation that had not failed on its own fails with the commit.
            for (i, op) in group.enumerated() {
                if i < outcomes.count, case .failure(let own) = outcomes[i] { op.fail(own) } else { op.fail(mapped) }
            }
            return
        }
        windowCache.alertLog.committed(fired)
        for (op, outcome) in zip(group, outcomes) {
            switch outcome {
            case .success(let resume): resume()
            case .failure(let error): op.fail(error)
            }
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch { throw Self.map(error, path: path) }
    }

    static func grdbConfiguration(_ c: Configuration) -> GRDB.Configuration {
        var config = GRDB.Configuration()
        config.busyMode = .callback(FairBusyHandler(timeout: c.busyTimeout).callback)
        config.label = "bats-ledger"
        return config
    }

}

extension SQLiteLedger {
    /// The cheapest write the ledger can make (one cached one-row UPDATE in an IMMEDIATE transaction), for benchmarks
    /// that compare an operation with the floor of SQLite and GRDB on this machine. Changes nothing.
    @_spi(Benchmarks) public func floorTransaction() throws {
        try write { db in try db.cachedStatement(sql: "UPDATE budget_config SET id = id WHERE id = 1").execute() }
    }
}

