// `import BATS` alone gives the router, the selector, the ledger and the gateway client, as in the README.
import BATS
import BATSTestSupport
import Foundation
import Testing

@Suite("Embedding example and router over HTTP")
struct EmbeddingExampleTests {
    static let reply = """
        {"id":"chatcmpl-1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"bid 189.20 ask 189.24"},"finish_reason":"stop"}],"usage":{"prompt_tokens":31,"completion_tokens":9,"total_tokens":40}}
        """

    // MARK: - The README's block

    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The first ```` ```swift ```` block after the `## Embedding` heading of `README.md`, without its fences.
    static func readmeBlock(_ readme: String) -> String? {
        guard let section = readme.range(of: "\n## Embedding\n"), let open = readme.range(of: "```swift\n", range: section.upperBound..<readme.endIndex),
            let close = readme.range(of: "\n```\n", range: open.upperBound..<readme.endIndex)
        else { return nil }
        return String(readme[open.upperBound..<close.lowerBound]) + "\n"
    }

    /// Expects the ```` ```swift ```` block after `` `Snippets/NAME` (compiled by `swift build`): `` in `doc` to be
    /// that snippet's file, line for line.
    static func expectDocBlock(_ doc: String, isSnippet name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let text = try String(contentsOf: root.appendingPathComponent(doc), encoding: .utf8)
        let snippet = try String(contentsOf: root.appendingPathComponent("Snippets/\(name)"), encoding: .utf8)
        let marker = try #require(text.range(of: "`Snippets/\(name)` (compiled by `swift build`):\n\n```swift\n"), sourceLocation: sourceLocation)
        let close = try #require(text.range(of: "\n```\n", range: marker.upperBound..<text.endIndex), sourceLocation: sourceLocation)
        #expect(String(text[marker.upperBound..<close.lowerBound]) + "\n" == snippet, "\(doc) and Snippets/\(name) differ: edit both", sourceLocation: sourceLocation)
    }

    @Test("docs/fleet.md's host example is Snippets/FleetHost.swift, which `swift build` compiles")
    func fleetBlockIsTheSnippet() throws { try Self.expectDocBlock("docs/fleet.md", isSnippet: "FleetHost.swift") }

    @Test("docs/council.md's trading council is Snippets/TradingCouncil.swift, which `swift build` compiles")
    func councilBlockIsTheSnippet() throws { try Self.expectDocBlock("docs/council.md", isSnippet: "TradingCouncil.swift") }

