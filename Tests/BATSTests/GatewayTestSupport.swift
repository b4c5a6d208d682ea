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

/// Three attempts with no backoff: tests that retry never wait, whatever the clock.
let immediateRetries = RetryPolicy(maxAttempts: 3, initialBackoff: .zero, maxBackoff: .zero)

/// The call timeout of tests whose client runs on a ``ManualClock``: the test reaches it by advancing the clock.
/// It is long in real time because AsyncHTTPClient's real-time backstop for an attempt is the time left on the
/// client's clock plus one second: with a 2 s timeout, a loaded machine made that backstop fire and the call retry.
let manualTimeout: Duration = .seconds(600)

/// A client configuration pointing at a loopback server, with retries that do not wait.
func loopbackConfiguration(
    _ server: LoopbackGatewayServer, retry: RetryPolicy = immediateRetries, maxResponseBytes: Int = 1 << 20
) -> GatewayClient.Configuration {
    var c = GatewayClient.Configuration(baseURL: server.baseURL, apiKey: fakeAPIKey)
    c.retryPolicy = retry
    c.maxResponseBytes = maxResponseBytes
    c.connectTimeout = .seconds(2)
    return c
}

/// Runs `body` with a loopback server and a client pointing at it; both are shut down afterwards.
///
/// The client runs on `clock`, a ``ManualClock`` that only the test moves: by default one that never moves, so
/// no deadline the client computes can pass during a test, however loaded the machine. Tests of retries and
/// timeouts pass their own clock and advance it, with call timeouts of ``manualTimeout``.
func withLoopbackClient<R: Sendable>(
    retry: RetryPolicy = immediateRetries, maxResponseBytes: Int = 1 << 20, clock: ManualClock = ManualClock(),
    _ body: (LoopbackGatewayServer, GatewayClient) async throws -> R
) async throws -> R {
    try await LoopbackGatewayServer.withServer { server in
        let configuration = loopbackConfiguration(server, retry: retry, maxResponseBytes: maxResponseBytes)
        return try await withGatewayClient(configuration: configuration, clock: clock) { client in
            try await body(server, client)
        }
    }
}

/// The byte offset just past the `count`-th `data:` event of an SSE transcript (past its blank line), to insert
/// a handshake there with ``ScriptedResponse/inserting(_:afterBytes:)``.
func offset(
    afterDataEvents count: Int, in transcript: String, sourceLocation: SourceLocation = #_sourceLocation
) throws -> Int {
    let bytes = Array(transcript.utf8)
    var seen = 0
    var blockStart = 0
    var i = 0
    while i + 1 < bytes.count {
        if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
            if bytes[blockStart...].starts(with: Array("data:".utf8)) { seen += 1 }
            if seen == count { return i + 2 }
            blockStart = i + 2
            i += 2
        } else {
            i += 1
        }
    }
    return try #require(nil as Int?, "the transcript has fewer than \(count) data events", sourceLocation: sourceLocation)
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
