import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Logging
import Testing

@Suite("Gateway client: configuration, secrets and logging")
struct GatewayConfigurationTests {
    @Test func baseURLPrecedence() {
        typealias C = GatewayClient.Configuration
        #expect(C.fromEnvironment([:]).baseURL == "https://api.router.tetrate.ai/v1")
        #expect(C.fromEnvironment(["TARS_API_BASE": "https://tars.example/v1"]).baseURL == "https://tars.example/v1")
        #expect(C.fromEnvironment(["TARS_API_BASE": "https://tars.example/v1", "LLM_GATEWAY_BASE_URL": "http://127.0.0.1:4000/v1"]).baseURL == "http://127.0.0.1:4000/v1")
        #expect(C.fromEnvironment(["LLM_GATEWAY_BASE_URL": "http://a/v1"], baseURL: "http://explicit/v1").baseURL == "http://explicit/v1")
        #expect(C.fromEnvironment(["LLM_GATEWAY_BASE_URL": "", "TARS_API_BASE": "https://t/v1"]).baseURL == "https://t/v1")
    }

    @Test func apiKeyPrecedence() {
        typealias C = GatewayClient.Configuration
        #expect(C.fromEnvironment([:]).apiKey == nil)
        #expect(C.fromEnvironment(["TETRATE_API_KEY": "k3"]).apiKey == "k3")
        #expect(C.fromEnvironment(["TETRATE_API_KEY": "k3", "TARS_API_KEY": "k2"]).apiKey == "k2")
        #expect(C.fromEnvironment(["TETRATE_API_KEY": "k3", "TARS_API_KEY": "k2", "LLM_GATEWAY_API_KEY": "k1"]).apiKey == "k1")
        #expect(C.fromEnvironment(["LLM_GATEWAY_API_KEY": "k1"], apiKey: "explicit").apiKey == "explicit")
        #expect(C.fromEnvironment(["LLM_GATEWAY_API_KEY": " ", "TARS_API_KEY": "k2"]).apiKey == "k2")
    }

    @Test func missingKeyFailsBeforeAnyRequest() async throws {
        try await LoopbackGatewayServer.withServer { server in
            let configuration = GatewayClient.Configuration.fromEnvironment(["LLM_GATEWAY_BASE_URL": server.baseURL])
            try await withGatewayClient(configuration: configuration) { client in
                let e = await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
                #expect(e?.kind == .missingAPIKey)
                let s = await expectGatewayError { _ = try await client.stream(.hello(), options: .init(), logger: nil) }
                #expect(s?.kind == .missingAPIKey)
                let m = await expectGatewayError { _ = try await client.models(options: .init(), logger: nil) }
                #expect(m?.kind == .missingAPIKey)
            }
            #expect(server.requests.isEmpty)
            #expect(server.connectionsOpened == 0)
        }
    }

    @Test func malformedBaseURLIsAConfigurationError() async throws {
        try await withGatewayClient(configuration: .init(baseURL: "not a url", apiKey: fakeAPIKey)) { client in
            let e = await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
            #expect(e?.kind == .configuration)
        }
    }

    @Test func configurationNeverPrintsTheKey() {
        let c = GatewayClient.Configuration(apiKey: fakeAPIKey)
        var dumped = ""
        dump(c, to: &dumped)
        for text in [c.description, c.debugDescription, String(describing: c), String(reflecting: c), "\(c)", dumped] {
            #expect(!text.contains(fakeAPIKey))
            #expect(!text.contains("FAKE-KEY"))
        }
        #expect(c.description.contains("<redacted>"))
    }

