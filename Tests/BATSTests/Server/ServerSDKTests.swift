import BATS
import BATSServer
import BATSTestSupport
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// `bats serve` with a client nobody here wrote: the official OpenAI Python SDK (`Tests/python/sdk_client.py`).
@Suite(
    "bats serve with the OpenAI Python SDK", .timeLimit(.minutes(3)),
    .enabled(if: ExternalTool.python != nil || ExternalTool.inCI, Comment(rawValue: ExternalTool.pythonHint)))
struct ServerSDKTests {
    static let key = "bats-test-caller-key-0123456789"
    static let authenticator: CallerAuthenticator = { $0 == key ? Caller(name: "desk-a", tags: ["desk": "a"]) : nil }

    /// Runs one scenario of the SDK script against the harness's server; returns its `result`.
    static func sdk(_ scenario: String, _ h: ServerHarness, key: String = key) async throws -> [String: Any] {
        let python = try #require(ExternalTool.python, Comment(rawValue: ExternalTool.pythonHint))
        let script = ExternalTool.root.appendingPathComponent("Tests/python/sdk_client.py").path
        let out = try await ExternalTool.run(
            python, [script, scenario],
            environment: ["BATS_BASE_URL": h.baseURL + "/v1", "BATS_API_KEY": key, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"])
        try #require(out.status == 0, "sdk_client.py \(scenario) failed: \(out.stderr)")
        let line = try #require(out.stdout.split(separator: "\n").last.map(String.init))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(!out.stdout.contains(ServerHarness.upstreamKey) && !out.stderr.contains(ServerHarness.upstreamKey))
        return try #require(json["result"] as? [String: Any])
    }

    @Test("Chat, streamed chat, tools, vision, embeddings and images through the SDK, each recorded at its cost")
    func endpoints() async throws {
        try await ServerHarness.with(authenticator: Self.authenticator) { h in
            let chat = try await Self.sdk("chat", h)
            #expect((chat["content"] as? String)?.hasPrefix("Hello from") == true)
            #expect(chat["model_header"] as? String == "deepseek-v3" && chat["object"] as? String == "chat.completion")
            let stream = try await Self.sdk("stream", h)
            #expect((stream["text"] as? String)?.hasPrefix("Hello from") == true)
            #expect((stream["usage"] as? [String: Any])?["completion_tokens"] as? Int == 10)
            let tools = try await Self.sdk("tools", h)
            #expect(tools["name"] as? String == "get_quote" && (tools["arguments"] as? [String: Any])?["symbol"] as? String == "AAPL")
            let vision = try await Self.sdk("vision", h)
            #expect((vision["content"] as? String)?.hasPrefix("I see 1 image") == true)
            let emb = try await Self.sdk("embeddings", h)
            #expect((emb["vectors"] as? [[Double]]) == [[0.25, -0.5, 1], [0.25, -0.5, 2]])
            let img = try await Self.sdk("images", h)
            #expect((img["urls"] as? [String])?.count == 2)

            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.count == 6)
            #expect(settled.allSatisfy { $0.tags["desk"] == "a" }, "the caller key's tags are recorded on every call")
            let cost = try #require((chat["cost"] as? String).flatMap { Decimal(string: $0) })
            #expect(settled.first?.actualCost?.decimalValue == cost)
            #expect(try h.openReservations() == 0)
            // A vision call needs a vision model: the medium chain's first with vision answered.
            let visionEntry = try #require(settled.first { $0.reason != .fixedModel && $0.tier == .medium && $0.actualInputTokens == 8 && $0.model != "" })
            #expect(LedgerFixtureCatalog.catalog.model(ModelID(visionEntry.model)) != nil)
        }
    }

    @Test("A budget refusal reaches the SDK as RateLimitError with the budget body, not retried; CRITICAL still gets Opus")
    func refusalAndCritical() async throws {
        try await ServerHarness.with(limits: .init(daily: .zero, monthly: nil), authenticator: Self.authenticator) { h in
            let r = try await Self.sdk("refusal", h)
            #expect(r["raised"] as? String == "RateLimitError" && r["status"] as? Int == 429)
            let body = try #require(r["body"] as? [String: Any])
            #expect(body["type"] as? String == "budget_exceeded" && body["window"] as? String == "day")
            #expect(body["remaining_usd"] as? Double == 0 && (body["cheapest_estimate_usd"] as? Double ?? 0) > 0)
            #expect(r["retry_after"] as? String != nil && r["should_retry"] as? String == "false")
            #expect(try h.ledger.entries(status: .refused).count == 1, "the SDK did not retry the refusal")
            let c = try await Self.sdk("critical", h)
            #expect(c["model_header"] as? String == "claude-opus")
            let opus = try #require(try h.ledger.entries(status: .settled).first)
            #expect(opus.critical && opus.model == "claude-opus")
        }
    }

    @Test("A wrong key reaches the SDK as AuthenticationError, and nothing is reserved or sent")
    func wrongKey() async throws {
        try await ServerHarness.with(authenticator: Self.authenticator) { h in
            let r = try await Self.sdk("wrong_key", h, key: "bats-wrong-key")
            #expect(r["raised"] as? String == "AuthenticationError" && r["status"] as? Int == 401)
            #expect(!(String(describing: r["body"] ?? "")).contains("bats-wrong-key"), "the presented key is never echoed")
            let recorded = try h.ledger.entries()
            #expect(h.upstream.requests.isEmpty && recorded.isEmpty)
        }
    }

    @Test("A client that disconnects mid-stream leaves nothing open: the call is settled from what was received")
    func disconnect() async throws {
        try await ServerHarness.with(mock: .init(streamPieces: 40, streamPause: .milliseconds(100)), authenticator: Self.authenticator) { h in
            let r = try await Self.sdk("disconnect", h)
            #expect((r["first"] as? String)?.isEmpty == false)
            // The server notices at its next write, cancels upstream, and settles; wait for that handshake.
            while try h.openReservations() > 0 || (h.server.metrics.openReservations > 0) { try await Task.sleep(for: .milliseconds(20)) }
            let e = try #require(try h.ledger.entries(status: .settled).first)
            #expect(e.usageEstimated, "settled from the bytes received, not the full reply")
            await h.upstream.waitForClosedConnections(1)
        }
    }

    @Test("64 concurrent SDK clients under a budget that fits a fraction: no non-critical overspend")
    func concurrent() async throws {
        // One medium call on DeepSeek V3 is estimated at a few hundred micro-dollars; the budget fits about a quarter.
        let selector = try ModelSelector(catalog: .bundled())
        let profile = TaskProfile(complexity: .medium, inputTokens: 64, maxOutputTokens: 0)
        let estimate = try selector.estimate(profile, on: try #require(selector.catalog.model("deepseek-v3")))
        let limit = MicroDollars(micros: estimate.rawValue * 16)
        try await ServerHarness.with(limits: .init(daily: limit, monthly: nil), authenticator: Self.authenticator) { h in
            let r = try await Self.sdk("concurrent", h)
            let ok = try #require(r["ok"] as? Int), refused = try #require(r["refused"] as? Int)
            #expect((r["other"] as? [Any])?.isEmpty == true, "unexpected errors: \(r["other"] ?? "")")
            #expect(ok + refused == 64 && ok > 0 && refused > 0)
            let s = try await h.ledger.snapshot(at: Date())
            #expect(s.daily.settled <= limit, "non-critical spend \(s.daily.settled) passed the limit \(limit)")
            let open = try h.openReservations()
            #expect(s.daily.reserved == .zero && open == 0)
            #expect(try h.ledger.entries(status: .settled).count == ok)
        }
    }
}

/// The bundled catalog, for checks on recorded models.
enum LedgerFixtureCatalog {
    static let catalog = try! ModelCatalog.bundled()
}
