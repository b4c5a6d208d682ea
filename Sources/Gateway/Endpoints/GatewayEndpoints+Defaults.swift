public import Logging

// MARK: - Calls with default options and no logger
//
// Overloads, for the reason given in ChatGateway+Defaults.swift: a defaulted method named like the requirement
// would silently become its default implementation.

extension EmbeddingsGateway {
    /// Embeds one text or a batch with `options` and no logger.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings; the defaults when omitted.
    /// - Returns: One vector per input text, in input order.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func embeddings(_ request: EmbeddingsRequest, options: GatewayRequestOptions = .init()) async throws
        -> EmbeddingsResponse
    {
        try await embeddings(request, options: options, logger: nil)
    }

    /// Embeds one text or a batch with the default options, logging to `logger`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: One vector per input text, in input order.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func embeddings(_ request: EmbeddingsRequest, logger: Logger?) async throws -> EmbeddingsResponse {
        try await embeddings(request, options: GatewayRequestOptions(), logger: logger)
    }
}

extension ImageGateway {
    /// Generates images with `options` and no logger.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings; the defaults when omitted.
    /// - Returns: The images (URLs or base64).
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func generateImages(_ request: ImageGenerationRequest, options: GatewayRequestOptions = .init()) async throws
        -> ImageGenerationResponse
    {
        try await generateImages(request, options: options, logger: nil)
    }

    /// Generates images with the default options, logging to `logger`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The images (URLs or base64).
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func generateImages(_ request: ImageGenerationRequest, logger: Logger?) async throws -> ImageGenerationResponse {
        try await generateImages(request, options: GatewayRequestOptions(), logger: logger)
    }
}

extension ModelListing {
    /// Lists the gateway's models with `options` and no logger.
    /// - Parameter options: Timeout and per-request settings; the defaults when omitted.
    /// - Returns: The models.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func models(options: GatewayRequestOptions = .init()) async throws -> ModelList {
        try await models(options: options, logger: nil)
    }

    /// Lists the gateway's models with the default options, logging to `logger`.
    /// - Parameter logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The models.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    public func models(logger: Logger?) async throws -> ModelList {
        try await models(options: GatewayRequestOptions(), logger: logger)
    }
}
