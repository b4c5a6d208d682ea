import AsyncHTTPClient
import BATSTestSupport
import FleetLedger
import Foundation
import NIOCore
import SpendLedger
import Testing

/// The commands that take `--ledger` on a PostgreSQL ledger: serve, budget, audit, alerts, copy, and the ledger
/// chosen by `BATS_LEDGER_URL` or the configuration file.
@Suite("Command line on PostgreSQL", .serialized, .enabled(if: PostgresTestServer.enabled, Comment(rawValue: PostgresTestServer.howTo)))
struct PostgresCLITests {
    static var env: [String: String] { ["BATS_LEDGER_PASSWORD": PostgresTestServer.password ?? ""] }

    @Test("bats serve on PostgreSQL answers, records the call there, and its budget endpoint reads the database")
    func serve() async throws {
        let url = try await PostgresTestServer.freshDatabase("serve")
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await LoopbackGatewayServer.withServer { upstream in
            upstream.setResponder(OpenAIMock().responder)
            let out = dir.appendingPathComponent("serve")
            var env = Self.env
            env["LLM_GATEWAY_BASE_URL"] = upstream.baseURL
            env["TARS_API_KEY"] = ServerHarness.upstreamKey
            let p = try BATSChild.start(["serve", "--ledger", url.description, "--port", "0", "--daily-budget", "5", "--shutdown-grace", "5"], output: out, environment: env)
            defer { if p.isRunning { p.terminate() } }
            let base = try await ServeCLITests.readyURL(p, output: out)
            let ok = try await ServeCLITests.post(base, key: nil)
            #expect(ok.0 == 200, "\(ok.1)")
            let budget = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/v1/bats/budget"), timeout: .seconds(30))
            let doc = String(buffer: try await budget.body.collect(upTo: 1 << 20))
            #expect(budget.status.code == 200 && doc.contains("\"limit_usd\":5"), "\(doc)")
            p.terminate()
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0 && o.stderr.contains("stopped; 0 reservation(s) left open"), "\(o.stderr)")
            #expect(!o.stdout.contains(PostgresTestServer.password ?? "\u{0}") && !o.stderr.contains(PostgresTestServer.password ?? "\u{0}"))
        }
        let config = PostgresLedger.Configuration(url: url, password: PostgresTestServer.password, recordsLimits: false, operationTimeout: PostgresTestServer.operationTimeout)
        try await PostgresLedger.withLedger(config) { remote in
            let copy = try await remote.reportingCopy()
            #expect(try copy.entries(status: .settled).count == 1)
            #expect(copy.limits.daily == .dollars(5))
        }
    }

    @Test("budget, audit and alerts by BATS_LEDGER_URL or ledger.url; copy to SQLite and back keeps the chain; a second copy is refused")
    func budgetAuditCopy() async throws {
        let url = try await PostgresTestServer.freshDatabase("cli")
        let back = try await PostgresTestServer.freshDatabase("cliback")
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sim = try await BATSChild.run(
            ["simulate", "--ledger", url.description, "--tasks", "60", "--daily-budget", "0.05", "--failure-rate", "0.1", "--max-latency-us", "0", "--min-latency-us", "0"],
            scratch: dir, environment: Self.env)
        #expect(sim.status == 0, "\(sim.stderr)")
        var env = Self.env
        env["BATS_LEDGER_URL"] = url.description
        let budget = try await BATSChild.run(["budget", "--format", "json"], scratch: dir, environment: env)
        #expect(budget.status == 0 && budget.stdout.contains("\"limit_usd\":0.05"), "\(budget.stderr)")
        let config = dir.appendingPathComponent("bats.yaml")
        try "ledger:\n  url: \(url.description)\n".write(to: config, atomically: true, encoding: .utf8)
        let audit = try await BATSChild.run(["audit", "--config", config.path, "--by", "tier"], scratch: dir, environment: Self.env)
        #expect(audit.status == 0 && audit.stdout.contains("total"), "\(audit.stdout)\(audit.stderr)")
        let alerts = try await BATSChild.run(["alerts", "list", "--config", config.path], scratch: dir, environment: Self.env)
        #expect(alerts.status == 0, "\(alerts.stderr)")
        let file = dir.appendingPathComponent("copy.sqlite").path
        let toFile = try await BATSChild.run(["ledger", "copy", url.description, file], scratch: dir, environment: Self.env)
        #expect(toFile.status == 0 && toFile.stdout.contains("chain verified"), "\(toFile.stderr)")
        let toBack = try await BATSChild.run(["ledger", "copy", file, back.description], scratch: dir, environment: Self.env)
        #expect(toBack.status == 0, "\(toBack.stderr)")
        let heads = [toFile.stdout, toBack.stdout].map { $0.components(separatedBy: "head ").last ?? "" }
        #expect(heads[0] == heads[1] && !heads[0].isEmpty)
        let again = try await BATSChild.run(["ledger", "copy", file, back.description], scratch: dir, environment: Self.env)
        #expect(again.status == 1 && again.stderr.contains("already holds entries"), "\(again.stderr)")
        let a1 = try await BATSChild.run(["audit", "--ledger", url.description, "--format", "csv"], scratch: dir, environment: Self.env)
        let a2 = try await BATSChild.run(["audit", "--ledger", back.description, "--format", "csv"], scratch: dir, environment: Self.env)
        let a3 = try await BATSChild.run(["audit", "--ledger", file, "--format", "csv"], scratch: dir, environment: Self.env)
        #expect(a1.stdout == a2.stdout && a2.stdout == a3.stdout && !a1.stdout.isEmpty)
        let replay = try await BATSChild.run(["replay", "--from-ledger", url.description, "--daily-budget", "1"], scratch: dir, environment: Self.env)
        #expect(replay.status == 0, "\(replay.stderr)")
    }

    @Test("bats budget on PostgreSQL counts the room a host's open lease holds as reserved")
    func budgetCountsLeasedRoom() async throws {
        let url = try await PostgresTestServer.freshDatabase("leasedbudget")
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = PostgresLedger.Configuration(
            url: url, password: PostgresTestServer.password, limits: BudgetLimits(daily: .dollars(10), monthly: nil),
            operationTimeout: PostgresTestServer.operationTimeout)
        let remote = try await PostgresLedger.connect(config)
        let host = try await LeasedLedger.open(remote: remote, configuration: .init(host: "holder", journalPath: dir.appendingPathComponent("j").path))
        let task = LedgerFixture.task(.medium)
        guard case .reserved(let r) = try await host.reserve(ReservationRequest(requestID: "one"), at: Date(), choose: { LedgerFixture.selector.select(task, budget: $0) })
        else {
            Issue.record("refused")
            return
        }
        _ = try await host.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: Date())
        let room = host.holdings.leasedRoom
        #expect(room > 0)
        let budget = try await BATSChild.run(["budget", "--ledger", url.description, "--format", "json"], scratch: dir, environment: Self.env)
        struct Doc: Decodable {
            struct Window: Decodable { var reserved_usd: Double }
            var day: Window
        }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(budget.stdout.utf8))
        #expect(doc.day.reserved_usd > 0, "\(budget.stdout)")
        try await host.close()
        await remote.close()
    }
}