    @Test func keyEchoedByTheProviderIsRedactedAndNeverLogged() async throws {
        let recorder = LogRecorder()
        let logger = recorder.logger(level: .trace)
        try await LoopbackGatewayServer.withServer { server in
            var configuration = loopbackConfiguration(server, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .zero, maxBackoff: .zero))
            configuration.extraHeaders = ["X-Secret-Header": "also-secret-value"]
            try await withGatewayClient(configuration: configuration, clock: ManualClock(), logger: logger) { client in
                server.enqueue(.error(status: 401, message: "Incorrect API key provided: \(fakeAPIKey). Find your key at …", code: "invalid_api_key"))
                server.enqueue(.html("<html>Bearer \(fakeAPIKey) refused</html>", status: 503))
                server.enqueue(.html("<html>Bearer \(fakeAPIKey) refused</html>", status: 503))
                server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse")))
                server.enqueue(.json(try GatewayFixture.text("chat_completion.json")))

                let auth = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: logger) })
                #expect(auth.kind == .authentication)
                #expect(auth.providerMessage?.contains("<redacted>") == true)
                let html = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: logger) })
                #expect(html.bodyExcerpt?.contains("<redacted>") == true)
                for try await _ in try await client.stream(.hello(), options: .init(), logger: logger) {}
                _ = try await client.complete(.hello(), options: .init(), logger: logger)
                for e in [auth, html] {
                    #expect(!String(reflecting: e).contains(fakeAPIKey))
                    var dumped = ""
                    dump(e, to: &dumped)
                    #expect(!dumped.contains(fakeAPIKey))
                }
            }
        }
        let logs = recorder.text
        #expect(recorder.entries.count >= 8, "expected debug/trace entries, got \(recorder.entries.count)")
        #expect(recorder.entries.allSatisfy { $0.level <= .debug })
        #expect(logs.contains("gateway request"))
        #expect(logs.contains("gateway retry"))
        #expect(!logs.contains(fakeAPIKey))
        #expect(!logs.contains("FAKE-KEY"))
        #expect(!logs.contains("also-secret-value"))
        #expect(!logs.lowercased().contains("bearer"))
    }
}

@Suite("Gateway error mapping and accumulation (pure units)")
struct GatewayUnitTests {
    @Test func retryPolicyBackoffGrowsAndIsCapped() {
        let p = RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(350), multiplier: 2, jitter: 0.5)
        #expect(p.backoff(beforeRetry: 1, random: 0) == .milliseconds(100))
        #expect(p.backoff(beforeRetry: 2, random: 0) == .milliseconds(200))
        #expect(p.backoff(beforeRetry: 3, random: 0) == .milliseconds(350))
        #expect(p.backoff(beforeRetry: 2, random: 1) == .milliseconds(100))  // full jitter share removed
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test func accumulatorJoinsChoicesAndToolFragments() {
        var acc = ChatStreamAccumulator()
        typealias D = ChatCompletionChunk.Delta
        acc.add(.init(id: "a", model: "m", choices: [
            .init(index: 0, delta: D(role: .assistant, content: "Hel")),
            .init(index: 1, delta: D(role: .assistant, toolCalls: [.init(index: 0, id: "c1", type: "function", function: .init(name: "f", arguments: "{\"x\""))])),
        ]))
        acc.add(.init(id: "a", model: "m", choices: [
            .init(index: 0, delta: D(content: "lo"), finishReason: "stop"),
            .init(index: 1, delta: D(toolCalls: [.init(index: 0, function: .init(arguments: ":1}"))]), finishReason: "tool_calls"),
        ]))
        acc.add(.init(id: "", model: "", choices: [], usage: Usage(promptTokens: 3, completionTokens: 4)))
        let r = acc.response
        #expect(r.choices.count == 2)
        #expect(r.text == "Hello")
        #expect(r.choices[1].message.toolCalls == [ToolCall(id: "c1", function: .init(name: "f", arguments: "{\"x\":1}"))])
        #expect(r.choices[1].message.content == nil)
        #expect(r.usage?.totalTokens == 7)
        #expect(acc.receivedTextBytes == 5 + 7 + 1)  // text, arguments and the tool name "f"
    }

    @Test func emptyStreamGivesAnEmptyResponseWithoutUsage() {
        let acc = ChatStreamAccumulator()
        #expect(acc.response.choices.isEmpty)
        #expect(acc.usage == nil)
    }
}
