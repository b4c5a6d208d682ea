import BATSTestSupport
import BudgetAlerts
import Foundation
import Logging
import ModelSelection
import Synchronization
import Testing

@testable import SpendLedger

/// Alert delivery to a loopback webhook receiver: exactly once, retried, never in a call's way.
@Suite("Budget alerts: delivery")
struct AlertDeliveryTests {
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// A file ledger whose first reservation fires one global 50% alert.
    static func ledgerWithAlert(_ dir: URL) throws -> (SQLiteLedger, String) {
        let path = dir.appendingPathComponent("l.sqlite").path
        let e = ScopeTests.estimate(.simple)
        let limits = BudgetLimits(daily: MicroDollars(micros: e.rawValue * 2), monthly: nil, alerts: [.percent(50, of: .day)])
        let l = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: t0)
        _ = try LedgerFixture.reserve(l, .simple, at: t0)
        return (l, path)
    }

    static func delivery(_ l: SQLiteLedger, _ server: LoopbackGatewayServer, timeout: Duration = .seconds(5), now: @escaping @Sendable () -> Date = { t0 })
        -> WebhookAlertDelivery
    {
        WebhookAlertDelivery(
            ledger: l,
            configuration: .init(url: URL(string: "http://127.0.0.1:\(server.port)/hook?token=s3cret")!, timeout: timeout, backoffBase: .seconds(10)),
            logger: Logger(label: "test"), now: now)
    }

    @Test("An alert is posted once with the documented JSON, and never again")
    func normal() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (l, path) = try Self.ledgerWithAlert(dir)
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json("{}"))
            let pass1 = try await Self.delivery(l, server).deliverDue()
            #expect(pass1 == .init(delivered: 1, failed: 0))
            let r = try #require(server.requests.first)
            #expect(r.method == "POST" && r.path.hasPrefix("/hook"))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            #expect(body["kind"] as? String == "threshold" && body["period"] as? String == "day" && body["threshold_percent"] as? String == "50")
            #expect(body["scope"] is NSNull && body["window"] as? String == "2026-11-20")
            #expect((body["event_id"] as? String)?.hasPrefix("bats-alert-") == true)
            #expect(r.header("X-BATS-Event-ID") == body["event_id"] as? String)
            #expect(!r.headerList.contains { $0.0.lowercased() == "authorization" })
            // Delivered: a second pass, and a restarted ledger, post nothing.
            let pass2 = try await Self.delivery(l, server).deliverDue()
            #expect(pass2 == .init(delivered: 0, failed: 0))
            let restarted = try SQLiteLedger(path: path, now: Self.t0)
            #expect(try restarted.pendingAlerts().isEmpty)
            let pass3 = try await Self.delivery(restarted, server).deliverDue()
            #expect(pass3 == .init(delivered: 0, failed: 0))
            #expect(server.requests.count == 1)
        }
    }

    @Test("A receiver that is down, then back: the alert stays pending, is retried after its backoff, and arrives once")
    func downThenBack() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (l, _) = try Self.ledgerWithAlert(dir)
        try await LoopbackGatewayServer.withServer { server in
            server.enqueue([.hangingUp, .json("{}", status: 503)])
            server.setFallback(.json("{}"))
            let pass4 = try await Self.delivery(l, server).deliverDue()
            #expect(pass4 == .init(delivered: 0, failed: 1))
            // Not due again before its backoff.
            let pass5 = try await Self.delivery(l, server).deliverDue()
            #expect(pass5 == .init(delivered: 0, failed: 0))
            let later = Self.t0.addingTimeInterval(11)
            let pass6 = try await Self.delivery(l, server, now: { later }).deliverDue()
            #expect(pass6 == .init(delivered: 0, failed: 1))
            #expect(try l.pendingAlerts().count == 1)
            let muchLater = Self.t0.addingTimeInterval(60)
            let pass7 = try await Self.delivery(l, server, now: { muchLater }).deliverDue()
            #expect(pass7 == .init(delivered: 1, failed: 0))
            #expect(try l.pendingAlerts().isEmpty)
            #expect(server.requests.count == 3)
            #expect(try l.alertAttempts(1).attempts == 3)
        }
    }

    @Test("A receiver that hangs: the attempt times out, the alert stays pending, and reservations go on meanwhile")
    func hangs() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (l, _) = try Self.ledgerWithAlert(dir)
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.unanswered)
            let delivery = Self.delivery(l, server, timeout: .seconds(30))
            let finished = Mutex(false)
            let pass = Task {
                defer { finished.withLock { $0 = true } }
                return try await delivery.deliverDue()
            }
            await server.waitForRequests(1)
            // The post is hanging: the ledger still reserves and settles.
            let t = LedgerFixture.task(.simple)
            let o = try await l.reserve(ReservationRequest(requestID: "meanwhile"), at: Self.t0) { LedgerFixture.selector.select(t, budget: $0) }
            let r = try #require(LedgerFixture.reservation(o))
            _ = try await l.settle(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: .zero), at: Self.t0)
            #expect(!finished.withLock { $0 }, "the post was still hanging")
            pass.cancel()
            _ = try? await pass.value
            let short = Self.delivery(l, server, timeout: .milliseconds(200), now: { Self.t0.addingTimeInterval(3_600) })
            let pass8 = try await short.deliverDue()
            #expect(pass8 == .init(delivered: 0, failed: 1))
            #expect(try l.pendingAlerts().count == 1)
            #expect(try l.alertAttempts(1).lastError == "timed out")
        }
    }

    @Test("Two processes delivering the same pending alerts at once: one delivery per alert")
    func twoProcesses() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let e = ScopeTests.estimate(.simple)
        let limits = BudgetLimits(
            daily: MicroDollars(micros: e.rawValue * 100), monthly: nil,
            scopes: (1...20).map { ScopeTests.scope("tag:agent=a\($0)", daily: e, alerts: [.percent(50, of: .day), .percent(100, of: .day)]) })
        let l = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: Self.t0)
        for i in 1...20 { _ = try ScopeTests.reserve(l, .simple, tags: ["agent": "a\(i)"]) }
        let fired = try l.pendingAlerts().count
        #expect(fired == 40)
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json("{}"))
            let url = "http://127.0.0.1:\(server.port)/hook"
            let runs = try (1...2).map { i in
                let out = dir.appendingPathComponent("d\(i)")
                return (try BATSChild.start(["alerts", "deliver", "--ledger", path, "--webhook", url, "--once"], output: out), out)
            }
            for (p, out) in runs {
                let o = try await BATSChild.wait(p, output: out)
                #expect(o.status == 0, "\(o.stderr)")
            }
            let ids = server.requests.compactMap { $0.header("X-BATS-Event-ID") }
            #expect(ids.count == fired && Set(ids).count == fired)
            #expect(try l.pendingAlerts().isEmpty)
        }
    }

    @Test("The AsyncSequence yields alerts another ledger instance recorded")
    func events() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (l, path) = try Self.ledgerWithAlert(dir)
        let other = try SQLiteLedger(path: path, now: Self.t0)
        var it = BudgetAlertEvents(ledger: other, pollInterval: .milliseconds(10)).makeAsyncIterator()
        let first = try #require(try await it.next())
        #expect(first.kind == .threshold && first.thresholdPartsPerMillion == 500_000)
        // A critical call past the limit fires another, from the first instance.
        let r = try #require(LedgerFixture.reservation(try LedgerFixture.reserve(l, .critical, at: Self.t0)))
        _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: r.selection.estimate), at: Self.t0)
        let second = try #require(try await it.next())
        #expect(second.kind == .criticalOverLimit)
    }
}