    @Test("The README's embedding example is Snippets/EmbeddingExample.swift, which `swift build` compiles")
    func readmeBlockIsTheSnippet() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let snippet = try String(contentsOf: Self.root.appendingPathComponent("Snippets/EmbeddingExample.swift"), encoding: .utf8)
        let block = try #require(Self.readmeBlock(readme), "README.md has no ```swift block under ## Embedding")
        let (a, b) = (block.split(separator: "\n", omittingEmptySubsequences: false), snippet.split(separator: "\n", omittingEmptySubsequences: false))
        let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        #expect(
            block == snippet,
            """
            README.md's embedding example and Snippets/EmbeddingExample.swift differ from line \(first + 1):
            README:  \(first < a.count ? a[first] : "<end>")
            snippet: \(first < b.count ? b[first] : "<end>")
            Edit both (the snippet is what `swift build` compiles).
            """)
        #expect(block.hasPrefix("import BATS\n") && !block.dropFirst().contains("\nimport "), "the example needs only `import BATS`")
    }

    @Test("The block is found under ## Embedding, and a changed line is a difference")
    func readmeBlockExtraction() throws {
        let readme = "# X\n```swift\nnot this\n```\n## Embedding\n\ntext\n```swift\nimport BATS\nlet a = 1\n```\nafter\n```swift\nnor this\n```\n"
        #expect(Self.readmeBlock(readme) == "import BATS\nlet a = 1\n")
        #expect(Self.readmeBlock(readme.replacingOccurrences(of: "a = 1", with: "a = 2")) != "import BATS\nlet a = 1\n")
        #expect(Self.readmeBlock("## Embedding\nno code\n") == nil)
    }

    // MARK: - The example's calls, against a loopback server

    @Test("The README's embedding example works against an OpenAI-compatible server")
    func readmeExample() async throws {
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json(Self.reply))
            server.enqueue(.json(try GatewayFixture.text("embeddings.json")), path: "/embeddings")
            server.enqueue(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }

            // The README's calls, with the loopback server's address in the environment and a temporary ledger.
            let selector = try ModelSelector(catalog: try ModelCatalog.bundled())
            let ledger = try SQLiteLedger(
                path: dir.appendingPathComponent("spend.sqlite").path,
                configuration: .init(
                    limits: BudgetLimits(daily: .dollars(50), monthly: .dollars(1_000)),
                    calendar: try BudgetCalendar(timeZoneIdentifier: "America/New_York")))
            let gateway = GatewayClient.Configuration.fromEnvironment(["LLM_GATEWAY_BASE_URL": server.baseURL, "TARS_API_KEY": fakeAPIKey])

            let record = try await withGatewayClient(configuration: gateway) { client in
                let router = Router(selector: selector, ledger: ledger, gateway: client)
                // `Logger` comes through `import BATS` too (re-exported from swift-log, as the router takes one).
                var logger = Logger(label: "embedding-example")
                logger.logLevel = .critical
                let reply = try await router.complete(
                    RoutedTask(
                        kind: "parse_market_data",
                        request: ChatRequest(messages: [.user("Extract bid/ask from: AAPL 189.20/189.24")]),
                        tags: ["agent": "scanner"]),
                    logger: logger)
                #expect(reply.response.text == "bid 189.20 ask 189.24")

                // Embeddings and images go through the same budget, each with one fixed catalog model.
                let vectors = try await router.embed(
                    EmbeddingsRequest(model: "text-embedding-3-small", input: .batch(["AAPL beats", "MSFT misses"])),
                    tags: ["agent": "news"])
                let chart = try await router.generateImages(ImageGenerationRequest(model: "gpt-image-1", prompt: "AAPL 5-day chart"))
                #expect(vectors.record.cost == MicroDollars(micros: 1) && vectors.record.usage.promptTokens == 8)
                #expect(chart.record.images == 2 && chart.record.cost == MicroDollars(micros: 84_000))
                return reply.record
            }
            #expect(try ledger.audit(by: .model).rows.map(\.group).sorted() == ["deepseek-v3", "gpt-image-1", "text-embedding-3-small"])
            #expect(record.model == .deepseekV3 && record.reason == .preferred)
            #expect(record.cost == ModelCatalogCost.v3(31, 9))
            let sent = try #require(server.requests.first)
            #expect(sent.header("authorization") == "Bearer \(fakeAPIKey)")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            #expect(body["model"] as? String == "deepseek-chat" && body["max_tokens"] as? Int == 512)
        }
    }

    @Test("After a 503 the router falls to the next model; CRITICAL stays on Opus")
    func fallbackOverHTTP() async throws {
        // No backoff: the client runs on a manual clock that this test never moves.
        let retry = RetryPolicy(maxAttempts: 2, initialBackoff: .zero, maxBackoff: .zero)
        try await withLoopbackClient(retry: retry) { server, client in
            let unavailable = ScriptedResponse.error(status: 503, message: "overloaded", type: "server_error")
            server.enqueue([unavailable, unavailable, .json(Self.reply)])
            let ledger = try SQLiteLedger.inMemory()
            let router = Router(selector: LedgerFixture.selector, ledger: ledger, gateway: client)
            let medium = try await router.complete(RoutedTask(kind: "analyze_technicals", request: ChatRequest(messages: [.user("RSI?")])))
            #expect(medium.record.model == .deepseekV3 && medium.record.reason == .downgradedForProviderFailure)
            #expect(server.requests.map(\.model) == ["mistral-medium-2505", "mistral-medium-2505", "deepseek-chat"])
            #expect(try ledger.entries(status: .released).count == 1)

            server.enqueue([unavailable, unavailable, unavailable, .json(Self.reply)])
            let before = server.requests.count
            let trade = try await router.complete(RoutedTask(kind: "execute_trade", request: ChatRequest(messages: [.user("BUY 10 AAPL")])))
            #expect(trade.record.model == .claudeOpus && trade.record.attempts.count == 2)
            #expect(server.requests.dropFirst(before).allSatisfy { $0.model == "claude-opus-4-1" })
            #expect(try ledger.entries(status: .reserved).isEmpty)
        }
    }
}

enum ModelCatalogCost {
    static func v3(_ input: Int, _ output: Int) -> MicroDollars {
        LedgerFixture.catalog.cost(of: .deepseekV3, inputTokens: input, outputTokens: output)!
    }
}

extension LoopbackGatewayServer.RecordedRequest {
    /// The `model` field of a JSON request body.
    var model: String? {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["model"] as? String
    }
}
