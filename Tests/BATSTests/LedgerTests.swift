import Foundation
import ModelSelection
import SpendLedger
import Testing

/// Helpers shared by ledger tests.
enum LedgerFixture {
    static let catalog = try! ModelCatalog.bundled()
    static let selector = try! ModelSelector(catalog: catalog)

    static func task(_ tier: Complexity, input: Int = 1_000, output: Int = 500) -> TaskProfile {
        TaskProfile(complexity: tier, inputTokens: input, maxOutputTokens: output)
    }

    static func utc(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

    /// A fresh temporary folder, removed by the caller.
    static func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("bats-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    @discardableResult
    static func reserve(_ l: SQLiteLedger, _ tier: Complexity, at date: Date, id: String = UUID().uuidString, output: Int = 500) throws -> ReservationOutcome {
        let t = task(tier, output: output)
        return try l.reserveNow(ReservationRequest(requestID: id, taskKind: "k", tags: ["agent": "a1"]), at: date) { selector.select(t, budget: $0) }
    }

    static func reservation(_ o: ReservationOutcome) -> Reservation? {
        if case .reserved(let r) = o { r } else { nil }
    }
}

@Suite("Spend ledger")
struct LedgerTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    func ledger(daily: MicroDollars? = .dollars(1), monthly: MicroDollars? = .dollars(10), tz: String = "UTC") throws -> SQLiteLedger {
        try SQLiteLedger.inMemory(
            configuration: .init(limits: .init(daily: daily, monthly: monthly), calendar: try BudgetCalendar(timeZoneIdentifier: tz)), now: t0)
    }

    @Test("Reserve, settle and release keep exact running totals")
    func totals() throws {
        let l = try ledger()
        let r1 = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
        let r2 = try #require(F.reservation(try F.reserve(l, .medium, at: t0)))
        var s = try l.snapshotNow(at: t0)
        #expect(s.daily.reserved == r1.selection.estimate + r2.selection.estimate)
        #expect(s.monthly.reserved == s.daily.reserved)
        _ = try l.settleNow(r1.id, Settlement(inputTokens: 900, outputTokens: 100, cost: MicroDollars(micros: 400)), at: t0)
        let e = try #require(try l.entry(id: r1.id))
        #expect(e.status == .settled && e.actualCost == MicroDollars(micros: 400) && e.tags == ["agent": "a1"])
        try l.releaseNow(r2.id, error: "provider 503", at: t0)
        s = try l.snapshotNow(at: t0)
        #expect(s.daily.reserved == .zero && s.daily.settled == MicroDollars(micros: 400))
        #expect(s.monthly.settled == MicroDollars(micros: 400))
        // Finished reservations cannot be finished again.
        #expect { try l.releaseNow(r1.id, error: nil, at: t0) } throws: { ($0 as? LedgerError)?.kind == .alreadyFinished }
        #expect { try l.settleNow(999, Settlement(inputTokens: 1, outputTokens: 1, cost: .zero), at: t0) } throws: {
            ($0 as? LedgerError)?.kind == .unknownReservation
        }
    }

    @Test("A settlement above the estimate is recorded at the actual cost")
    func overrun() throws {
        let l = try ledger()
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
        let actual = r.selection.estimate + MicroDollars(micros: 77)
        _ = try l.settleNow(r.id, Settlement(inputTokens: 5_000, outputTokens: 500, cost: actual), at: t0)
        #expect(try l.snapshotNow(at: t0).daily.settled == actual)
    }

