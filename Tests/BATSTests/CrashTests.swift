import Foundation
import GRDB
import Replay
import SpendLedger
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Crashes: SIGKILL mid-run", .serialized)
struct CrashTests {
    /// Settled entries by id, with their seals: what must survive every later crash unchanged.
    static func settledSeals(_ path: String) throws -> [Int64: String] {
        let q = try DatabaseQueue(path: path)
        return try q.read { db in
            var out: [Int64: String] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, seal FROM entry WHERE status = 'settled'") { out[r[0]] = r[1] }
            return out
        }
    }

    @Test("bats simulate killed at random points: no settled entry lost, chain and totals intact, stale reservations expire, a new run stays in budget")
    func killSimulate() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        var kept: [Int64: String] = [:]
        var sawOpenReservations = false
        for seed in [11, 12, 13, 14, 15] as [UInt64] {
            var random = SeededGenerator(seed: seed)
            let delay = random.uniform(in: 300...1_200)
            let args = MultiProcessTests.simulate(
                path, seed: Int(seed), tasks: 1_000_000, concurrency: 64, daily: "5", extra: ["--reservation-ttl", "2", "--request-timeout-ms", "1000", "--settle-deadline-ms", "500"])
            let out = dir.appendingPathComponent("kill\(seed)")
            let p = try BATSChild.start(args, output: out)
            try await Task.sleep(for: .milliseconds(delay))
            kill(p.processIdentifier, SIGKILL)
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == SIGKILL, "expected death by SIGKILL, got \(o.status): \(o.stderr)")

            let now = try SQLiteLedger(path: path, configuration: .init(reservationTimeToLive: .seconds(2), recordsLimits: false), now: Date())
            let seals = try Self.settledSeals(path)
            for (id, seal) in kept {
                #expect(seals[id] == seal, "settled entry \(id) was lost or changed by the kill at seed \(seed)")
            }
            #expect(seals.count >= kept.count)
            let report = try now.verify()
            #expect(report.isIntact, "seed \(seed): \(String(describing: report.firstProblem))")
            #expect(try now.integrityCheck() == "ok")
            if !(try now.entries(status: .reserved)).isEmpty { sawOpenReservations = true }
            kept = seals
        }
        #expect(kept.count > 0, "the child never settled anything before being killed")
        #expect(sawOpenReservations, "no kill left a reservation open; the test did not exercise reclaiming")

        // Past the time-to-live (and the calls' own deadline: 1 s + 0.5 s + 5 s), reopening reclaims every abandoned
        // reservation, charged at its estimate.
        let later = try LedgerInvariants.open(path, now: Date().addingTimeInterval(10))
        #expect(try later.entries(status: .reserved).isEmpty)
        #expect(!(try later.entries(status: .expired)).isEmpty)
        try LedgerInvariants.expectHolds(later)

        // A new run continues within budget on the same file.
        let o: BATSChild.Output = try await BATSChild.run(MultiProcessTests.simulate(path, seed: 99, tasks: 500, concurrency: 32, daily: "5"), scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        let after = try LedgerInvariants.open(path)
        try LedgerInvariants.expectHolds(after)
        #expect(try after.entries(status: .reserved).isEmpty)
        let final = try Self.settledSeals(path)
        for (id, seal) in kept { #expect(final[id] == seal) }
    }
}
