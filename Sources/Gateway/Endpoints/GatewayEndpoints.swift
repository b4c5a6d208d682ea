public import Logging

/// Something that answers OpenAI-format embeddings requests (`POST /embeddings`).
public protocol EmbeddingsGateway: Sendable {
    /// Embeds one text or a batch.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: One vector per input text, in input order.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    func embeddings(_ request: EmbeddingsRequest, options: GatewayRequestOptions, logger: Logger?) async throws
        -> EmbeddingsResponse
}

/// Something that answers OpenAI-format image-generation requests (`POST /images/generations`).
public protocol ImageGateway: Sendable {
    /// Generates images.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: Timeout and per-request settings.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The images (URLs or base64).
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    func generateImages(_ request: ImageGenerationRequest, options: GatewayRequestOptions, logger: Logger?) async throws
        -> ImageGenerationResponse
}

/// Something that lists the models a gateway offers (`GET /models`).
public protocol ModelListing: Sendable {
    /// Lists the gateway's models.
    /// - Parameters:
    ///   - options: Timeout and per-request settings.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The models.
    /// - Throws: ``GatewayError``; `CancellationError` when cancelled.
    func models(options: GatewayRequestOptions, logger: Logger?) async throws -> ModelList
}