    @Test("A refusal is recorded and reserves nothing; the ledger itself rejects a non-critical overspend")
    func refusals() throws {
        let l = try ledger(daily: MicroDollars(micros: 10))
        guard case .refused(let sel, _, let id) = try F.reserve(l, .simple, at: t0) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(sel.reason == .refused)
        #expect(try l.entry(id: id)?.status == .refused)
        #expect(try l.snapshotNow(at: t0).daily.reserved == .zero)
        // A selection that ignores the budget is stopped by the ledger.
        let unlimited = try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: MicroDollars(micros: 10), monthly: nil)))
        let t = F.task(.simple)
        #expect {
            try unlimited.reserveNow(ReservationRequest(requestID: "x"), at: t0) { _ in F.selector.select(t, budget: .unlimited) }
        } throws: { ($0 as? LedgerError)?.kind == .wouldExceedBudget }
    }

    @Test("Critical calls are reserved at a zero budget and flagged over the limit")
    func critical() throws {
        let l = try ledger(daily: .zero, monthly: .zero)
        #expect(F.reservation(try F.reserve(l, .simple, at: t0)) == nil)
        let r = try #require(F.reservation(try F.reserve(l, .critical, at: t0)))
        #expect(r.selection.model == .claudeOpus && r.selection.exceedsDailyLimit)
        let receipt = try l.settleNow(r.id, Settlement(inputTokens: 1_000, outputTokens: 500, cost: r.selection.estimate), at: t0)
        let e = try #require(try l.entry(id: r.id))
        #expect(receipt.overLimit && e.overLimit && e.critical)
        let w = try l.windowTotals()
        #expect(w.allSatisfy { $0.criticalSettled == r.selection.estimate && $0.nonCriticalSettled == .zero })
    }

    @Test(
        "Day and month windows follow the calendar of the configured zone",
        arguments: [
            ("UTC", "2026-11-30T23:59:59Z", "2026-11-30", "2026-11"),
            ("UTC", "2026-12-01T00:00:00Z", "2026-12-01", "2026-12"),
            ("America/New_York", "2026-11-21T04:59:59Z", "2026-11-20", "2026-11"),
            ("America/New_York", "2026-11-21T05:00:00Z", "2026-11-21", "2026-11"),
            ("America/New_York", "2026-12-01T04:59:59Z", "2026-11-30", "2026-11"),
            ("America/New_York", "2027-01-01T04:59:59Z", "2026-12-31", "2026-12"),
            ("Asia/Tokyo", "2026-02-28T15:00:00Z", "2026-03-01", "2026-03"),
            ("UTC", "2028-02-29T12:00:00Z", "2028-02-29", "2028-02"),
        ])
    func windows(zone: String, instant: String, day: String, month: String) throws {
        let l = try ledger(tz: zone)
        let at = F.utc(instant)
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: at)))
        #expect(r.dayKey == day && r.monthKey == month)
        let s = try l.snapshotNow(at: at)
        #expect(s.daily.key == day && s.monthly.key == month)
        #expect(s.daily.reserved == r.selection.estimate)
    }

    @Test("DST days last 23 and 25 hours in America/New_York")
    func dst() throws {
        let cal = try BudgetCalendar(timeZoneIdentifier: "America/New_York")
        let spring = cal.day(containing: F.utc("2026-03-08T12:00:00Z"))
        #expect(spring.key == "2026-03-08" && spring.end.timeIntervalSince(spring.start) == 23 * 3600)
        let fall = cal.day(containing: F.utc("2026-11-01T12:00:00Z"))
        #expect(fall.key == "2026-11-01" && fall.end.timeIntervalSince(fall.start) == 25 * 3600)
        // 23:30 local on the fall-back day (04:30Z next day) is still that day.
        #expect(cal.day(containing: F.utc("2026-11-02T04:30:00Z")).key == "2026-11-01")
        #expect(cal.day(containing: F.utc("2026-11-02T05:00:00Z")).key == "2026-11-02")
        #expect(throws: LedgerError.self) { try BudgetCalendar(timeZoneIdentifier: "Mars/Olympus") }
    }

    @Test("Spend in one day does not count against the next; the month accumulates")
    func rollover() throws {
        let l = try ledger(daily: .dollars(1), monthly: .dollars(100))
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: F.utc("2026-11-20T23:00:00Z"))))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 900_000)), at: F.utc("2026-11-21T00:30:00Z"))
        let next = try l.snapshotNow(at: F.utc("2026-11-21T01:00:00Z"))
        #expect(next.daily.settled == .zero)
        #expect(next.monthly.settled == MicroDollars(micros: 900_000))
        // The cost counts in the window the call was reserved in.
        #expect(try l.snapshotNow(at: F.utc("2026-11-20T23:30:00Z")).daily.settled == MicroDollars(micros: 900_000))
    }

    @Test("Tags round-trip through the ledger, whatever characters they hold")
    func tags() throws {
        let l = try ledger(daily: nil, monthly: nil)
        let t = F.task(.simple)
        for tags in [["agent": "a1", "symbol": "AAPL"], ["a,b": "x:y", "q": "say \"hi\"", "back\\slash": "é🌍", "{": "}"], [:]] {
            guard case .reserved(let r) = try l.reserveNow(ReservationRequest(requestID: "t", tags: tags), at: t0, choose: { F.selector.select(t, budget: $0) })
            else { Issue.record("refused"); continue }
            #expect(try l.entry(id: r.id)?.tags == tags)
        }
    }

    @Test("Limits in force are recorded")
    func recordedLimits() throws {
        let l = try ledger()
        let rec = try l.recordedLimits()
        #expect(rec.count == 1 && rec[0].limits.daily == .dollars(1) && rec[0].timeZone == "UTC")
        #expect(throws: LedgerError.self) {
            try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: MicroDollars(micros: -1), monthly: nil)))
        }
    }
}

