import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

@Suite("Router embeddings and images over HTTP")
struct RouterEndpointTests {
    static let catalog = LedgerFixture.catalog
    static let embeddingModel: ModelID = "text-embedding-3-small"
    static let imageModel: ModelID = "gpt-image-1"
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// An embeddings reply with `usage` (or none).
    static func embeddingsReply(promptTokens: Int?) -> String {
        let usage = promptTokens.map { #","usage":{"prompt_tokens":\#($0),"total_tokens":\#($0)}"# } ?? ""
        return #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small"\#(usage)}"#
    }

    func ledger(daily: MicroDollars? = nil, monthly: MicroDollars? = nil) throws -> SQLiteLedger {
        try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: daily, monthly: monthly)), now: t0)
    }

    func router(_ ledger: any BudgetLedger, _ gateway: any ChatGateway, selector: ModelSelector = LedgerFixture.selector) -> Router {
        let t0 = self.t0
        return Router(selector: selector, ledger: ledger, gateway: gateway, now: { t0 })
    }

    // MARK: - Settlement

    @Test("Embeddings settle at the catalog price of the reported prompt tokens, recorded for the audit")
    func embeddingsSettleAtReportedUsage() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(Self.embeddingsReply(promptTokens: 123_456)), path: "/embeddings")
            let l = try ledger(daily: .dollars(1), monthly: .dollars(10))
            // A selector that rejects unknown task kinds: the default kind `embedding` is recorded, not mapped to a tier.
            let strict = try ModelSelector(catalog: Self.catalog, configuration: .init(unknownTask: .reject))
            let texts = ["AAPL beats estimates", "MSFT misses on cloud"]
            let result = try await router(l, client, selector: strict).embed(
                EmbeddingsRequest(model: "text-embedding-3-small", input: .batch(texts)), tags: ["agent": "news"], requestID: "emb-1")
            let record = result.record
            #expect(result.response.vectors == [[0.5, -0.25]])

            // 123,456 × $0.02/M = 2,469.12 µ$; × 1.05 = 2,592.576 → 2,593 µ$.
            #expect(record.cost == MicroDollars(micros: 2_593))
            #expect(record.cost == Self.catalog.cost(of: Self.embeddingModel, inputTokens: 123_456, outputTokens: 0))
            #expect(record.model == Self.embeddingModel && record.reason == .fixedModel && record.tier == .simple && !record.tierByUnknownRule)
            #expect(record.taskKind == "embedding" && record.requestID == "emb-1" && record.images == 0)
            #expect(record.usage.promptTokens == 123_456 && !record.usageEstimated && record.attempts.count == 1)
            // The estimate: the upper-bound estimator over the texts (one token per byte, 4 per text, 3 per request).
            let estimated = texts.reduce(0) { $0 + $1.utf8.count } + 4 * texts.count + 3
            #expect(record.estimate == Self.catalog.cost(of: Self.embeddingModel, inputTokens: estimated, outputTokens: 0))

            let sent = try #require(server.requests.first)
            #expect(server.requests.count == 1 && sent.path == "/v1/embeddings")
            #expect(sent.model == "text-embedding-3-small" && sent.header("X-Request-ID") == "emb-1")

            let entry = try #require(try l.entry(id: record.entryID))
            #expect(entry.status == .settled && entry.model == "text-embedding-3-small" && entry.taskKind == "embedding")
            #expect(entry.tags == ["agent": "news"] && entry.requestID == "emb-1" && !entry.critical && !entry.usageEstimated)
            #expect(entry.actualInputTokens == 123_456 && entry.actualOutputTokens == 0 && entry.actualCost == record.cost)
            #expect(entry.estimatedInputTokens == estimated && entry.estimatedCost == record.estimate)

            let byModel = try #require(try l.audit(by: .model).rows.first { $0.group == "text-embedding-3-small" })
            #expect(byModel.calls == 1 && byModel.spend == record.cost && byModel.inputTokens == 123_456)
            #expect(try l.audit(by: .task).rows.first { $0.group == "embedding" }?.spend == record.cost)
            #expect(try l.audit(by: .tag("agent")).rows.first { $0.group == "news" }?.spend == record.cost)
            let snapshot = try l.snapshotNow(at: t0)
            #expect(snapshot.daily.settled == record.cost && snapshot.daily.reserved == .zero)
        }
    }

    @Test("Images are estimated at per-image × n and settled at the images returned")
    func imagesSettlePerImageReturned() async throws {
        try await withLoopbackClient { server, client in
            // The fixture holds 2 images; the request asks for 3.
            server.enqueue(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            let l = try ledger(daily: .dollars(1), monthly: .dollars(10))
            // The catalog model named by its gateway id.
            let result = try await router(l, client).generateImages(
                ImageGenerationRequest(model: "gpt-image-1", prompt: "A red fox", n: 3, size: "1024x1024"), kind: "chart_render",
                tags: ["agent": "reporter"])
            let record = result.record
            #expect(result.response.data.count == 2)
            // 3 × $0.04 × 1.05 = $0.126 reserved; 2 × $0.04 × 1.05 = $0.084 settled.
            #expect(record.estimate == MicroDollars(micros: 126_000) && record.cost == MicroDollars(micros: 84_000))
            #expect(record.cost == Self.catalog.cost(of: Self.imageModel, inputTokens: 0, outputTokens: 0, images: 2))
            #expect(record.images == 2 && !record.usageEstimated && record.model == Self.imageModel)
            // An unknown kind gets its tier from the selector's unknown-task rule (assign medium), as for chat.
            #expect(record.taskKind == "chart_render" && record.tier == .medium && record.tierByUnknownRule)

            let sent = try #require(server.requests.first)
            #expect(sent.path == "/v1/images/generations" && sent.model == "gpt-image-1")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            #expect(body["n"] as? Int == 3 && body["prompt"] as? String == "A red fox")

            let entry = try #require(try l.entry(id: record.entryID))
            #expect(entry.status == .settled && entry.model == "gpt-image-1" && entry.taskKind == "chart_render" && entry.tier == .medium)
            #expect(entry.actualCost == MicroDollars(micros: 84_000) && entry.estimatedCost == MicroDollars(micros: 126_000))
            let byModel = try #require(try l.audit(by: .model).rows.first { $0.group == "gpt-image-1" })
            #expect(byModel.calls == 1 && byModel.spend == MicroDollars(micros: 84_000))
        }
    }

    @Test("Without usage, embeddings settle at the estimate, flagged estimated")
    func missingUsageSettlesFromEstimate() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(Self.embeddingsReply(promptTokens: nil)), path: "/embeddings")
            let l = try ledger()
            let texts = [String(repeating: "a", count: 50_000), String(repeating: "b", count: 50_000)]
            let record = try await router(l, client).embed(EmbeddingsRequest(model: "", input: .batch(texts))).record
            // 100,000 bytes + 4 × 2 + 3 = 100,011 tokens; × $0.02/M × 1.05 = 2,100.231 → 2,101 µ$.
            #expect(record.usageEstimated && record.usage.promptTokens == 100_011)
            #expect(record.cost == MicroDollars(micros: 2_101) && record.cost == record.estimate)
            #expect(record.model == Self.embeddingModel)  // an empty model: the catalog's first embedding model
            let entry = try #require(try l.entry(id: record.entryID))
            #expect(entry.status == .settled && entry.usageEstimated && entry.actualInputTokens == 100_011)
            #expect(try l.audit(by: .model).rows.first { $0.group == "text-embedding-3-small" }?.estimatedCalls == 1)
        }
    }

    // MARK: - Budget

    @Test("A call that cannot fit the budget is refused before any HTTP request is sent")
    func refusedBeforeSending() async throws {
        try await withLoopbackClient { server, client in
            server.setFallback(.json(try GatewayFixture.text("images.json")))
            // One image costs 42,000 µ$; the day has one micro-dollar less.
            let l = try ledger(daily: MicroDollars(micros: 41_999), monthly: .dollars(10))
            let r = router(l, client)
            do {
                _ = try await r.generateImages(ImageGenerationRequest(model: "gpt-image-1", prompt: "A red fox"), requestID: "img-refused")
                Issue.record("expected a refusal")
            } catch let e as RoutingError {
                #expect(e.kind == .budgetExhausted && e.requestID == "img-refused" && e.tier == .simple)
                #expect(e.refusal?.dailyAvailable == MicroDollars(micros: 41_999) && e.refusal?.monthlyAvailable == .dollars(10))
                #expect(e.refusal?.cheapestEstimate == MicroDollars(micros: 42_000) && e.refusal?.cheapestModel == Self.imageModel)
            }
            // Embeddings too: 2,000,000 bytes estimate to 42,001 µ$.
            await #expect { _ = try await r.embed(EmbeddingsRequest(model: "text-embedding-3-small", input: .text(String(repeating: "x", count: 2_000_000)))) } throws: {
                ($0 as? RoutingError)?.kind == .budgetExhausted
            }
            #expect(server.requests.isEmpty)
            let refused = try l.entries(status: .refused)
            #expect(refused.map(\.taskKind) == ["image", "embedding"] && refused.allSatisfy { $0.model.isEmpty })
            #expect(try l.entries(status: .reserved).isEmpty && l.snapshotNow(at: t0).daily.reserved == .zero)
        }
    }

    @Test("Critical calls go through on a zero budget and are flagged over the limit")
    func criticalOnZeroBudget() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            server.enqueue(.json(Self.embeddingsReply(promptTokens: 40)), path: "/embeddings")
            let l = try ledger(daily: .zero, monthly: .zero)
            let r = router(l, client)
            let images = try await r.generateImages(ImageGenerationRequest(model: "gpt-image-1", prompt: "Trade ticket", n: 2), tier: .critical).record
            #expect(images.reason == .pinnedCritical && images.tier == .critical && images.exceedsDailyLimit && images.exceedsMonthlyLimit)
            #expect(images.cost == MicroDollars(micros: 84_000))
            // A kind that maps to the critical tier (execute_trade) does the same.
            let embedding = try await r.embed(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("BUY 10 AAPL")), kind: "execute_trade").record
            #expect(embedding.tier == .critical && embedding.reason == .pinnedCritical && embedding.exceedsDailyLimit)
            #expect(embedding.cost == Self.catalog.cost(of: Self.embeddingModel, inputTokens: 40, outputTokens: 0))
            let settled = try l.entries(status: .settled)
            #expect(settled.count == 2 && settled.allSatisfy { $0.critical && $0.overLimit })
            #expect(server.requests.count == 2)
        }
    }

    // MARK: - Failures

    @Test("A provider failure releases the reservation and names the status", arguments: [
        (500, RoutingError.Kind.allProvidersFailed), (429, .allProvidersFailed), (401, .gatewayFailed),
    ])
    func failureReleases(status: Int, kind: RoutingError.Kind) async throws {
        try await withLoopbackClient { server, client in
            server.setFallback(.error(status: status, message: "scripted failure", type: "server_error"), path: "/embeddings")
            let l = try ledger(daily: .dollars(1), monthly: .dollars(10))
            do {
                _ = try await router(l, client).embed(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("hello")), requestID: "emb-fail")
                Issue.record("expected a RoutingError")
            } catch let e as RoutingError {
                #expect(e.kind == kind && e.gatewayError?.status == status && e.requestID == "emb-fail")
                #expect(e.description.contains("HTTP \(status)") && !e.description.contains(fakeAPIKey))
                #expect(e.attempts.map(\.model) == [Self.embeddingModel])
            }
            // Only the one model was tried (the client's own retries aside).
            #expect(!server.requests.isEmpty && server.requests.allSatisfy { $0.model == "text-embedding-3-small" })
            let released = try l.entries(status: .released)
            #expect(released.count == 1 && released[0].error?.contains("HTTP \(status)") == true)
            #expect(try l.entries(status: .reserved).isEmpty && l.entries(status: .settled).isEmpty)
            let snapshot = try l.snapshotNow(at: t0)
            #expect(snapshot.daily.reserved == .zero && snapshot.daily.settled == .zero)
        }
    }

    @Test("Cancelling the caller's task releases the reservation")
    func cancellationReleases() async throws {
        try await withLoopbackClient { server, client in
            var slow = ScriptedResponse.json(Self.embeddingsReply(promptTokens: 5))
            slow.delayBeforeHead = .seconds(120)  // far beyond the wait below, even on a loaded machine
            server.enqueue(slow, path: "/embeddings")
            let l = try ledger(daily: .dollars(1), monthly: .dollars(10))
            let r = router(l, client)
            let caller = Task { try await r.embed(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("slow"))) }
            // Wait (bounded) until the call is in flight: reserved, its request sent.
            for _ in 0..<1_000 where try l.entries(status: .reserved).isEmpty || server.requests.isEmpty {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try l.entries(status: .reserved).count == 1)
            caller.cancel()
            // Cancelled mid-call (the reply is 120 s away): the error is the cancellation, not a reply.
            await #expect(throws: CancellationError.self) { _ = try await caller.value }
            let released = try l.entries(status: .released)
            #expect(released.count == 1 && released[0].error == "cancelled")
            #expect(try l.entries(status: .reserved).isEmpty && l.snapshotNow(at: t0).daily.reserved == .zero)
        }
    }

    // MARK: - Rejections

    @Test("A gateway without the endpoint, or a model of the wrong kind, fails before anything is reserved or sent")
    func rejectedBeforeReserving() async throws {
        let l = try ledger()
        let chatOnly = router(l, ScriptedGateway(usage: { _ in nil }))
        await #expect { _ = try await chatOnly.embed(EmbeddingsRequest(model: "", input: .text("x"))) } throws: {
            ($0 as? RoutingError)?.kind == .unsupportedEndpoint && "\($0)".contains("embeddings")
        }
        await #expect { _ = try await chatOnly.generateImages(ImageGenerationRequest(model: "", prompt: "x")) } throws: {
            ($0 as? RoutingError)?.kind == .unsupportedEndpoint && "\($0)".contains("image generation")
        }
        try await withLoopbackClient { server, client in
            let r = router(l, client)
            // A chat model, by canonical or by gateway id, and an image model, are not embedding models.
            for model in ["deepseek-v3", "deepseek-chat", "gpt-image-1"] {
                await #expect { _ = try await r.embed(EmbeddingsRequest(model: model, input: .text("x"))) } throws: {
                    guard let e = $0 as? RoutingError else { return false }
                    return e.kind == .invalidTask && e.detail.contains("needs a model of kind embedding")
                }
            }
            await #expect { _ = try await r.generateImages(ImageGenerationRequest(model: "text-embedding-3-small", prompt: "x")) } throws: {
                ($0 as? RoutingError)?.kind == .invalidTask
            }
            // A model the catalog does not know is refused, not swapped for another (its vectors would differ in size).
            await #expect { _ = try await r.embed(EmbeddingsRequest(model: "text-embedding-3-large", input: .text("x"))) } throws: {
                guard let e = $0 as? RoutingError else { return false }
                return e.kind == .invalidTask && e.detail.contains("text-embedding-3-large") && e.detail.contains("text-embedding-3-small")
            }
            // A task kind the selector rejects.
            let strict = router(l, client, selector: try ModelSelector(catalog: Self.catalog, configuration: .init(unknownTask: .reject)))
            await #expect { _ = try await strict.embed(EmbeddingsRequest(model: "", input: .text("x")), kind: "mystery") } throws: {
                ($0 as? RoutingError)?.kind == .invalidTask && "\($0)".contains("mystery")
            }
            #expect(server.requests.isEmpty)
        }
        #expect(try l.entries().isEmpty)
    }

    // MARK: - Audit

    @Test("bats audit --by model shows embedding and image spend")
    func auditCommandShowsSpend() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("spend.sqlite").path
        let (embedding, image) = try await withLoopbackClient { server, client in
            server.enqueue(.json(Self.embeddingsReply(promptTokens: 500_000)), path: "/embeddings")
            server.enqueue(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(5), monthly: .dollars(50))))
            let r = Router(selector: LedgerFixture.selector, ledger: l, gateway: client)
            let e = try await r.embed(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("headline")), tags: ["agent": "news"])
            let i = try await r.generateImages(ImageGenerationRequest(model: "gpt-image-1", prompt: "chart", n: 2))
            return (e.record.cost, i.record.cost)
        }
        let audit = try BATSBinary.run(["audit", "--ledger", path, "--by", "model", "--format", "json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        let rows = try #require(json["rows"] as? [[String: Any]])
        func spend(_ group: String) -> Decimal? { (rows.first { $0["group"] as? String == group }?["spend_usd"] as? NSNumber)?.decimalValue }
        // 500,000 × $0.02/M × 1.05 = $0.0105; 2 images × $0.04 × 1.05 = $0.084.
        #expect(embedding == MicroDollars(micros: 10_500) && image == MicroDollars(micros: 84_000))
        #expect(spend("text-embedding-3-small") == Decimal(string: "0.0105") && spend("gpt-image-1") == Decimal(string: "0.084"))
        let verify = try BATSBinary.run(["audit", "verify", "--ledger", path])
        #expect(verify.status == 0 && verify.stdout.hasPrefix("ok:"), "\(verify.stderr)")
    }
}
