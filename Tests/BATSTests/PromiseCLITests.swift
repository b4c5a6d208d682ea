import Foundation
import ModelSelection
import SpendLedger
import Testing

/// The budget promise through the `bats` executable: the attacks of the promise issue, as a user would run them.
@Suite("Budget promise: the command line", .serialized)
struct PromiseCLITests {
    typealias F = LedgerFixture

    /// `bats simulate` with no failures, cancellations or critical calls, so that every call is a non-critical one.
    static func simulate(_ ledger: String, seed: Int, tasks: Int = 60, extra: [String]) -> [String] {
        [
            "simulate", "--ledger", ledger, "--tasks", "\(tasks)", "--concurrency", "8", "--failure-rate", "0", "--cancel-rate", "0",
            "--critical-share", "0", "--seed", "\(seed)", "--request-prefix", "p\(seed)",
        ] + extra
    }

    static func nonCriticalDay(_ path: String) throws -> MicroDollars {
        let l = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, readOnly: true))
        return try l.windowTotals().filter { $0.period == "day" }.map(\.nonCriticalSettled).reduce(.zero) { try $0.adding($1) }
    }

    @Test("Case 6: commands without budget flags use the ledger's recorded limits instead of running unlimited")
    func noFlagsKeepLimits() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        // The first run sets $0.10 a day.
        var o = try await BATSChild.run(Self.simulate(path, seed: 1, tasks: 5, extra: ["--daily-budget", "0.10"]), scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        // Runs without flags: the recorded limit holds.
        for seed in 2...3 {
            o = try await BATSChild.run(Self.simulate(path, seed: seed, tasks: 400, extra: []), scratch: dir)
            #expect(o.status == 0, "\(o.stderr)")
        }
        #expect(try Self.nonCriticalDay(path) <= MicroDollars(micros: 100_000))
        // Changing the limit is explicit, recorded with its time, and shown by the audit.
        o = try await BATSChild.run(["budget", "--ledger", path, "--daily-budget", "0.20"], scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        o = try await BATSChild.run(["audit", "--ledger", path, "--format", "json"], scratch: dir)
        let audit = try #require(try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any])
        let limits = try #require(audit["limits"] as? [[String: Any]])
        #expect(limits.count == 2)
    }

    @Test("Case 7: a second --tz on the same ledger is a clear error; the day is never counted in two zones")
    func oneZone() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        var o = try await BATSChild.run(Self.simulate(path, seed: 1, tasks: 400, extra: ["--daily-budget", "0.30", "--tz", "UTC"]), scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        o = try await BATSChild.run(Self.simulate(path, seed: 2, tasks: 400, extra: ["--tz", "Pacific/Kiritimati"]), scratch: dir)
        #expect(o.status != 0 && o.stderr.contains("time-zone-mismatch") && o.stderr.contains("Pacific/Kiritimati"), "\(o.stderr)")
        #expect(!o.stderr.contains("Usage:"))
        #expect(try Self.nonCriticalDay(path) <= MicroDollars(micros: 300_000))
        let l = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, readOnly: true))
        #expect(try l.windowTotals().filter { $0.period == "day" }.count == 1)
    }

    @Test("Case 2: two processes whose calls outlive the reservation TTL stay within the daily limit")
    func slowCallsPastTTL() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        // Every call takes 2.5 s, longer than the 1 s TTL asked for: the reservation must outlive it.
        let extra = ["--daily-budget", "0.05", "--reservation-ttl", "1", "--slow-rate", "1", "--slow-ms", "2500"]
        var o = try await BATSChild.run(Self.simulate(path, seed: 1, tasks: 1, extra: extra), scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        let runs = try (1...2).map { i in
            let out = dir.appendingPathComponent("p\(i)")
            return (try BATSChild.start(Self.simulate(path, seed: 10 + i, tasks: 48, extra: extra), output: out), out)
        }
        for (p, out) in runs {
            o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "\(o.stderr)")
        }
        let spent = try Self.nonCriticalDay(path)
        #expect(spent <= MicroDollars(micros: 50_000))
        let l = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, readOnly: true))
        #expect(try l.entries(status: .reserved).isEmpty)
        #expect(try l.verify().isIntact)
        // The budget bound: some calls were refused.
        #expect(try l.entries(status: .refused).count > 0, "spent \(spent)")
    }

    @Test("Case 12: a ledger created with BATS_LEDGER_KEY has a keyed chain; audit verify says so; it needs the key")
    func keyedChainCLI() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let env = ["BATS_LEDGER_KEY": "a-secret-that-is-long-enough"]
        var o = try await BATSChild.run(Self.simulate(path, seed: 1, tasks: 20, extra: ["--daily-budget", "1"]), scratch: dir, environment: env)
        #expect(o.status == 0, "\(o.stderr)")
        o = try await BATSChild.run(["audit", "verify", "--ledger", path], scratch: dir, environment: env)
        #expect(o.status == 0 && o.stdout.contains("keyed chain (HMAC-SHA256)"), "\(o.stdout) \(o.stderr)")
        o = try await BATSChild.run(["audit", "verify", "--ledger", path], scratch: dir)
        #expect(o.status != 0 && o.stderr.contains("chain-key") && o.stderr.split(separator: "\n").count == 1, "\(o.stderr)")
        #expect(!o.stderr.contains("a-secret"))
        o = try await BATSChild.run(["audit", "verify", "--ledger", path], scratch: dir, environment: ["BATS_LEDGER_KEY": "another-secret-long-enough"])
        #expect(o.status != 0 && o.stderr.contains("not the one") && !o.stderr.contains("another-secret"), "\(o.stderr)")
    }

    @Test("Case 8: the audit judges a breach by the limit in force when it was reserved, and shows then and now")
    func auditBreachThenAndNow() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        var o = try await BATSChild.run(Self.simulate(path, seed: 1, tasks: 400, extra: ["--daily-budget", "0.05"]), scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        // Lowering the limit later the same day is no breach (exit 0, where judging by the last limit gave 3).
        o = try await BATSChild.run(["budget", "--ledger", path, "--daily-budget", "0.01"], scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        o = try await BATSChild.run(["audit", "--ledger", path], scratch: dir)
        #expect(o.status == 0, "\(o.stdout) \(o.stderr)")
        // A real breach (a provider billing $3.15 on a $1 day, so that the reservation always has room) stays one after
        // the limit is raised to $5.
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)))
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: Date())))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: MicroDollars(micros: 3_150_000)), at: Date())
        o = try await BATSChild.run(["budget", "--ledger", path, "--daily-budget", "5"], scratch: dir)
        #expect(o.status == 0, "\(o.stderr)")
        o = try await BATSChild.run(["audit", "--ledger", path], scratch: dir)
        #expect(o.status == 3, "\(o.stdout) \(o.stderr)")
        #expect(o.stderr.contains("$1.000000 in force when it was reserved") && o.stderr.contains("limit now $5.000000"), "\(o.stderr)")
        #expect(o.stderr.contains("over-reservation"))
    }
}
