import BATS
import BATSServer
import BATSTestSupport
import Foundation
import ModelSelection
import SpendLedger
import Testing

@Suite("bats serve: the OpenAI API over HTTP", .timeLimit(.minutes(2)))
struct ServerTests {
    @Test("A chat call is routed by tier, answered in the OpenAI shape, recorded, and carries the x-bats headers")
    func chatJSON() async throws {
        try await ServerHarness.with(limits: .init(daily: MicroDollars(dollars: 5), monthly: nil)) { h in
            let r = try await h.chat(model: "bats/simple", headers: [("X-BATS-Tags", "agent=scanner,symbol=AAPL"), ("X-Request-ID", "req-1")])
            #expect(r.status == 200)
            let json = try #require(r.json)
            #expect(json["object"] as? String == "chat.completion")
            let choice = try #require((json["choices"] as? [[String: Any]])?.first)
            #expect(((choice["message"] as? [String: Any])?["content"] as? String)?.hasPrefix("Hello from") == true)
            #expect(r.header("x-bats-model") == "deepseek-v3")
            #expect(r.header("x-bats-tier") == "simple")
            #expect(r.header("x-bats-reason") == "preferred")
            #expect(r.header("x-bats-request-id") == "req-1")
            let cost = try #require(r.header("x-bats-cost-usd").flatMap { Decimal(string: $0) })
            let entries = try h.ledger.entries(status: .settled)
            #expect(entries.count == 1)
            let e = try #require(entries.first)
            #expect(e.actualCost?.decimalValue == cost)
            #expect(e.tags == ["agent": "scanner", "symbol": "AAPL"])
            #expect(e.requestID == "req-1")
            #expect(e.flags.isEmpty, "a plausible reply is settled without flags: \(e.flags)")
            // What is left after this call settled: the limit less its cost, less the critical reserve.
            let ppm = h.server.router.selector.configuration.criticalReservePartsPerMillion
            let left = try #require(try await h.ledger.snapshot(at: Date()).daily.available(reservePartsPerMillion: ppm))
            #expect(r.header("x-bats-remaining-daily-usd") == left.decimalValue.description)
            // The upstream got the gateway id and the reserved cap, never the server's routing name.
            let sent = try #require(h.upstream.requests.first { $0.path.hasSuffix("/chat/completions") })
            let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            #expect(body["model"] as? String != "bats/simple")
            #expect(body["max_tokens"] as? Int != nil)
        }
    }

