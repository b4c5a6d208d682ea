import Foundation
import GRDB
import ModelSelection
import SpendLedger
import Testing

@Suite("Ledger faults: read-only, locked, damaged files keep what was recorded", .serialized)
struct LedgerFaultTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// Entries (id, status, seal) and window totals: what a failure must leave untouched.
    static func fingerprint(_ path: String) throws -> String {
        let q = try DatabaseQueue(path: path)
        return try q.read { db in
            let e = try Row.fetchAll(db, sql: "SELECT id, status, seal, hash FROM entry ORDER BY id").map { "\($0)" }
            let w = try Row.fetchAll(db, sql: "SELECT * FROM budget_window ORDER BY period, key").map { "\($0)" }
            return (e + w).joined(separator: "\n")
        }
    }

    static func populate(_ path: String, busyTimeout: Duration = .seconds(10)) throws -> SQLiteLedger {
        let l = try SQLiteLedger(
            path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), busyTimeout: busyTimeout), now: t0)
        for _ in 0..<3 {
            let r = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: t0)
        }
        return l
    }

    @Test("A ledger locked by another connection past the busy timeout fails with `locked`; nothing recorded changes")
    func lockedPastTimeout() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let l = try Self.populate(path, busyTimeout: .milliseconds(200))
        let before = try Self.fingerprint(path)
        // Another connection (as another process would) holds the write lock.
        let holder = try DatabaseQueue(path: path)
        try holder.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            #expect { try F.reserve(l, .simple, at: Self.t0) } throws: { e in
                (e as? LedgerError)?.kind == .locked && "\(e)".contains("ledger.sqlite") && "\(e)".contains("locked")
            }
            // Opening (which records the limits) fails the same way.
            #expect {
                try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(2), monthly: nil), busyTimeout: .milliseconds(100)), now: Self.t0)
            } throws: { ($0 as? LedgerError)?.kind == .locked }
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try Self.fingerprint(path) == before)
        #expect(try l.verify().isIntact)
        // Once the lock is gone, the same ledger writes again.
        #expect(F.reservation(try F.reserve(l, .simple, at: Self.t0)) != nil)
    }

    @Test("A process stopped while holding the write gate makes writers fail with `locked` after the busy timeout, not hang")
    func gateHeldPastTimeout() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let l = try Self.populate(path, busyTimeout: .milliseconds(300))
        let patient = try SQLiteLedger(
            path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), busyTimeout: .seconds(20)), now: Self.t0)
        let before = try Self.fingerprint(path)
        // Another open description of the gate file, locked as a process stopped inside a write would hold it.
        let holder = open(path + ".lock", O_RDWR)
        #expect(holder >= 0)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)
        let start = ContinuousClock.now
        #expect { try F.reserve(l, .simple, at: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .locked && "\(e)".contains("write gate") && "\(e)".contains("ledger.sqlite.lock")
        }
        let waited = ContinuousClock.now - start
        // It waited out its busy timeout (a lower bound only: a loaded machine can only make it longer).
        #expect(waited >= .milliseconds(290))
        // A second writer times out too while the gate stays held (the waiter thread is still queued for it).
        #expect { try F.reserve(l, .simple, at: Self.t0) } throws: { ($0 as? LedgerError)?.kind == .locked }
        // Opening the ledger (which takes the same lock file) gives up the same way.
        #expect {
            try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), busyTimeout: .milliseconds(200)), now: Self.t0)
        } throws: { ($0 as? LedgerError)?.kind == .locked }
        #expect(try Self.fingerprint(path) == before)

        // The holder resumes and lets go while a writer with a longer timeout waits: the writer gets the gate.
        async let reserved = Task.detached { try F.reservation(F.reserve(patient, .simple, at: Self.t0)) != nil }.value
        try await Task.sleep(for: .milliseconds(200))
        #expect(flock(holder, LOCK_UN) == 0)
        #expect(try await reserved)
        // The first ledger's waiter got the gate after its writers gave up and let it go: it writes again at once.
        #expect(F.reservation(try F.reserve(l, .simple, at: Self.t0)) != nil)
        #expect(try l.verify().isIntact)
    }

    static let canMount: Bool = getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount")

    static func sh(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Root ignores file modes, so a read-only bind mount stands for a read-only file; skipped when mounting is not allowed.
    @Test("A ledger on a read-only file system fails with `read-only`; nothing recorded changes", .enabled(if: canMount))
    func readOnly() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("src"), ro = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: src, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
        let path = src.appendingPathComponent("ledger.sqlite").path
        do { _ = try Self.populate(path) }
        let before = try Self.fingerprint(path)
        guard try Self.sh(["/bin/mount", "--bind", src.path, ro.path]) == 0 else { return }
        defer { _ = try? Self.sh(["/bin/umount", ro.path]) }
        guard try Self.sh(["/bin/mount", "-o", "remount,ro,bind", ro.path]) == 0 else { return }
        let roPath = ro.appendingPathComponent("ledger.sqlite").path
        #expect { try SQLiteLedger(path: roPath, now: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .readOnly && "\(e)".contains("read-only")
        }
        // Reports open it read-only and work (audit, verify, budget), writing nothing.
        let reader = try SQLiteLedger(path: roPath, configuration: .init(recordsLimits: false, readOnly: true), now: Self.t0)
        #expect(try reader.audit(by: .day).totals.calls == 3)
        #expect(try reader.verify().isIntact)
        #expect(try reader.snapshotNow(at: Self.t0).daily.settled > .zero)
        _ = try Self.sh(["/bin/umount", ro.path])
        #expect(try Self.fingerprint(path) == before)
    }

    @Test("A damaged ledger (pages overwritten) fails with a ledger error, not a crash")
    func damaged() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        do { _ = try Self.populate(path) }
        try DatabaseQueue(path: path).writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        // Overwrite everything after the header page with junk.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try h.seek(toOffset: 4_096)
        try h.write(contentsOf: Data(repeating: 0x5A, count: 8_192))
        try h.close()
        #expect {
            let l = try SQLiteLedger(path: path, now: Self.t0)
            _ = try l.verify()
        } throws: { e in
            guard let le = e as? LedgerError else { return false }
            return [.corrupt, .notALedger, .database].contains(le.kind)
        }
    }
}
