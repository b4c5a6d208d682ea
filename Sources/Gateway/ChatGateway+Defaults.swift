public import Logging

// MARK: - Calls with default options and no logger
//
// Overloads rather than default arguments on a method named like the requirement: such a method would become the
// requirement's default implementation, so a conformer that forgot `complete` would compile and recurse forever.

extension ChatGateway {
    /// Sends a chat request with `options` and no logger, and returns the whole reply.
    ///
    /// ```swift
    /// let reply = try await gateway.complete(ChatRequest(model: "gpt-4o-mini", messages: [.user("Hi")]))
    /// ```
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings; the defaults when omitted.
    /// - Returns: The reply, with usage when the provider reports it.
    /// - Throws: ``GatewayError`` for provider, transport and decoding failures; `CancellationError` when cancelled.
    public func complete(_ request: ChatRequest, options: GatewayRequestOptions = .init()) async throws -> ChatResponse {
        try await complete(request, options: options, logger: nil)
    }

    /// Sends a chat request with the default options, logging to `logger`, and returns the whole reply.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The reply, with usage when the provider reports it.
    /// - Throws: ``GatewayError`` for provider, transport and decoding failures; `CancellationError` when cancelled.
    public func complete(_ request: ChatRequest, logger: Logger?) async throws -> ChatResponse {
        try await complete(request, options: GatewayRequestOptions(), logger: logger)
    }

    /// Streams a chat request with `options` and no logger.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings; the defaults when omitted.
    /// - Returns: The chunk stream; the final chunk carries usage when the provider reports it.
    /// - Throws: ``GatewayError`` when the request fails before the first chunk.
    public func stream(_ request: ChatRequest, options: GatewayRequestOptions = .init()) async throws -> ChatCompletionStream {
        try await stream(request, options: options, logger: nil)
    }

    /// Streams a chat request with the default options, logging to `logger`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The chunk stream; the final chunk carries usage when the provider reports it.
    /// - Throws: ``GatewayError`` when the request fails before the first chunk.
    public func stream(_ request: ChatRequest, logger: Logger?) async throws -> ChatCompletionStream {
        try await stream(request, options: GatewayRequestOptions(), logger: logger)
    }
}