    @Test("A task kind by name or header goes through the tier map; a catalog id is a fixed-model call")
    func routingNames() async throws {
        try await ServerHarness.with { h in
            let byName = try await h.chat(model: "bats/task/execute_trade")
            #expect(byName.status == 200 && byName.header("x-bats-tier") == "critical" && byName.header("x-bats-model") == "claude-opus")
            let byHeader = try await h.chat(model: "bats/auto", headers: [("X-BATS-Task", "parse_market_data")])
            #expect(byHeader.status == 200 && byHeader.header("x-bats-tier") == "simple")
            let fixed = try await h.chat(model: "kimi-k2")
            #expect(fixed.status == 200 && fixed.header("x-bats-model") == "kimi-k2" && fixed.header("x-bats-reason") == "fixed-model")
            let unknown = try await h.chat(model: "gpt-9")
            #expect(unknown.status == 404 && unknown.error?["code"] as? String == "model_not_found")
            let criticalElsewhere = try await h.chat(model: "deepseek-v3", headers: [("X-BATS-Tier", "critical")])
            #expect(criticalElsewhere.status == 400)
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("A budget refusal is a 429 budget_exceeded with the window, what is left, the cheapest estimate and Retry-After")
    func refusal() async throws {
        try await ServerHarness.with(limits: .init(daily: MicroDollars(micros: 1), monthly: nil)) { h in
            let r = try await h.chat(model: "bats/medium")
            #expect(r.status == 429)
            let e = try #require(r.error)
            #expect(e["type"] as? String == "budget_exceeded")
            #expect(e["window"] as? String == "day")
            #expect(e["remaining_micros"] as? Int != nil)
            #expect((e["cheapest_estimate_micros"] as? Int ?? 0) > 1)
            let retry = try #require(r.header("Retry-After").flatMap(Int.init))
            #expect(retry >= 1 && retry <= 86_400)
            #expect(h.upstream.requests.isEmpty)
            // CRITICAL at the same zero budget still gets Opus.
            let c = try await h.chat(model: "bats/critical")
            #expect(c.status == 200 && c.header("x-bats-model") == "claude-opus")
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("Malformed JSON, wrong types, n > 1 and an oversized body get OpenAI-style 400 and 413, with nothing reserved")
    func badInput() async throws {
        try await ServerHarness.with(configure: { $0.maxBodyBytes = 2_048 }) { h in
            let notJSON = try await h.send(.POST, "/v1/chat/completions", body: "{not json")
            #expect(notJSON.status == 400 && notJSON.error?["type"] as? String == "invalid_request_error")
            let wrongType = try await h.chat("" + #","temperature":"hot""#)
            #expect(wrongType.status == 400 && wrongType.error?["param"] as? String == "temperature")
            let wrongExtra = try await h.chat(#","top_p":"high""#)
            #expect(wrongExtra.status == 400 && wrongExtra.error?["param"] as? String == "top_p")
            let badMessage = try await h.send(.POST, "/v1/chat/completions", body: #"{"model":"bats/simple","messages":[{"role":"user","content":7}]}"#)
            #expect(badMessage.status == 400)
            let many = try await h.chat(#","n":3"#)
            #expect(many.status == 400 && many.error?["param"] as? String == "n")
            let noModel = try await h.send(.POST, "/v1/chat/completions", body: #"{"messages":[{"role":"user","content":"x"}]}"#)
            #expect(noModel.status == 400 && noModel.error?["param"] as? String == "model")
            let big = try await h.chat(model: "bats/simple", #","user":"\#(String(repeating: "x", count: 4_000))""#)
            #expect(big.status == 413)
            let badTags = try await h.chat(headers: [("X-BATS-Tags", "no-equals-sign")])
            #expect(badTags.status == 400)
            #expect(h.upstream.requests.isEmpty)
            #expect(try h.ledger.entries().isEmpty)
        }
    }

    @Test("Streamed chat forwards chunks, ends with [DONE] and a cost comment, and settles from the upstream's usage")
    func streamed() async throws {
        try await ServerHarness.with { h in
            let r = try await h.chat(#","stream":true"#)
            #expect(r.status == 200)
            #expect(r.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(r.header("x-bats-model") == "deepseek-v3")
            let frames = r.body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let data = frames.filter { $0.hasPrefix("data: {") }
            #expect(data.count >= 3)
            #expect(!data.contains { $0.contains("\"usage\"") }, "usage is passed on only when the client asked for it")
            #expect(frames.contains("data: [DONE]"))
            let last = try #require(frames.last)
            #expect(last.hasPrefix(": bats cost_usd="))
            let e = try #require(try h.ledger.entries(status: .settled).first)
            #expect(!e.usageEstimated && e.actualInputTokens == 8 && e.actualOutputTokens == 10)
            // Asked for: the usage chunk reaches the client.
            let u = try await h.chat(#","stream":true,"stream_options":{"include_usage":true}"#)
            #expect(u.body.contains("\"usage\""))
            // The upstream was always asked for usage.
            let sent = h.upstream.requests.filter { $0.path.hasSuffix("/chat/completions") }
            #expect(sent.allSatisfy { $0.bodyText.contains("include_usage") })
        }
    }

    @Test("Embeddings (float and base64) and images go through the budget with their fixed models")
    func endpoints() async throws {
        try await ServerHarness.with { h in
            let e = try await h.send(.POST, "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":["a","b"]}"#)
            #expect(e.status == 200)
            let data = try #require(e.json?["data"] as? [[String: Any]])
            #expect(data.count == 2 && (data[1]["embedding"] as? [Double])?.last == 2)
            let b = try await h.send(.POST, "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"a","encoding_format":"base64"}"#)
            let b64 = try #require((b.json?["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let floats = try #require(Data(base64Encoded: b64)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            #expect(floats == [0.25, -0.5, 1])
            let i = try await h.send(.POST, "/v1/images/generations", body: #"{"model":"gpt-image-1","prompt":"a chart","n":2}"#)
            #expect(i.status == 200 && (i.json?["data"] as? [Any])?.count == 2)
            let wrongKind = try await h.send(.POST, "/v1/embeddings", body: #"{"model":"deepseek-v3","input":"a"}"#)
            #expect(wrongKind.status == 400)
            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.map(\.model).sorted() == ["gpt-image-1", "text-embedding-3-small", "text-embedding-3-small"])
            let models = try await h.send(.GET, "/v1/models")
            let ids = (models.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            #expect(ids.contains("bats/critical") && ids.contains("bats/task/execute_trade") && ids.contains("claude-opus"))
        }
    }
}
