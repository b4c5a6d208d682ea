import AsyncHTTPClient
import Foundation
public import Gateway
public import Logging
import NIOCore
import NIOHTTP1

/// The OpenAI-compatible HTTP gateway client: Tetrate Agent Router Service (TARS) by default, or any
/// compatible endpoint (a LiteLLM proxy, vLLM, OpenRouter), over AsyncHTTPClient with connection reuse.
///
/// ```swift
/// let configuration = GatewayClient.Configuration.fromEnvironment(ProcessInfo.processInfo.environment)
/// let reply = try await withGatewayClient(configuration: configuration) { client in
///     try await client.complete(ChatRequest(model: "gpt-4o-mini", messages: [.user("Hi")]), options: .init(), logger: nil)
/// }
/// ```
///
/// - Important: A client made with ``init(configuration:logger:)`` must be shut down with ``shutdown()`` before it
///   is released; ``withGatewayClient(configuration:logger:_:)`` does it for you.
public final class GatewayClient: Sendable {
    /// The settings the client was made with.
    public let configuration: Configuration
    let http: HTTPClient

    /// Creates a client. Nothing is sent until a call is made.
    /// - Parameters:
    ///   - configuration: Endpoint, key, timeouts, retries and limits.
    ///   - logger: Reserved for background activity (debug/trace only); AsyncHTTPClient's own logs stay off
    ///     because they may carry URLs and headers. `nil` is silent.
    /// - Important: Call ``shutdown()`` when done.
    public init(configuration: Configuration, logger: Logger? = nil) {
        self.configuration = configuration
        var http = HTTPClient.Configuration(
            timeout: .init(
                connect: TimeAmount(configuration.connectTimeout),
                read: TimeAmount(configuration.readTimeout)
            )
        )
        http.httpVersion = .automatic
        http.redirectConfiguration = .follow(max: 3, allowCycles: false)
        // AsyncHTTPClient's own logs are left silent: they may carry URLs and headers.
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
    }

    /// Shuts the client down, closing its connections.
    /// - Throws: When the client was already shut down.
    public func shutdown() async throws {
        try await http.shutdown()
    }
}

/// Creates a ``GatewayClient``, runs `body` with it, and shuts it down afterwards, whether `body` throws or not.
/// - Parameters:
///   - configuration: Endpoint, key, timeouts, retries and limits.
///   - logger: Where the client logs background activity (debug/trace only); `nil` is silent.
///   - isolation: The caller's actor isolation (inferred).
///   - body: The work to do with the client.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, or an error from shutting down.
public func withGatewayClient<Result>(
    configuration: GatewayClient.Configuration, logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GatewayClient) async throws -> Result
) async throws -> Result {
    let client = GatewayClient(configuration: configuration, logger: logger)
    let result: Result
    do {
        result = try await body(client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
    return result
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (s, atto) = duration.components
        self = .nanoseconds(s * 1_000_000_000 + atto / 1_000_000_000)
    }
}
