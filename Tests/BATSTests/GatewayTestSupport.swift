import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Logging
import Testing

/// Loads recorded gateway fixtures (`Fixtures/gateway`, copied to `Resources/gateway`).
enum GatewayFixture {
    static func text(_ name: String) throws -> String {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources/gateway"),
            "fixture \(name) is missing from the test bundle"
        )
        return try String(contentsOf: url, encoding: .utf8)
    }

    static func bytes(_ name: String) throws -> [UInt8] { Array(try text(name).utf8) }
}

/// A fake key used by every gateway test; it must never show up in errors or logs.
let fakeAPIKey = "sk-test-FAKE-KEY-1234567890abcdef"

/// A seeded generator (SplitMix64) for reproducible property tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A client configuration pointing at a loopback server, with fast retries.
func loopbackConfiguration(
    _ server: LoopbackGatewayServer, retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
    maxResponseBytes: Int = 1 << 20
) -> GatewayClient.Configuration {
    var c = GatewayClient.Configuration(baseURL: server.baseURL, apiKey: fakeAPIKey)
    c.retryPolicy = retry
    c.maxResponseBytes = maxResponseBytes
    c.connectTimeout = .seconds(2)
    return c
}

/// Runs `body` with a loopback server and a client pointing at it; both are shut down afterwards.
func withLoopbackClient<R: Sendable>(
    retry: RetryPolicy = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50)),
    maxResponseBytes: Int = 1 << 20,
    _ body: (LoopbackGatewayServer, GatewayClient) async throws -> R
) async throws -> R {
    try await LoopbackGatewayServer.withServer { server in
        try await withGatewayClient(configuration: loopbackConfiguration(server, retry: retry, maxResponseBytes: maxResponseBytes)) {
            client in
            try await body(server, client)
        }
    }
}

/// Runs `body` expecting a ``GatewayError`` and returns it.
func expectGatewayError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> GatewayError? {
    do {
        try await body()
        Issue.record("expected a GatewayError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let e as GatewayError {
        #expect(!e.description.contains(fakeAPIKey), "the key leaked into \(e)", sourceLocation: sourceLocation)
        return e
    } catch {
        Issue.record("expected a GatewayError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension ChatRequest {
    static func hello(model: String = "gpt-4o-mini") -> ChatRequest {
        ChatRequest(model: model, messages: [.system("Be brief."), .user("Hello")], temperature: 0.2, maxTokens: 64)
    }
}

/// Parses a JSON body into a `JSONValue`.
func json(_ bytes: [UInt8]) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
}
