import AsyncHTTPClient
import Foundation
public import Gateway
public import Logging

// MARK: - Embeddings, images, models

extension GatewayClient: EmbeddingsGateway, ImageGateway, ModelListing {
    /// Sends `POST /embeddings`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: The call's deadline (retries included), request id and extra headers.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: One vector per input text, in input order.
    /// - Throws: ``GatewayError`` (`.invalidResponse` when the reply has no `data`); `CancellationError`.
    public func embeddings(_ request: EmbeddingsRequest, options: GatewayRequestOptions, logger: Logger?) async throws
        -> EmbeddingsResponse
    {
        let call = Call(method: .POST, path: "/embeddings", body: try encode(request), model: request.model)
        return try await perform(call, options: options, logger: logger) { response, context in
            try decode(EmbeddingsResponse.self, from: try await collect(response.body, context), context, required: "data")
                .redacted(by: context.redactor)
        }
    }

    /// Sends `POST /images/generations`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: The call's deadline (retries included), request id and extra headers.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The images.
    /// - Throws: ``GatewayError`` (`.invalidResponse` when the reply has no `data`); `CancellationError`.
    public func generateImages(_ request: ImageGenerationRequest, options: GatewayRequestOptions, logger: Logger?) async throws
        -> ImageGenerationResponse
    {
        let call = Call(method: .POST, path: "/images/generations", body: try encode(request), model: request.model)
        return try await perform(call, options: options, logger: logger) { response, context in
            try decode(ImageGenerationResponse.self, from: try await collect(response.body, context), context, required: "data")
        }
    }

    /// Sends `GET /models`.
    /// - Parameters:
    ///   - options: The call's deadline (retries included), request id and extra headers.
    ///   - logger: Where to log (debug/trace only); `nil` is silent.
    /// - Returns: The gateway's models, ids and owners redacted of the key.
    /// - Throws: ``GatewayError``; `CancellationError`.
    public func models(options: GatewayRequestOptions, logger: Logger?) async throws -> ModelList {
        let call = Call(method: .GET, path: "/models", body: nil, model: nil)
        return try await perform(call, options: options, logger: logger) { response, context in
            try decode(ModelList.self, from: try await collect(response.body, context), context, required: "data")
                .redacted(by: context.redactor)
        }
    }
}
