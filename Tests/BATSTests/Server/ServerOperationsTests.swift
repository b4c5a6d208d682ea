import AsyncHTTPClient
import BATSServer
import BATSTestSupport
import Foundation
import NIOCore
import ModelSelection
import SpendLedger
import Testing

/// A ledger whose reads and reservations fail as a corrupt file's would, for readiness.
struct BrokenLedger: BudgetLedger {
    let base: SQLiteLedger
    var error: LedgerError { LedgerError(kind: .corrupt, path: "ledger.sqlite", message: "database disk image is malformed") }

    var limits: BudgetLimits { base.limits }
    var calendar: BudgetCalendar { base.calendar }
    func reserve(_ r: ReservationRequest, at d: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws -> ReservationOutcome {
        throw error
    }
    func settle(_ id: Int64, _ s: Settlement, at d: Date) async throws -> SettlementReceipt { try await base.settle(id, s, at: d) }
    func release(_ id: Int64, error: String?, at d: Date) async throws { try await base.release(id, error: error, at: d) }
    func snapshot(at d: Date) async throws -> BudgetSnapshot { throw error }
}

/// `/metrics`, `/health`, and a graceful shutdown with calls in flight.
@Suite("bats serve: metrics, health and shutdown")
struct ServerOperationsTests {
    /// The value of one series in a Prometheus text exposition (labels in the exposition's order), or `nil`.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("/metrics counts requests, refusals, fallbacks and spend by model, tier and scope, times reservations, and shows none open")
    func metrics() async throws {
        let limits = BudgetLimits(daily: try .init(dollars: 1), monthly: nil, scopes: [try BudgetScope(name: "tag:agent=pricer", daily: .zero, monthly: nil)])
        try await ServerHarness.with(limits: limits, mock: .init(failingModels: ["mistral-medium-2505"])) { h in
            let ok = try await h.chat(model: "bats/medium", headers: [("X-BATS-Tags", "agent=scanner")])
            #expect(ok.status == 200 && ok.header("x-bats-fallback-from") == "mistral-medium-3", "\(ok.body)")
            let servedBy = try #require(ok.header("x-bats-model"))
            let cost = try #require(ok.header("x-bats-cost-usd").flatMap { MicroDollars(parsing: $0) })
            let refused = try await h.chat(model: "bats/simple", headers: [("X-BATS-Tags", "agent=pricer")])
            #expect(refused.status == 429)
            let bad = try await h.send(.POST, "/v1/chat/completions", body: "{")
            #expect(bad.status == 400)

            let m = try await h.send(.GET, "/metrics")
            #expect(m.status == 200 && m.header("content-type")?.hasPrefix("text/plain") == true)
            let t = m.body
            #expect(Self.value(t, #"bats_requests_total{endpoint="chat",status="200"}"#) == 1, "\(t)")
            #expect(Self.value(t, #"bats_requests_total{endpoint="chat",status="429"}"#) == 1)
            #expect(Self.value(t, #"bats_requests_total{endpoint="chat",status="400"}"#) == 1)
            #expect(Self.value(t, #"bats_refusals_total{tier="simple",scope="tag:agent=pricer",window="day"}"#) == 1, "\(t)")
            #expect(Self.value(t, #"bats_fallbacks_total{tier="medium",model="\#(servedBy)"}"#) == 1, "\(t)")
            #expect(Self.value(t, #"bats_spend_micros_total{model="\#(servedBy)",tier="medium"}"#) == Double(cost.rawValue), "\(t)")
            #expect(Self.value(t, "bats_open_reservations") == 0)
            let reservations = Self.value(t, "bats_reservation_duration_seconds_count") ?? 0
            #expect(reservations >= 2, "every reservation is timed: \(t)")
            #expect(t.contains(#"bats_reservation_duration_seconds_bucket{le="0.001"}"#), "micro-second buckets: \(t)")
        }
    }

