public import Logging

/// Something that answers OpenAI-format chat requests: the TARS HTTP client, any OpenAI-compatible endpoint,
/// a replay's simulated provider, or a scripted test double.
///
/// The router depends only on this protocol, so a sidecar or another transport fits without changing it.
public protocol ChatGateway: Sendable {
    /// Sends a chat request and returns the whole reply.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The reply, with usage when the provider reports it.
    /// - Throws: ``GatewayError`` for provider, transport and decoding failures; `CancellationError` when cancelled.
    func complete(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatResponse

    /// Sends a chat request with `stream: true` and returns the chunks as they arrive.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The chunk stream; the final chunk carries usage when the provider reports it.
    /// - Throws: ``GatewayError`` when the request fails before the first chunk.
    /// - Important: Iterate the stream to its end or stop iterating; either frees the connection.
    func stream(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatCompletionStream
}

/// Per-request settings for a gateway call.
public struct GatewayRequestOptions: Sendable, Hashable {
    /// The most time the whole call may take, retries included.
    public var timeout: Duration
    /// A request id sent as `X-Request-ID` (the router uses the ledger's request id).
    public var requestID: String?
    /// Further headers to send (never logged).
    public var headers: [String: String]

    /// Creates options.
    /// - Parameters:
    ///   - timeout: The most time the whole call may take, retries included (a timeout beyond about 100 years is
    ///     cut to that).
    ///   - requestID: A request id sent as `X-Request-ID`.
    ///   - headers: Further headers to send.
    public init(timeout: Duration = .seconds(120), requestID: String? = nil, headers: [String: String] = [:]) {
        self.timeout = timeout
        self.requestID = requestID
        self.headers = headers
    }
}

/// The chunks of a streamed chat completion, as they arrive.
public struct ChatCompletionStream: AsyncSequence, Sendable {
    /// A chunk.
    public typealias Element = ChatCompletionChunk
    /// The error a stream fails with (``GatewayError`` or `CancellationError`).
    public typealias Failure = any Error

    private let base: AsyncThrowingStream<ChatCompletionChunk, any Error>

    /// Wraps a stream of chunks.
    /// - Parameter base: The chunks.
    public init(_ base: AsyncThrowingStream<ChatCompletionChunk, any Error>) { self.base = base }

    /// A stream of fixed chunks (tests, simulations).
    /// - Parameters:
    ///   - chunks: The chunks to yield.
    ///   - failure: An error to end with after the chunks, if any.
    public init(chunks: [ChatCompletionChunk], failure: (any Error)? = nil) {
        self.base = AsyncThrowingStream { c in
            for chunk in chunks { c.yield(chunk) }
            c.finish(throwing: failure)
        }
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ChatCompletionChunk, any Error>.AsyncIterator
        /// The next chunk, or `nil` at the end.
        /// - Throws: The stream's error; `CancellationError` when the stream ends because the consuming task was
        ///   cancelled (`AsyncThrowingStream` ends quietly then, which would pass a cut stream off as a whole one).
        public mutating func next() async throws -> ChatCompletionChunk? {
            guard let chunk = try await base.next() else {
                try Task.checkCancellation()
                return nil
            }
            return chunk
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
}
