import Foundation
import ModelSelection
import SpendLedger
import Testing

/// Expiry of abandoned reservations without an index of open ones: a floor in `ledger_state` plus what each
/// connection saw at its last check.
@Suite("Open reservations")
struct OpenReservationTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    func config(ttl: Duration = .seconds(60)) -> SQLiteLedger.Configuration {
        .init(limits: .init(daily: .dollars(100), monthly: .dollars(1_000)), reservationTimeToLive: ttl)
    }

    func settle(_ l: SQLiteLedger, _ o: ReservationOutcome, at date: Date) throws {
        let r = try #require(F.reservation(o))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: MicroDollars(micros: 5)), at: date)
    }

    @Test("Reservations left open by another connection expire when this one next looks, however long it has been open")
    func otherConnection() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        // B opens first, so its first look predates everything A writes.
        let b = try SQLiteLedger(path: path, configuration: config(), now: t0)
        let a = try SQLiteLedger(path: path, configuration: config(), now: t0)
        for i in 0..<5 { try settle(a, try F.reserve(a, .simple, at: t0.addingTimeInterval(Double(i))), at: t0.addingTimeInterval(Double(i))) }
        let abandoned = try (0..<3).map { i in try #require(F.reservation(try F.reserve(a, .medium, at: t0.addingTimeInterval(10 + Double(i))))).id }
        // Before the time-to-live B sees them held; after it, B's next reservation expires them.
        #expect(try b.snapshotNow(at: t0.addingTimeInterval(30)).daily.reserved > .zero)
        try settle(b, try F.reserve(b, .simple, at: t0.addingTimeInterval(75)), at: t0.addingTimeInterval(75))
        for id in abandoned { #expect(try b.entry(id: id)?.status == .expired) }
        #expect(try b.snapshotNow(at: t0.addingTimeInterval(76)).daily.reserved == .zero)
        #expect(try a.verify().isIntact)
    }

    @Test("A rolled-back batch leaves no trace in the tracking: ids used again are still found and expired")
    func rollback() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try SQLiteLedger(path: dir.appendingPathComponent("l.sqlite").path, configuration: config(), now: t0)
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try l.batch { b in
                let t = F.task(.simple)
                for i in 0..<6 {
                    // Each reservation is a second later, so each one looks for expired reservations and sees the batch's own.
                    _ = try b.reserve(ReservationRequest(requestID: "gone-\(i)"), at: t0.addingTimeInterval(Double(i) * 2)) { F.selector.select(t, budget: $0) }
                }
                throw Abort()
            }
        }
        #expect(try l.entries().isEmpty)
        // The same ids again, left open this time.
        let ids = try (0..<3).map { i in try #require(F.reservation(try F.reserve(l, .simple, at: t0.addingTimeInterval(20 + Double(i))))).id }
        #expect(ids == [1, 2, 3])
        #expect(try l.snapshotNow(at: t0.addingTimeInterval(200)).daily.reserved == .zero)
        #expect(try l.entries(status: .expired).map(\.id) == ids)
    }

    @Test("The floor advances as reservations finish, stays under the oldest open one, and is written back")
    func floor() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let l = try SQLiteLedger(path: path, configuration: config(ttl: .seconds(3_600)), now: t0)
        let probe = try SQLiteProbe(path: path)
        let pinned = try #require(F.reservation(try F.reserve(l, .complex, at: t0))).id
        func fill(_ n: Int, at date: Date) throws {
            let t = F.task(.simple)
            try l.batch { b in
                for i in 0..<n {
                    guard case .reserved(let r) = try b.reserve(ReservationRequest(requestID: "f\(i)"), at: date, choose: { F.selector.select(t, budget: $0) })
                    else { return }
                    try b.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 1)), at: date)
                }
            }
        }
        try fill(3_000, at: t0.addingTimeInterval(1))
        _ = try l.snapshotNow(at: t0.addingTimeInterval(2))
        // One reservation is still open: nothing above it may be taken for finished.
        #expect(try probe.int("SELECT open_floor FROM ledger_state") == pinned)
        _ = try l.settleNow(pinned, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 1)), at: t0.addingTimeInterval(3))
        _ = try l.snapshotNow(at: t0.addingTimeInterval(4))
        #expect(try probe.int("SELECT open_floor FROM ledger_state") == 3_002)
        // A later connection starts from the recorded floor and still sees what opens after it.
        let open = try #require(F.reservation(try F.reserve(l, .simple, at: t0.addingTimeInterval(5)))).id
        let later = try SQLiteLedger(path: path, configuration: config(ttl: .seconds(3_600)), now: t0.addingTimeInterval(6))
        #expect(try later.snapshotNow(at: t0.addingTimeInterval(4_000)).daily.reserved == .zero)
        #expect(try later.entry(id: open)?.status == .expired)
        #expect(try later.verify().isIntact)
    }

    @Test("A ledger written before the floor existed (schema v1) keeps expiring its open reservations after upgrading")
    func upgradeFromV1() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        var open: [Int64] = []
        do {
            let l = try SQLiteLedger(path: path, configuration: config(), now: t0)
            try settle(l, try F.reserve(l, .simple, at: t0), at: t0)
            open.append(try #require(F.reservation(try F.reserve(l, .medium, at: t0))).id)
            try settle(l, try F.reserve(l, .simple, at: t0), at: t0)
            open.append(try #require(F.reservation(try F.reserve(l, .medium, at: t0))).id)
        }
        // Back to the v1 schema: the partial index of open reservations, no ledger_state, no record of v2.
        let probe = try SQLiteProbe(path: path)
        try probe.exec(
            """
            DROP TABLE ledger_state;
            DROP TABLE budget_zone;
            ALTER TABLE entry DROP COLUMN flags;
            ALTER TABLE entry DROP COLUMN config_id;
            CREATE INDEX entry_open ON entry(expires_at) WHERE status = 'reserved';
            DELETE FROM grdb_migrations WHERE identifier IN ('v2', 'v3');
            """)
        let upgraded = try SQLiteLedger(path: path, configuration: config(), now: t0.addingTimeInterval(1))
        #expect(try probe.int("SELECT open_floor FROM ledger_state") == open[0])
        #expect(try probe.int("SELECT COUNT(*) FROM sqlite_master WHERE name = 'entry_open'") == 0)
        #expect(try upgraded.entries(status: .reserved).map(\.id) == open)
        #expect(try upgraded.snapshotNow(at: t0.addingTimeInterval(120)).daily.reserved == .zero)
        #expect(try upgraded.entries(status: .expired).map(\.id) == open)
        #expect(try upgraded.verify().isIntact)
    }

    @Test("verify reports an open reservation below the recorded floor (it would never expire)")
    func verifyFloor() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let l = try SQLiteLedger(path: path, configuration: config(), now: t0)
        let id = try #require(F.reservation(try F.reserve(l, .simple, at: t0))).id
        try SQLiteProbe(path: path).exec("UPDATE ledger_state SET open_floor = 100")
        let problem = try #require(try l.verify().firstProblem)
        #expect(problem.kind == .openFloor && problem.entryID == id)
    }
}