    @Test("/health is ready with a working ledger; with a broken one it is 503 naming the ledger, and calls get 503 without reaching upstream")
    func health() async throws {
        try await ServerHarness.with { h in
            let r = try await h.send(.GET, "/health")
            #expect(r.status == 200 && r.json?["ready"] as? Bool == true && r.json?["ledger"] as? String == "ok", "\(r.body)")
            #expect(try await h.send(.GET, "/health/live").status == 200)
        }
        try await ServerHarness.with(wrapLedger: { BrokenLedger(base: $0) }) { h in
            let r = try await h.send(.GET, "/health")
            #expect(r.status == 503 && r.json?["ready"] as? Bool == false && r.json?["live"] as? Bool == true, "\(r.body)")
            #expect((r.json?["ledger"] as? String)?.contains("malformed") == true, "\(r.body)")
            #expect(try await h.send(.GET, "/health/live").status == 200, "a live server with a broken ledger is not restarted for liveness")
            let call = try await h.chat()
            #expect(call.status == 503 && (call.error?["message"] as? String)?.contains("malformed") == true, "\(call.body)")
            #expect(h.upstream.requests.isEmpty, "nothing is sent without a reservation")
        }
    }

    @Test("SIGTERM-style shutdown lets a slow stream finish within the grace, refuses new connections, and leaves nothing open")
    func gracefulShutdownFinishesStream() async throws {
        // A long grace: on a loaded machine the 0.9 s stream may take many times that, and must still finish.
        try await ServerHarness.with(mock: .init(streamPieces: 6, streamPause: .milliseconds(150)), configure: { $0.shutdownGrace = .seconds(120) }) { h in
            let response = try await HTTPClient.shared.execute(h.streamRequest, timeout: .seconds(30))
            #expect(response.status == .ok)
            let (text, shutdown) = await h.readStartingShutdown(response)
            await shutdown?.value
            #expect(text.contains("data: [DONE]") && text.contains(": bats cost_usd="), "the stream ran to its end: \(text.suffix(300))")
            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.count == 1 && settled.first?.usageEstimated == false, "settled from the upstream's usage")
            #expect(try h.openReservations() == 0)
            var open = await h.acceptsConnections()
            for _ in 0..<100 where open {
                try await Task.sleep(for: .milliseconds(20))
                open = await h.acceptsConnections()
            }
            #expect(!open, "a stopping server accepts no new connection")
        }
    }

    @Test("A client that goes away while the upstream is silent is noticed at once: the upstream call is cancelled and settled")
    func disconnectWhileUpstreamSilent() async throws {
        // The upstream sends its first piece, then nothing for two minutes: there is no next chunk to fail a write.
        try await ServerHarness.with(mock: .init(streamPieces: 3, streamPause: .seconds(120))) { h in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let response = try await client.execute(h.streamRequest, timeout: .seconds(300))
            var text = ""
            for try await piece in response.body {
                text += String(buffer: piece)
                if text.contains("data: {") { break }
            }
            try await client.shutdown()  // closes the connection mid-stream
            var open = try h.openReservations()
            // Well under the upstream client's 30 s read timeout, which would end the call anyway.
            for _ in 0..<500 where open > 0 {
                try await Task.sleep(for: .milliseconds(20))
                open = try h.openReservations()
            }
            #expect(open == 0, "the call ended when the client left, not at the upstream's next chunk")
            let entries = try h.ledger.entries()
            #expect(entries.count == 1 && entries.first?.status == .settled && entries.first?.usageEstimated == true, "\(entries)")
        }
    }

    @Test("A stream longer than the shutdown grace is cut at the deadline and settled from what was received")
    func shutdownCutsStreamAtDeadline() async throws {
        try await ServerHarness.with(mock: .init(streamPieces: 40, streamPause: .milliseconds(100)), configure: { $0.shutdownGrace = .milliseconds(400) }) { h in
            let response = try await HTTPClient.shared.execute(h.streamRequest, timeout: .seconds(30))
            let (text, shutdown) = await h.readStartingShutdown(response)  // the connection may be closed mid-body
            await shutdown?.value
            #expect(!text.contains("data: [DONE]"), "40 pieces at 100 ms do not fit a 400 ms grace")
            await h.server.drain()
            let entries = try h.ledger.entries()
            #expect(entries.count == 1 && entries.first?.status == .settled && entries.first?.usageEstimated == true, "\(entries)")
            #expect(try h.openReservations() == 0 && h.server.metrics.openReservations == 0)
        }
    }
}