@Suite("Spend ledger on disk")
struct LedgerFileTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    func config(ttl: Duration = .seconds(60)) -> SQLiteLedger.Configuration {
        .init(limits: .init(daily: .dollars(5), monthly: .dollars(50)), reservationTimeToLive: ttl)
    }

    @Test("Entries and totals persist across reopen; migrations run once")
    func persistence() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        var settled = MicroDollars.zero
        do {
            let l = try SQLiteLedger(path: path, configuration: config(), now: t0)
            for _ in 0..<5 {
                let r = try #require(F.reservation(try F.reserve(l, .medium, at: t0)))
                settled += try l.settleNow(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: r.selection.estimate), at: t0).cost
            }
            let walPerms = try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? Int
            #expect(walPerms == 0o600)
        }
        for _ in 0..<3 {
            let l = try SQLiteLedger(path: path, configuration: config(), now: t0)
            #expect(try l.snapshotNow(at: t0).daily.settled == settled)
            #expect(try l.entries(status: .settled).count == 5)
            #expect(try l.integrityCheck() == "ok")
        }
        let perms = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(perms == 0o600)
    }

    @Test("A reservation left by a crashed process expires after its time-to-live, on open or on read")
    func staleReclaim() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let id: Int64
        let other: MicroDollars
        do {
            let l = try SQLiteLedger(path: path, configuration: config(), now: t0)
            id = try #require(F.reservation(try F.reserve(l, .complex, at: t0))).id
            other = try #require(F.reservation(try F.reserve(l, .simple, at: t0))).selection.estimate
        }
        // Before the TTL: still held.
        let early = try SQLiteLedger(path: path, configuration: config(), now: t0.addingTimeInterval(30))
        #expect(try early.snapshotNow(at: t0.addingTimeInterval(30)).daily.reserved > .zero)
        // Reading a window after the TTL reclaims: both are charged at their estimates, never freed.
        let expired = try early.snapshotNow(at: t0.addingTimeInterval(61))
        #expect(expired.daily.reserved == .zero)
        let charged = try #require(try early.entry(id: id))
        #expect(charged.status == .expired && expired.daily.settled == charged.estimatedCost + other)
        // A late settlement of an expired reservation replaces its estimate with the cost, once.
        _ = try early.settleNow(id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 123)), at: t0.addingTimeInterval(62))
        let s = try early.snapshotNow(at: t0.addingTimeInterval(63))
        #expect(s.daily.settled == MicroDollars(micros: 123) + other && s.daily.reserved == .zero)
        // Opening reclaims too.
        _ = try F.reserve(early, .simple, at: t0.addingTimeInterval(100))
        let reopened = try SQLiteLedger(path: path, configuration: config(), now: t0.addingTimeInterval(200))
        #expect(try reopened.entries(status: .reserved).isEmpty)
    }

    @Test("A batch keeps window totals exact: reservations expiring, settling and releasing inside one transaction")
    func batchTotals() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try SQLiteLedger(path: dir.appendingPathComponent("b.sqlite").path, configuration: config(), now: t0)
        let t = F.task(.medium)
        var settled = MicroDollars.zero
        try l.batch { b in
            var ids: [Int64] = []
            for i in 0..<40 {
                let at = t0.addingTimeInterval(Double(i))
                if case .reserved(let r) = try b.reserve(ReservationRequest(requestID: "b\(i)"), at: at, choose: { F.selector.select(t, budget: $0) }) {
                    ids.append(r.id)
                }
            }
            // Half settled, a quarter released; the rest expire when a reservation 2 minutes later looks for them.
            for id in ids.prefix(20) {
                try b.settle(id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 1_000)), at: t0.addingTimeInterval(50))
                settled += MicroDollars(micros: 1_000)
            }
            for id in ids.dropFirst(20).prefix(10) { try b.release(id, error: "x", at: t0.addingTimeInterval(50)) }
            _ = try b.reserve(ReservationRequest(requestID: "late"), at: t0.addingTimeInterval(200)) { F.selector.select(t, budget: $0) }
        }
        let late = try #require(try l.entries(status: .reserved).first)
        let expired = try l.entries(status: .expired)
        #expect(expired.count == 10)
        // Expired reservations are charged at their estimates.
        let charged = try MicroDollars.sum(expired.map(\.estimatedCost))
        let s = try l.snapshotNow(at: t0.addingTimeInterval(201))
        #expect(s.daily.settled == settled + charged && s.daily.reserved == late.estimatedCost)
        #expect(try l.verify().isIntact)
    }

    @Test("Files that are not ledgers, or from a newer schema, are refused with a clear error")
    func badFiles() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.sqlite").path
        try Data(repeating: 0x41, count: 8_192).write(to: URL(fileURLWithPath: junk))
        #expect { try SQLiteLedger(path: junk) } throws: { e in
            (e as? LedgerError)?.kind == .notALedger && "\(e)".contains("junk.sqlite")
        }
        let path = dir.appendingPathComponent("new.sqlite").path
        _ = try SQLiteLedger(path: path)
        let db = try SQLiteProbe(path: path)
        try db.exec("INSERT INTO grdb_migrations (identifier) VALUES ('v999-from-the-future')")
        #expect { try SQLiteLedger(path: path) } throws: { ($0 as? LedgerError)?.kind == .newerSchema }
    }
}
