import BATS
import BATSServer
import BATSTestSupport
import Foundation
import ModelSelection
import NIOHTTP1
import SpendLedger
import Synchronization
import Testing

/// Councils and cascades through `bats serve`: `bats/council/<name>` and `bats/cascade/<name>` on loopback.
@Suite("bats serve: councils and cascades", .timeLimit(.minutes(2)))
struct ServerEnsembleTests {
    static let trade = Council(
        name: "trade", members: [.model("deepseek-r1"), .model("kimi-k2")], aggregation: .majority, extractor: .finalNumber)
    static let extract = Cascade(name: "extract", steps: ["deepseek-v3", "kimi-k2"], verifier: .json)

    static let judged = Council(
        name: "judged", members: [.model("deepseek-r1"), .model("kimi-k2")], aggregation: .judge("claude-opus"), extractor: .finalNumber)

    /// Sets the server's councils and cascades (the schema and the pattern are checked here, so this throws).
    static func configure() throws -> @Sendable (inout BATSServer.Configuration) -> Void {
        let schema = try JSONSchema(json: #"{"type":"object","required":["side"],"properties":{"side":{"enum":["buy","sell"]}}}"#)
        let side = Cascade(name: "side", steps: ["deepseek-v3", "kimi-k2"], verifier: .jsonSchema(schema))
        let ticker = Cascade(name: "ticker", steps: ["deepseek-v3", "kimi-k2"], verifier: try .regex("^[A-Z]{1,5}$"))
        return { c in
            c.councils = ["trade": .init(trade, tier: .reasoning), "judged": .init(judged, tier: .reasoning)]
            c.cascades = ["extract": .init(extract), "side": .init(side), "ticker": .init(ticker)]
        }
    }

    static func gateway(_ id: String) -> String { (try? ModelCatalog.bundled().model(ModelID(id))?.gatewayID) ?? id }

    /// The `MODEL=COST;STATUS` entries of a members or path header.
    static func parts(_ header: String?) -> [(model: String, cost: Decimal, status: String)] {
        (header ?? "").split(separator: ",").compactMap { part in
            let p = part.trimmingCharacters(in: .whitespaces)
            guard let eq = p.firstIndex(of: "="), let semi = p.firstIndex(of: ";"), eq < semi,
                let cost = Decimal(string: String(p[p.index(after: eq)..<semi]))
            else { return nil }
            return (String(p[..<eq]), cost, String(p[p.index(after: semi)...]))
        }
    }

    @Test("A council answers through the server: two members agree by majority, the headers list both with their costs, the total is the ledger's spend")
    func councilMajority() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let r1 = Self.gateway("deepseek-r1"), k2 = Self.gateway("kimi-k2")
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case r1: .text("Thinking it through, the position size is #### 42", completionTokens: 30)
                case k2: .text("42 shares.", completionTokens: 10)
                default: nil
                }
            })
            let r = try await h.chat(model: "bats/council/trade", headers: [("X-Request-ID", "trade-7")])
            #expect(r.status == 200, "\(r.body)")
            let json = try #require(r.json)
            #expect(json["model"] as? String == "bats/council/trade")
            let message = try #require(((json["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect(message["content"] as? String == "Thinking it through, the position size is #### 42", "the first seat's reply carries the answer")
            let usage = try #require(json["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 200 && usage["completion_tokens"] as? Int == 40 && usage["total_tokens"] as? Int == 240)
            #expect(r.header("x-bats-council") == "trade")
            #expect(r.header("x-bats-council-decision") == "majority")
            #expect(r.header("x-bats-tier") == "reasoning", "the council's configured tier")
            #expect(r.header("x-bats-model") == "deepseek-r1")
            #expect(r.header("x-bats-request-id") == "trade-7")
            let members = Self.parts(r.header("x-bats-council-members"))
            #expect(members.map { $0.model } == ["deepseek-r1", "kimi-k2"], "\(r.header("x-bats-council-members") ?? "")")
            #expect(members.allSatisfy { $0.status == "answered" && $0.cost > 0 })
            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.count == 2)
            for m in members {
                let e = settled.first(where: { $0.model == m.model })
                #expect(e?.actualCost?.decimalValue == m.cost, "\(m.model)'s header cost is its ledger entry's")
                #expect(e?.tags[GroupTag.group] == "trade-7" && e?.tags[GroupTag.council] == "trade")
            }
            let total = try #require(r.header("x-bats-cost-usd").flatMap { Decimal(string: $0) })
            let spent = settled.compactMap(\.actualCost).reduce(Decimal(0)) { $0 + $1.decimalValue }
            #expect(total == spent && total == members.map { $0.cost }.reduce(0, +))
            for text in [r.body] + r.headers.map({ $0.value }) { #expect(!text.contains(ServerHarness.upstreamKey)) }
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("A task kind listed in task_kinds runs its council: bats/task/<kind> and bats/auto with X-BATS-Task; a tier name does not")
    func kindRoutes() async throws {
        let configure: @Sendable (inout BATSServer.Configuration) -> Void = { c in
            c.councils = ["trade": .init(Self.trade, tier: .reasoning, taskKinds: ["size_position", "execute_trade"])]
            c.cascades = ["extract": .init(Self.extract, taskKinds: ["parse_quote"])]
        }
        try await ServerHarness.with(configure: configure) { h in
            let r1 = Self.gateway("deepseek-r1"), k2 = Self.gateway("kimi-k2"), v3 = Self.gateway("deepseek-v3"), opus = Self.gateway("claude-opus")
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case r1, k2, opus: .text("#### 42")
                case v3: .text(#"{"symbol":"AAPL"}"#)
                default: nil
                }
            })
            // A kind the tier map does not know: the council's configured tier.
            let byName = try await h.chat(model: "bats/task/size_position")
            #expect(byName.status == 200, "\(byName.body)")
            #expect(byName.header("x-bats-council") == "trade" && byName.header("x-bats-tier") == "reasoning")
            #expect(Self.parts(byName.header("x-bats-council-members")).map(\.model) == ["deepseek-r1", "kimi-k2"])
            let byHeader = try await h.chat(model: "bats/auto", headers: [("X-BATS-Task", "size_position")])
            #expect(byHeader.header("x-bats-council") == "trade")
            // A kind the tier map knows keeps its tier: execute_trade is critical, so every seat is the pinned model.
            let critical = try await h.chat(model: "bats/task/execute_trade")
            #expect(critical.header("x-bats-tier") == "critical")
            #expect(Self.parts(critical.header("x-bats-council-members")).map(\.model) == ["claude-opus", "claude-opus"])
            let cascade = try await h.chat(model: "bats/task/parse_quote")
            #expect(cascade.header("x-bats-cascade") == "extract" && cascade.header("x-bats-cascade-outcome") == "accepted")
            // A tier name with the header is a plain routed call, and so is a kind no council lists.
            let tier = try await h.chat(model: "bats/reasoning", headers: [("X-BATS-Task", "size_position")])
            #expect(tier.status == 200 && tier.header("x-bats-council") == nil)
            let plain = try await h.chat(model: "bats/task/classify_headline")
            #expect(plain.status == 200 && plain.header("x-bats-council") == nil && plain.header("x-bats-cascade") == nil)
        }
    }

    @Test("A cascade whose first step fails the verifier escalates; the path header shows both steps and their verdicts")
    func cascadeEscalates() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let v3 = Self.gateway("deepseek-v3"), k2 = Self.gateway("kimi-k2")
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case v3: .text("Buy, I think.")
                case k2: .text(#"{"side": "buy"}"#)
                default: nil
                }
            })
            let r = try await h.chat(model: "bats/cascade/extract")
            #expect(r.status == 200, "\(r.body)")
            let json = try #require(r.json)
            let message = try #require(((json["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect(message["content"] as? String == #"{"side": "buy"}"#)
            #expect(json["model"] as? String == "bats/cascade/extract")
            #expect(r.header("x-bats-cascade") == "extract" && r.header("x-bats-cascade-outcome") == "accepted")
            #expect(r.header("x-bats-model") == "kimi-k2" && r.header("x-bats-tier") == "simple")
            let path = Self.parts(r.header("x-bats-cascade-path"))
            #expect(path.map { $0.model } == ["deepseek-v3", "kimi-k2"], "\(r.header("x-bats-cascade-path") ?? "")")
            #expect(path.map { $0.status } == ["rejected", "accepted"])
            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.count == 2, "every attempt is charged")
            let total = try #require(r.header("x-bats-cost-usd").flatMap { Decimal(string: $0) })
            #expect(total == settled.compactMap(\.actualCost).reduce(Decimal(0)) { $0 + $1.decimalValue })
            #expect(total == path.map { $0.cost }.reduce(0, +))
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("A member whose provider fails falls down the tier's chain; one that finds no model is listed as failed at no cost")
    func memberFails() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let r1 = Self.gateway("deepseek-r1"), mistral = Self.gateway("mistral-medium-3")
            let mistralAnswers = Mutex(true)
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case r1: .text("#### 42")
                case mistral where mistralAnswers.withLock { $0 }: .text("It is 42.")
                default: .failing
                }
            })
            let fallback = try await h.chat(model: "bats/council/trade")
            #expect(fallback.status == 200, "\(fallback.body)")
            let seats = Self.parts(fallback.header("x-bats-council-members"))
            #expect(seats.map { "\($0.model);\($0.status)" } == ["deepseek-r1;answered", "mistral-medium-3;answered"], "\(seats)")
            mistralAnswers.withLock { $0 = false }
            let failed = try await h.chat(model: "bats/council/trade")
            #expect(failed.status == 200, "\(failed.body)")
            let after = Self.parts(failed.header("x-bats-council-members"))
            #expect(after.map { "\($0.model);\($0.status)" } == ["deepseek-r1;answered", "kimi-k2;failed"], "\(after)")
            #expect(after.last?.cost == 0)
            let total = try #require(failed.header("x-bats-cost-usd").flatMap { Decimal(string: $0) })
            #expect(total == after.map { $0.cost }.reduce(0, +))
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("A judged council whose members disagree: the judge's pick is the reply, the judge is listed last, and the total includes its cost")
    func judgedCouncil() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let r1 = Self.gateway("deepseek-r1"), k2 = Self.gateway("kimi-k2"), opus = Self.gateway("claude-opus")
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case r1: .text("#### 40")
                case k2: .text("#### 42")
                case opus: .text("2")
                default: nil
                }
            })
            let r = try await h.chat(model: "bats/council/judged", headers: [("X-BATS-Tier", "complex")])
            #expect(r.status == 200, "\(r.body)")
            let message = try #require(((r.json?["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect(message["content"] as? String == "#### 42")
            #expect(r.header("x-bats-council-decision") == "judge" && r.header("x-bats-model") == "kimi-k2")
            #expect(r.header("x-bats-tier") == "complex", "X-BATS-Tier wins over the council's configured tier")
            let members = Self.parts(r.header("x-bats-council-members"))
            #expect(members.map { $0.model } == ["deepseek-r1", "kimi-k2", "judge:claude-opus"], "\(r.header("x-bats-council-members") ?? "")")
            #expect(members.allSatisfy { $0.status == "answered" && $0.cost > 0 })
            let settled = try h.ledger.entries(status: .settled)
            #expect(settled.count == 3)
            let total = try #require(r.header("x-bats-cost-usd").flatMap { Decimal(string: $0) })
            #expect(total == settled.compactMap(\.actualCost).reduce(Decimal(0)) { $0 + $1.decimalValue })
            #expect(total == members.map { $0.cost }.reduce(0, +))
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("A schema verifier escalates past JSON that breaks the schema; a cascade none of whose answers pass returns the last, exhausted")
    func cascadeVerifiers() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let v3 = Self.gateway("deepseek-v3"), k2 = Self.gateway("kimi-k2")
            h.upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case v3: .text(#"{"side": "short"}"#)
                case k2: .text(#"{"side": "sell"}"#)
                default: nil
                }
            })
            let schema = try await h.chat(model: "bats/cascade/side")
            #expect(schema.status == 200, "\(schema.body)")
            #expect(Self.parts(schema.header("x-bats-cascade-path")).map { $0.status } == ["rejected", "accepted"])
            let message = try #require(((schema.json?["choices"] as? [[String: Any]])?.first)?["message"] as? [String: Any])
            #expect(message["content"] as? String == #"{"side": "sell"}"#)
            let exhausted = try await h.chat(model: "bats/cascade/ticker")
            #expect(exhausted.status == 200, "\(exhausted.body)")
            #expect(exhausted.header("x-bats-cascade-outcome") == "exhausted")
            #expect(Self.parts(exhausted.header("x-bats-cascade-path")).map { $0.status } == ["rejected", "rejected"])
            #expect(exhausted.header("x-bats-model") == "kimi-k2", "the last answer is returned")
            #expect(try h.ledger.entries(status: .settled).count == 4)
            #expect(try h.openReservations() == 0)
        }
    }

    @Test("stream: true with a council or a cascade is a 400 invalid_request_error, before any upstream call")
    func streamRefused() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            for model in ["bats/council/trade", "bats/cascade/extract"] {
                let r = try await h.chat(model: model, #", "stream": true"#)
                #expect(r.status == 400, "\(r.body)")
                #expect(r.error?["type"] as? String == "invalid_request_error" && r.error?["param"] as? String == "stream")
                #expect((r.error?["message"] as? String)?.contains(model) == true, "\(r.body)")
            }
            #expect(h.upstream.requests.isEmpty)
            #expect(try h.ledger.entries().isEmpty)
        }
    }

    @Test("An unknown council or cascade is a 404 model_not_found naming the configured ones; GET /v1/models lists them")
    func unknownAndListed() async throws {
        try await ServerHarness.with(configure: try Self.configure()) { h in
            let council = try await h.chat(model: "bats/council/invest")
            #expect(council.status == 404 && council.error?["code"] as? String == "model_not_found", "\(council.body)")
            #expect((council.error?["message"] as? String)?.contains("The configured councils: judged, trade.") == true, "\(council.body)")
            let cascade = try await h.chat(model: "bats/cascade/trade")
            #expect(cascade.status == 404 && (cascade.error?["message"] as? String)?.contains("The configured cascades: extract, side, ticker.") == true)
            let embed = try await h.send(.POST, "/v1/embeddings", body: #"{"model":"bats/council/trade","input":"x"}"#)
            #expect(embed.status == 400, "\(embed.body)")
            let models = try await h.send(.GET, "/v1/models")
            let data = try #require(models.json?["data"] as? [[String: Any]])
            let trade = try #require(data.first { $0["id"] as? String == "bats/council/trade" })
            #expect(trade["bats_council_members"] as? [String] == ["model:deepseek-r1", "model:kimi-k2"])
            #expect(trade["bats_aggregation"] as? String == "majority" && trade["bats_tier"] as? String == "reasoning")
            #expect(data.contains { $0["id"] as? String == "bats/cascade/extract" && $0["bats_verifier"] as? String == "json" })
            #expect(h.upstream.requests.isEmpty)
        }
        try await ServerHarness.with { h in
            let none = try await h.chat(model: "bats/council/trade")
            #expect(none.status == 404 && (none.error?["message"] as? String)?.contains("No council is configured on this server") == true, "\(none.body)")
        }
    }

    @Test("A council the budget cannot seat is the server's usual 429 budget_exceeded, with nothing left open")
    func councilRefused() async throws {
        try await ServerHarness.with(limits: .init(daily: MicroDollars(micros: 1), monthly: nil), configure: try Self.configure()) { h in
            let r = try await h.chat(model: "bats/council/trade")
            #expect(r.status == 429, "\(r.body)")
            #expect(r.error?["type"] as? String == "budget_exceeded" && r.error?["window"] as? String == "day")
            #expect(r.header("Retry-After").flatMap(Int.init) != nil)
            #expect(h.upstream.requests.isEmpty)
            #expect(try h.openReservations() == 0)
        }
    }
}
