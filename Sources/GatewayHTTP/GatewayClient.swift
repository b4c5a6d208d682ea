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
///     try await client.complete(ChatRequest(model: "gpt-4o-mini", messages: [.user("Hi")]))
/// }
/// ```
///
/// ## Time
///
/// Retry delays (backoff, Retry-After) and the deadlines the client computes (the call's
/// ``Gateway/GatewayRequestOptions/timeout``, ``Configuration/attemptTimeout``, body and stream reads) follow the
/// clock passed to ``init(configuration:clock:logger:)``: the real `ContinuousClock` by default, a manual clock in
/// tests. AsyncHTTPClient's own timeouts (connect, read, and a deadline slightly after the attempt's) run on NIO's
/// event loop in real time and stay as a backstop.
///
/// - Important: A client made with ``init(configuration:clock:logger:)`` must be shut down with ``shutdown()``
///   before it is released; ``withGatewayClient(configuration:clock:logger:isolation:_:)`` does it for you.
public final class GatewayClient: Sendable {
    /// The settings the client was made with.
    public let configuration: Configuration
    let http: HTTPClient
    /// The clock of retry delays and deadlines.
    let clock: CallClock
    /// Removes the key (and credentials in ``Configuration/extraHeaders``) from every piece of provider text the
    /// client hands back: errors, request ids, model ids, response ids.
    let redactor: SecretRedactor
    /// ``Configuration/baseURL`` checked once, at creation (a call that finds it unusable fails with this error).
    let baseURL: Result<String, any Error>

    /// Creates a client. Nothing is sent until a call is made.
    /// - Parameters:
    ///   - configuration: Endpoint, key, timeouts, retries and limits.
    ///   - clock: The clock that retry delays and the client's deadlines follow; the real `ContinuousClock` by
    ///     default. AsyncHTTPClient's connect and read timeouts, and its real-time backstop for each attempt, do
    ///     not follow it.
    ///   - logger: Reserved for background activity (debug/trace only); AsyncHTTPClient's own logs stay off
    ///     because they may carry URLs and headers. `nil` is silent.
    /// - Important: Call ``shutdown()`` when done.
    public init(configuration: Configuration, clock: any Clock<Duration> = ContinuousClock(), logger: Logger? = nil) {
        self.configuration = configuration
        self.clock = CallClock(clock)
        self.redactor = Self.redactor(for: configuration)
        self.baseURL = Result { try configuration.validatedBaseURL() }
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

    /// The redactor for a configuration's secrets: the API key, and the values of extra headers whose names
    /// suggest a credential (`…key…`, `…token…`, `…secret…`, `…auth…`).
    static func redactor(for configuration: Configuration) -> SecretRedactor {
        var secrets = configuration.apiKey.map { [$0] } ?? []
        for (name, value) in configuration.extraHeaders {
            let n = name.lowercased()
            if ["key", "token", "secret", "auth"].contains(where: n.contains) { secrets.append(value) }
        }
        return SecretRedactor(secrets: secrets)
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
///   - clock: The clock that retry delays and the client's deadlines follow; the real `ContinuousClock` by default.
///   - logger: Where the client logs background activity (debug/trace only); `nil` is silent.
///   - isolation: The caller's actor isolation (inferred).
///   - body: The work to do with the client.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, or an error from shutting down.
public func withGatewayClient<Result>(
    configuration: GatewayClient.Configuration, clock: any Clock<Duration> = ContinuousClock(), logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (GatewayClient) async throws -> Result
) async throws -> Result {
    let client = GatewayClient(configuration: configuration, clock: clock, logger: logger)
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
