import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

@Suite("Gateway client: errors, retries and limits over loopback HTTP", .timeLimit(.minutes(1)))
struct GatewayErrorTests {
    struct StatusCase: Sendable, CustomTestStringConvertible {
        var response: ScriptedResponse
        var kind: GatewayError.Kind
        var retried: Bool
        var fallback: Bool
        var testDescription: String { "HTTP \(response.status) → \(kind)" }
    }

    static let statusCases: [StatusCase] = [
        .init(response: .error(status: 401, message: "Invalid API key", type: "invalid_request_error", code: "invalid_api_key"), kind: .authentication, retried: false, fallback: false),
        .init(response: .error(status: 403, message: "Forbidden"), kind: .authentication, retried: false, fallback: false),
        .init(response: .error(status: 402, message: "Payment required"), kind: .insufficientCredit, retried: false, fallback: false),
        .init(response: .error(status: 429, message: "You exceeded your current quota", type: "insufficient_quota", code: "insufficient_quota"), kind: .insufficientCredit, retried: false, fallback: false),
        .init(response: .error(status: 400, message: "Insufficient credit balance for this request"), kind: .insufficientCredit, retried: false, fallback: false),
        .init(response: .error(status: 404, message: "Not found"), kind: .modelNotFound, retried: false, fallback: true),
        .init(response: .error(status: 400, message: "The model `gpt-9` does not exist", code: "model_not_found"), kind: .modelNotFound, retried: false, fallback: true),
        .init(response: .error(status: 400, message: "max_tokens is too large", type: "invalid_request_error"), kind: .badRequest, retried: false, fallback: false),
        .init(response: .error(status: 429, message: "Rate limit reached", type: "rate_limit_error"), kind: .rateLimited, retried: true, fallback: true),
        .init(response: .error(status: 500, message: "Internal error", type: "server_error"), kind: .server, retried: true, fallback: true),
        .init(response: .error(status: 503, message: "Overloaded"), kind: .server, retried: true, fallback: true),
        .init(response: .html(#"<html><body><h1>502 Bad Gateway</h1></body></html>"#, status: 502), kind: .server, retried: true, fallback: true),
        .init(response: .json("{}", status: 408), kind: .timeout, retried: true, fallback: true),
    ]

    @Test(arguments: statusCases)
    func statusMapping(_ c: StatusCase) async throws {
        try await withLoopbackClient(retry: immediateRetries) { server, client in
            var response = c.response
            response.headers.append(("x-request-id", "req-\(c.response.status)"))
            server.setFallback(response)
            let e = await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
            #expect(e?.kind == c.kind)
            #expect(e?.status == c.response.status)
            #expect(e?.requestID == "req-\(c.response.status)")
            #expect(e?.model == "gpt-4o-mini")
            #expect(e.map(FailurePolicy.allowsFallback) == c.fallback)
            #expect(server.requests.count == (c.retried ? 3 : 1))
        }
    }

    @Test func providerEnvelopeIsCarried() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.error(status: 400, message: "bad temperature", type: "invalid_request_error", code: "invalid_value"))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.providerType == "invalid_request_error")
            #expect(e.providerCode == "invalid_value")
            #expect(e.providerMessage == "bad temperature")
            #expect(e.bodyExcerpt == nil)
            #expect(e.description.contains("bad temperature"))
        }
    }

    @Test func htmlErrorPageGivesAShortExcerpt() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            let page = try GatewayFixture.text("error_502.html") + String(repeating: "<p>padding</p>\n", count: 100)
            server.enqueue(.html(page, status: 502))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .server)
            let excerpt = try #require(e.bodyExcerpt)
            #expect(excerpt.count <= 200)
            #expect(excerpt.hasPrefix("<html> <head><title>502 Bad Gateway</title></head>"))
            #expect(e.providerMessage == nil)
        }
    }

    @Test func garbageBodyIsAnInvalidResponse() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.bytes([0xFF, 0xFE, 0x00, 0x42] + Array("not json at all".utf8), contentType: "application/json"))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .invalidResponse)
            #expect(e.detail?.contains("not JSON") == true)
            #expect(e.bodyExcerpt?.contains("not json at all") == true)
            #expect(server.requests.count == 1)
        }
    }

    @Test func htmlWith200IsAnInvalidResponse() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.html("<html><body>Please log in to the corporate proxy</body></html>", status: 200))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .invalidResponse)
            #expect(e.bodyExcerpt == "<html><body>Please log in to the corporate proxy</body></html>")
        }
    }

    @Test func truncatedJSONBodyIsAnInvalidResponse() async throws {
        try await withLoopbackClient { server, client in
            let full = try GatewayFixture.text("chat_completion.json")
            server.enqueue(.json(String(full.prefix(120))))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .invalidResponse)
        }
    }

    /// A 200 cut mid-body was billed by the provider: the client does not retry it (that would pay twice and record
    /// once); the error says the provider answered, so the router charges it.
    @Test func bodyCutByAClosedConnectionIsNotRetried() async throws {
        try await withLoopbackClient { server, client in
            let full = try GatewayFixture.text("chat_completion.json")
            server.enqueue(.truncated(full, keep: 100))
            server.enqueue(.json(full))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .connection && e.providerAnswered)
            #expect(server.requests.count == 1)
        }
    }

    @Test func bodyCutEveryTimeIsAConnectionError() async throws {
        try await withLoopbackClient { server, client in
            server.setFallback(.truncated(try GatewayFixture.text("chat_completion.json"), keep: 100))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .connection && e.providerAnswered)
            #expect(server.requests.count == 1)
        }
    }

    @Test func oversizeBodyIsRefused() async throws {
        try await withLoopbackClient(maxResponseBytes: 256) { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json"), headers: [("x-request-id", "big-1")]))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .responseTooLarge)
            #expect(e.requestID == "big-1")
            #expect(server.requests.count == 1)
        }
    }

    @Test func oversizeChunkedBodyIsRefused() async throws {
        try await withLoopbackClient(maxResponseBytes: 256) { server, client in
            var r = ScriptedResponse.sse(try GatewayFixture.text("chat_completion.json"), chunkSize: 100)
            r.headers = [("Content-Type", "application/json")]
            server.enqueue(r)
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .responseTooLarge)
        }
    }

    @Test func hangUpIsRetriedAsAConnectionError() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.hangingUp)
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json")))
            let reply = try await client.complete(.hello(), options: .init(), logger: nil)
            #expect(reply.id == "chatcmpl-9xYz01")
            #expect(server.requests.count == 2)
        }
    }

    @Test func connectionRefusedIsAConnectionError() async throws {
        // Start a server to get a free port, then stop it: nothing listens there any more.
        let server = try await LoopbackGatewayServer.start()
        var configuration = loopbackConfiguration(server, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .zero, maxBackoff: .zero))
        // AsyncHTTPClient retries a refused connection (on NIO's real clock) until its connect timeout: keep that short.
        configuration.connectTimeout = .milliseconds(100)
        try await server.shutdown()
        try await withGatewayClient(configuration: configuration, clock: ManualClock()) { client in
            let e = try #require(await expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: .seconds(3)), logger: nil)
            })
            // `.connection` or `.timeout`, depending on how AsyncHTTPClient reports its last refused connect.
            #expect(e.kind == .connection || e.kind == .timeout, "got \(e)")
            #expect(e.isRetryable)
        }
    }

    @Test func errorEnvelopeWith200IsTheProvidersError() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.json(#"{"error":{"message":"Rate limit exceeded upstream","code":"rate_limit_exceeded"}}"#))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .rateLimited)
            #expect(e.status == 200)
            #expect(e.providerMessage == "Rate limit exceeded upstream")
        }
    }
}
