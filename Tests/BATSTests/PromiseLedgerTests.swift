import Foundation
import GRDB
import ModelSelection
@testable import SpendLedger
import Testing

/// The ledger's side of the budget promise: expiry never frees money that may have been spent, limits and the zone
/// are the ledger's state, the audit judges each reservation by the limits in force, bad files are named.
@Suite("Budget promise: the ledger", .serialized)
struct PromiseLedgerTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func file() throws -> (URL, String) {
        let dir = try F.tempDir()
        return (dir, dir.appendingPathComponent("ledger.sqlite").path)
    }

    // MARK: Expiry (case 2)

    @Test("An expired reservation is charged at its estimate, never freed; a late settlement replaces it exactly once")
    func expiryCharges() throws {
        let l = try SQLiteLedger.inMemory(
            configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), reservationTimeToLive: .seconds(1)), now: Self.t0)
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
        let est = r.selection.estimate
        #expect(try l.reclaimExpired(at: Self.t0.addingTimeInterval(5)) == 1)
        let e = try #require(try l.entry(id: r.id))
        #expect(e.status == .expired && e.actualCost == est && e.usageEstimated && e.flags.contains(.chargedAtExpiry))
        var s = try l.snapshotNow(at: Self.t0.addingTimeInterval(5))
        #expect(s.daily.reserved == .zero && s.daily.settled == est)
        // The late settlement replaces the estimate with the actual cost.
        let actual = MicroDollars(micros: est.rawValue / 3)
        let receipt = try l.settleNow(r.id, Settlement(inputTokens: 10, outputTokens: 10, cost: actual), at: Self.t0.addingTimeInterval(6))
        #expect(receipt.flags.contains(.settledAfterExpiry))
        s = try l.snapshotNow(at: Self.t0.addingTimeInterval(6))
        #expect(s.daily.settled == actual)
        // Exactly once.
        #expect { try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: actual), at: Self.t0) } throws: {
            ($0 as? LedgerError)?.kind == .alreadyFinished
        }
        #expect(try l.snapshotNow(at: Self.t0.addingTimeInterval(7)).daily.settled == actual)
        #expect(try l.verify().isIntact)
        // The audit lists the expired charge apart.
        let r2 = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0.addingTimeInterval(8))))
        _ = try l.reclaimExpired(at: Self.t0.addingTimeInterval(20))
        let a = try l.audit(by: .day)
        #expect(a.totals.expired == 1 && a.totals.expiredCharged == r2.selection.estimate && a.totals.settledAfterExpiry == 1)
        #expect(try l.verify().isIntact)
    }

    @Test("Freed room is not reused while an expired call may still be spending (two ledgers on one file)")
    func expiryDoesNotFreeRoom() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = SQLiteLedger.Configuration(limits: .init(daily: .dollars(1), monthly: nil), reservationTimeToLive: .seconds(1))
        let a = try SQLiteLedger(path: path, configuration: config, now: Self.t0)
        let b = try SQLiteLedger(path: path, configuration: .init(reservationTimeToLive: .seconds(1)), now: Self.t0)
        // A fills most of the day, then its call runs past the time-to-live.
        var held: [Reservation] = []
        while let r = F.reservation(try F.reserve(a, .complex, at: Self.t0, output: 4_000)) { held.append(r) }
        let later = Self.t0.addingTimeInterval(10)
        #expect(try b.reclaimExpired(at: later) == held.count)
        // B cannot take the room A's calls may have used.
        #expect(F.reservation(try F.reserve(b, .complex, at: later, output: 4_000)) == nil)
        // A's calls settle late at their real cost: the day ends within its limit.
        for r in held { _ = try a.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: later) }
        let day = try #require(try a.windowTotals().first { $0.period == "day" })
        #expect(day.nonCriticalSettled <= .dollars(1))
        #expect(try a.verify().isIntact)
    }

    @Test("A reservation lives at least as long as its call's deadline, whatever the time-to-live")
    func ttlFollowsDeadline() throws {
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: .unlimited, reservationTimeToLive: .seconds(1)), now: Self.t0)
        let t = F.task(.simple)
        let o = try l.reserveNow(ReservationRequest(requestID: "slow", callDeadline: .seconds(600)), at: Self.t0) {
            F.selector.select(t, budget: $0)
        }
        let r = try #require(F.reservation(o))
        #expect(try l.reclaimExpired(at: Self.t0.addingTimeInterval(30)) == 0)
        #expect(try l.entry(id: r.id)?.status == .reserved)
        #expect(try l.reclaimExpired(at: Self.t0.addingTimeInterval(601)) == 1)
    }

    // MARK: Over the reservation (case 5)

    @Test("A cost above the reservation is recorded as billed and flagged; an absurd one is refused with a typed error")
    func overReservation() throws {
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)), now: Self.t0)
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
        let big = MicroDollars(micros: 3_150_000)
        let receipt = try l.settleNow(r.id, Settlement(inputTokens: 2_000_000, outputTokens: 2_000_000, cost: big), at: Self.t0)
        #expect(receipt.flags.contains(.overReservation) && receipt.cost == big)
        let e = try #require(try l.entry(id: r.id))
        #expect(e.flags.contains(.overReservation) && e.error?.contains("passed the reserved estimate") == true)
        #expect(try l.audit(by: .day).totals.overReservation == 1)
        // The audit shows the breach, and says the provider billed beyond its reservation.
        let breach = try #require(try l.breaches().first { $0.period == "day" })
        #expect(breach.entryID == r.id && breach.overReservations == 1 && breach.limitThen == .dollars(1))
        let r2 = try #require(F.reservation(try F.reserve(l, .critical, at: Self.t0)))
        #expect {
            try l.settleNow(r2.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: .max)), at: Self.t0)
        } throws: { ($0 as? LedgerError)?.kind == .invalidAmount }
        #expect(try l.entry(id: r2.id)?.status == .reserved)
        #expect(try l.windowTotals().allSatisfy { $0.settled < .dollars(10) })
        #expect(try l.verify().isIntact)
    }

    // MARK: Limits and zone are the ledger's state (cases 6, 7)

    @Test("Limits are the ledger's state: opening without limits keeps them; a change by one process binds the others")
    func limitsAreState() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: MicroDollars(micros: 100_000), monthly: nil)), now: Self.t0)
        // No limits given: the recorded $0.10 applies.
        let noFlags = try SQLiteLedger(path: path, configuration: .init(), now: Self.t0)
        #expect(noFlags.limits.daily == MicroDollars(micros: 100_000))
        var spent = MicroDollars.zero
        while let r = F.reservation(try F.reserve(noFlags, .simple, at: Self.t0)) {
            _ = try noFlags.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: Self.t0)
            spent = spent + r.selection.estimate
        }
        #expect(spent <= MicroDollars(micros: 100_000) && spent > .zero)
        // Another process raises the limit: the first one's next reservation sees it.
        let raiser = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)), now: Self.t0)
        #expect(F.reservation(try F.reserve(noFlags, .simple, at: Self.t0)) != nil)
        let history = try raiser.recordedLimits()
        #expect(history.map(\.limits.daily) == [MicroDollars(micros: 100_000), .dollars(1)])
    }

    @Test("The zone is fixed at creation: another --tz is an error; an explicit change takes effect from the next day")
    func zoneIsFixed() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        let limits = BudgetLimits(daily: MicroDollars(micros: 300_000), monthly: nil)
        _ = try SQLiteLedger(path: path, configuration: .init(limits: limits, calendar: try BudgetCalendar(timeZoneIdentifier: "UTC")), now: Self.t0)
        let kiritimati = try BudgetCalendar(timeZoneIdentifier: "Pacific/Kiritimati")
        #expect { try SQLiteLedger(path: path, configuration: .init(calendar: kiritimati), now: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .timeZoneMismatch && "\(e)".contains("UTC") && "\(e)".contains("Pacific/Kiritimati")
        }
        // Reserving in one zone and then "another" cannot double the day: both run in UTC.
        let l = try SQLiteLedger(path: path, configuration: .init(), now: Self.t0)
        var spent = MicroDollars.zero
        while let r = F.reservation(try F.reserve(l, .simple, at: Self.t0)) {
            #expect(r.dayKey == "2026-11-20")
            spent = spent + r.selection.estimate
        }
        #expect(spent <= limits.daily!)
        // An explicit change: today stays UTC, tomorrow (from UTC midnight) follows Kiritimati.
        let changed = try SQLiteLedger(path: path, configuration: .init(calendar: kiritimati, timeZoneChange: .fromNextDay), now: Self.t0)
        #expect(try changed.timeZone(at: Self.t0) == "UTC")
        let tomorrow = F.utc("2026-11-21T01:00:00Z")
        #expect(try changed.timeZone(at: tomorrow) == "Pacific/Kiritimati")
        let r = try #require(F.reservation(try F.reserve(changed, .simple, at: tomorrow)))
        #expect(r.dayKey == "2026-11-21")  // 15:00 on the 21st in Kiritimati
        // Reopening with the new zone is no longer an error.
        _ = try SQLiteLedger(path: path, configuration: .init(calendar: kiritimati), now: tomorrow)
    }

    // MARK: Audit judged per reservation (case 8)

    @Test("Breaches are judged against the limits in force at each reservation, not the last recorded")
    func breachesByLimitThen() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)), now: Self.t0)
        var spent = MicroDollars.zero
        for _ in 0..<3 {
            let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: Self.t0)
            spent = spent + r.selection.estimate
        }
        // Lowering the limit below what was spent later the same day is no breach.
        _ = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: MicroDollars(micros: 1), monthly: nil)), now: Self.t0)
        #expect(try l.breaches().isEmpty)
        // A real breach under a $1 limit (a provider billing $3.15) stays one after the limit is raised to $5.
        _ = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)), now: Self.t0)
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 3_150_000)), at: Self.t0)
        _ = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(5), monthly: nil)), now: Self.t0)
        let b = try #require(try l.breaches().first)
        #expect(b.entryID == r.id && b.limitThen == .dollars(1) && b.limitNow == .dollars(5))
        #expect(try l.entry(id: r.id)?.limitsID != nil)
    }

    // MARK: Files (cases 10, 11, 15)

    @Test("A directory, a symlink to /dev/null, a missing file for a read: each a one-line LedgerError")
    func badPaths() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try SQLiteLedger(path: dir.path) } throws: { e in
            (e as? LedgerError)?.kind == .notAFile && "\(e)".contains("directory") && !"\(e)".contains("\n")
        }
        let devnull = dir.appendingPathComponent("null.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: devnull, withDestinationPath: "/dev/null")
        #expect { try SQLiteLedger(path: devnull) } throws: { e in (e as? LedgerError)?.kind == .notAFile && "\(e)".contains("/dev/null") }
        #expect { try SQLiteLedger(path: path, configuration: .init(readOnly: true)) } throws: { e in
            (e as? LedgerError)?.kind == .notFound && "\(e)".contains(path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect { try SQLiteLedger(path: dir.appendingPathComponent("no/such/ledger.sqlite").path) } throws: { e in
            (e as? LedgerError)?.kind == .cannotOpen && "\(e)".contains("does not exist")
        }
    }

    @Test("A ledger file deleted or replaced under a running process: writes fail with io-error instead of vanishing")
    func fileGoneWhileOpen() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .unlimited), now: Self.t0)
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        // Writes check the file at most every 20 ms (documented): the next one after that notices.
        Thread.sleep(forTimeInterval: 0.03)
        #expect { try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: .zero), at: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .ioError && "\(e)".contains("deleted or moved while this process had it open")
        }
        // Another file in its place is not the ledger this process opened.
        _ = try SQLiteLedger(path: path, configuration: .init(limits: .unlimited), now: Self.t0)
        Thread.sleep(forTimeInterval: 0.03)
        #expect { try F.reserve(l, .simple, at: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .ioError && "\(e)".contains("replaced")
        }
    }

    @Test("Opened read-only, the ledger answers audits and writes nothing: no lock file, no limits, no expiry")
    func readOnly() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), reservationTimeToLive: .seconds(1)), now: Self.t0)
        _ = try F.reserve(w, .simple, at: Self.t0)
        let before = try LedgerFaultTests.fingerprint(path)
        let r = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(9), monthly: nil), readOnly: true), now: Self.t0.addingTimeInterval(60))
        #expect(try r.audit(by: .day).totals.openReservations == 1)
        #expect(try r.verify().isIntact)
        #expect(try r.snapshotNow(at: Self.t0.addingTimeInterval(60)).daily.limit == .dollars(1))
        #expect { try F.reserve(r, .simple, at: Self.t0) } throws: { ($0 as? LedgerError)?.kind == .readOnly }
        #expect(try LedgerFaultTests.fingerprint(path) == before)
        #expect(try w.recordedLimits().count == 1)
    }

    /// Settles `entries` calls into a ledger file, then lets it go (closing its connections).
    static func fill(_ path: String, entries: Int) throws {
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .unlimited), now: t0)
        for _ in 0..<entries {
            let r = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: t0)
        }
    }

    @Test("A damaged ledger is refused at open, before anything is written into it")
    func damagedAtOpen() throws {
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.fill(path, entries: 400)
        // Checkpoint so the entries live in the main file (nothing left in the WAL), then flip 4 bytes of the entry
        // table's root page header.
        let root = try DatabaseQueue(path: path).writeWithoutTransaction { db -> Int in
            let busy = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")?[0] as Int?
            #expect(busy == 0)
            return try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'entry'") ?? 2
        }
        #expect(((try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0) == 0)
        let h = try #require(FileHandle(forUpdatingAtPath: path))
        try h.seek(toOffset: UInt64((root - 1) * 4_096 + 3))
        h.write(Data([0xFF, 0x7F, 0xFF, 0x7F]))
        try h.close()
        let bytesBefore = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect { try SQLiteLedger(path: path, configuration: .init(), now: Self.t0) } throws: { e in
            let k = (e as? LedgerError)?.kind
            return (k == .corrupt || k == .notALedger) && "\(e)".contains("damaged")
        }
        let bytesAfter = try Data(contentsOf: URL(fileURLWithPath: path))
        // No page that held anything was rewritten (SQLite may extend the file by a free page when it closes).
        #expect(bytesAfter.prefix(bytesBefore.count) == bytesBefore, "\(bytesBefore.count) bytes before, \(bytesAfter.count) after")
    }

    // MARK: A keyed chain (case 12)

    /// Rewrites the last entry's tags (whose agent the spend is charged to) and recomputes its hash and seal as someone who can write the file (but has
    /// no key) would.
    static func forgeLastEntry(_ path: String) throws {
        let q = try DatabaseQueue(path: path)
        let forged = #"{"agent":"someone-else"}"#
        try q.write { db in
            let r = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT id, request_id, attempt, task_kind, tier, model, created_at, day_key, month_key, est_input_tokens,
                            est_output_tokens, est_cost, critical, reason, tags, prev_hash, actual_input_tokens, actual_output_tokens,
                            finished_at, actual_cost FROM entry ORDER BY id DESC LIMIT 1
                        """))
            let draft = EntryDraft(
                id: r[0], request: ReservationRequest(requestID: r[1], attempt: r[2], taskKind: r[3]), tier: Complexity(rawValue: r[4])!, model: r[5],
                createdAt: r[6], dayKey: r[7], monthKey: r[8], estimatedInput: r[9], estimatedOutput: r[10], estimatedCost: r[11],
                critical: r[12], reason: SelectionReason(rawValue: r[13]), tags: forged)
            let hash = draft.hash(previous: r[15], chain: .plain)
            let seal = LedgerStore.sealHash(
                hash: hash, status: .settled, actualIn: r[16], actualOut: r[17], cached: nil, actualCost: r[19], estimated: false, finishedAt: r[18],
                overLimit: false, error: nil, flags: 0, chain: .plain)
            try db.execute(sql: "UPDATE entry SET tags = ?, hash = ?, seal = ? WHERE id = ?", arguments: [forged, hash, seal, r[0] as Int64])
        }
    }

    @Test("With a chain key, the chain is HMAC-SHA256: a recomputed chain is caught, the key is required and checked")
    func keyedChain() throws {
        let key = try LedgerChainKey(bytes: Array("correct horse battery staple".utf8))
        for keyed in [false, true] {
            let (dir, path) = try Self.file()
            defer { try? FileManager.default.removeItem(at: dir) }
            let l = try SQLiteLedger(path: path, configuration: .init(limits: .unlimited, chainKey: keyed ? key : nil), now: Self.t0)
            for _ in 0..<3 {
                let r = try #require(F.reservation(try F.reserve(l, .simple, at: Self.t0)))
                _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: Self.t0)
            }
            #expect(try l.verify().chainMode == (keyed ? "hmac-sha256" : "sha256"))
            #expect(try l.verify().isIntact)
            try Self.forgeLastEntry(path)
            // Without a key anyone can recompute the chain; with one, the forgery shows.
            #expect(try l.verify().isIntact == !keyed)
        }
        let (dir, path) = try Self.file()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try SQLiteLedger(path: path, configuration: .init(chainKey: key), now: Self.t0)
        #expect { try SQLiteLedger(path: path, configuration: .init(), now: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .chainKey && "\(e)".contains("BATS_LEDGER_KEY")
        }
        let wrong = try LedgerChainKey(bytes: Array("another key, also long".utf8))
        #expect { try SQLiteLedger(path: path, configuration: .init(readOnly: true, chainKey: wrong), now: Self.t0) } throws: { e in
            (e as? LedgerError)?.kind == .chainKey && !"\(e)".contains("another key")
        }
    }
}
