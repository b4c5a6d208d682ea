import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

/// A malformed base URL is a configuration error raised before any request, never a trap (SIGILL) deep in NIO.
@Suite("Gateway client: malformed base URLs are configuration errors, not traps")
struct GatewayBaseURLTests {
    struct BadURL: Sendable, CustomTestStringConvertible {
        var url: String
        /// Text the error's description must contain (the URL as shown, and the reason).
        var mentions: [String]
        var testDescription: String { url.debugDescription }
    }

    static let bad: [BadURL] = [
        .init(url: "http://127.0.0.1:99999/v1", mentions: ["http://127.0.0.1:99999/v1", "port"]),
        .init(url: "http://127.0.0.1:65536/v1", mentions: ["port"]),
        .init(url: "http://127.0.0.1:99999999999999999999/v1", mentions: ["port"]),
        .init(url: "http://127.0.0.1:0/v1", mentions: ["http://127.0.0.1:0/v1", "port"]),
        .init(url: "http://127.0.0.1:-1/v1", mentions: ["port"]),
        .init(url: "http://host:8o/v1", mentions: ["port"]),
        .init(url: "http:///v1", mentions: ["host"]),
        .init(url: "http://:8080/v1", mentions: ["host"]),
        .init(url: "ftp://files.example/v1", mentions: ["ftp://files.example/v1", "http"]),
        .init(url: "127.0.0.1:4000/v1", mentions: ["http"]),
        .init(url: "http://ho st/v1", mentions: ["space"]),
        .init(url: "http://host/v 1", mentions: ["space"]),
        .init(url: "http://host/v1?x=1", mentions: ["query"]),
        .init(url: "http://host/v1#top", mentions: ["fragment"]),
        .init(url: "not a url", mentions: ["space"]),
    ]

    static let good = [
        "https://api.router.tetrate.ai/v1", "http://127.0.0.1:4000/v1", "http://127.0.0.1:4000/v1/", "http://[::1]:8080/v1",
        "http://host:65535/v1", "http://host:1", "HTTPS://Example.COM/v1", " http://host/v1\n",
    ]

    @Test("The configuration from LLM_GATEWAY_BASE_URL fails validation with a configuration error", arguments: bad)
    func environmentURLIsRefused(_ c: BadURL) throws {
        let configuration = GatewayClient.Configuration.fromEnvironment(["LLM_GATEWAY_BASE_URL": c.url, "LLM_GATEWAY_API_KEY": fakeAPIKey])
        do {
            try configuration.validate()
            Issue.record("\(c.url.debugDescription) was accepted")
        } catch let e as GatewayError {
            #expect(e.kind == .configuration)
            #expect(!e.description.contains(fakeAPIKey))
            for m in c.mentions { #expect(e.description.contains(m), "\(e.description) does not mention \(m)") }
        }
    }

    @Test(arguments: good)
    func goodURLsAreAccepted(_ url: String) throws {
        try GatewayClient.Configuration(baseURL: url, apiKey: fakeAPIKey).validate()
    }

    @Test func aCallWithAnOutOfRangePortFailsBeforeAnyRequest() async throws {
        let configuration = GatewayClient.Configuration.fromEnvironment([
            "LLM_GATEWAY_BASE_URL": "http://127.0.0.1:99999/v1", "LLM_GATEWAY_API_KEY": fakeAPIKey,
        ])
        try await withGatewayClient(configuration: configuration) { client in
            let chat = await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
            #expect(chat?.kind == .configuration)
            #expect(chat?.description.contains("http://127.0.0.1:99999/v1") == true, "\(String(describing: chat))")
            let stream = await expectGatewayError { _ = try await client.stream(.hello(), options: .init(), logger: nil) }
            #expect(stream?.kind == .configuration)
            let models = await expectGatewayError { _ = try await client.models(options: .init(), logger: nil) }
            #expect(models?.kind == .configuration)
            let vectors = await expectGatewayError {
                _ = try await client.embeddings(.init(model: "e", input: .text("x")), options: .init(), logger: nil)
            }
            #expect(vectors?.kind == .configuration)
            #expect(chat?.isRetryable == false && chat.map(FailurePolicy.allowsFallback) == false)
        }
    }

    @Test func credentialsInTheURLAreRefusedAndNeverShown() async throws {
        let url = "https://alice:\(fakeAPIKey)@gateway.example/v1?api_key=\(fakeAPIKey)"
        let e = try #require(await expectGatewayError { try GatewayClient.Configuration(baseURL: url, apiKey: fakeAPIKey).validate() })
        #expect(e.kind == .configuration)
        #expect(!e.description.contains("FAKE-KEY") && !e.description.contains("alice"), "\(e)")
        #expect(e.description.contains("gateway.example"))
    }
}

/// Retry-After values are provider text: hostile ones are clamped, never trapped on.
@Suite("Gateway client: hostile Retry-After headers never trap")
struct GatewayHostileHeaderTests {
    @Test(arguments: [
        ("retry-after-ms", "1e300"), ("retry-after-ms", "-1"), ("retry-after-ms", "nan"), ("retry-after-ms", "inf"),
        ("Retry-After", "1e300"), ("Retry-After", "Sun, 06 Nov 99999999999999999 08:49:37 GMT"),
        ("Retry-After", "Sun, 06 Nov -99999999999999999 08:49:37 GMT"), ("Retry-After", "Sun, 99999999999 Nov 2026 08:49:37 GMT"),
    ])
    func hostileRetryAfter(_ header: String, _ value: String) async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.error(status: 429, message: "slow down", headers: [(header, value)]))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .rateLimited)
            if let after = e.retryAfter { #expect(after >= .zero && after <= .seconds(86_400)) }
        }
    }
}
