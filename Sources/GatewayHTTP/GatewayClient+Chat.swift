import AsyncHTTPClient
import Foundation
public import Gateway
public import Logging

// MARK: - ChatGateway

extension GatewayClient: ChatGateway {
    /// Sends `POST /chat/completions` and returns the whole reply.
    ///
    /// `stream` and `stream_options` are cleared. The body is collected up to
    /// ``Configuration/maxResponseBytes``; failures are retried by the ``Configuration/retryPolicy`` within
    /// `options.timeout`.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: The call's deadline (retries included), request id and extra headers.
    ///   - logger: Where to log (debug/trace only, never the key); `nil` is silent.
    /// - Returns: The reply, with usage when the provider reports it (check ``Usage/problems``); its `id` and
    ///   `model` are redacted of the key.
    /// - Throws: ``GatewayError`` (see ``GatewayError/Kind``; ``GatewayError/providerAnswered`` when the failure came
    ///   after a 2xx head); `CancellationError` when cancelled.
    public func complete(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatResponse {
        var request = request
        request.stream = nil
        request.streamOptions = nil
        let call = Call(method: .POST, path: "/chat/completions", body: try encode(request), model: request.model)
        return try await perform(call, options: options, logger: logger) { response, context in
            let bytes = try await collect(response.body, context)
            return try decode(ChatResponse.self, from: bytes, context, required: "choices").redacted(by: context.redactor)
        }
    }

    /// Sends `POST /chat/completions` with `stream: true` and `stream_options: {"include_usage": true}`, and
    /// returns the chunks as they arrive, parsed incrementally from the server-sent events.
    ///
    /// The call is retried only until the response head arrives. The stream then:
    /// - ends normally after `data: [DONE]` and the end of the body;
    /// - throws ``GatewayError/Kind/streamInterrupted`` when the body ends without `[DONE]` or is cut mid-event;
    /// - throws the provider's error when one arrives inside the stream;
    /// - throws ``GatewayError/Kind/timeout`` when `options.timeout` passes (it bounds the whole stream).
    ///
    /// Every error the stream throws has ``GatewayError/providerAnswered`` set: its 2xx head had arrived. Chunk
    /// `id`s and `model`s are redacted of the key.
    ///
    /// Feed the chunks to a ``ChatStreamAccumulator`` to get the final ``ChatResponse``.
    /// - Parameters:
    ///   - request: The request; `model` is the gateway's model id.
    ///   - options: The call's deadline (the whole stream included), request id and extra headers.
    ///   - logger: Where to log (debug/trace only, never the key); `nil` is silent.
    /// - Returns: The chunk stream.
    /// - Throws: ``GatewayError`` when the call fails before the first chunk; `CancellationError` when cancelled.
    /// - Important: Stopping the iteration, dropping the stream or cancelling the consuming task cancels the
    ///   HTTP request.
    public func stream(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws
        -> ChatCompletionStream
    {
        var request = request
        request.stream = true
        request.streamOptions = .object(["include_usage": .bool(true)])
        let call = Call(method: .POST, path: "/chat/completions", body: try encode(request), model: request.model, streaming: true)
        let maxEventBytes = configuration.maxResponseBytes
        let reader = try await perform(call, options: options, logger: logger) { response, context -> SSEChunkReader in
            let contentType = context.headers["content-type"]?.lowercased() ?? ""
            if contentType.contains("application/json") {
                // The provider ignored `stream: true`: replay its whole reply as one chunk.
                let bytes = try await collect(response.body, context)
                let reply = try decode(ChatResponse.self, from: bytes, context, required: "choices").redacted(by: context.redactor)
                return SSEChunkReader(chunks: [ChatCompletionChunk(wholeReply: reply)], context: context)
            }
            return SSEChunkReader(body: response.body, context: context, maxEventBytes: maxEventBytes, logger: logger)
        }
        return ChatCompletionStream(AsyncThrowingStream(unfolding: { try await reader.next() }))
    }
}

extension ChatCompletionChunk {
    /// One chunk that carries a whole reply.
    init(wholeReply reply: ChatResponse) {
        self.init(
            id: reply.id, model: reply.model,
            choices: reply.choices.map { choice in
                let m = choice.message
                let calls = m.toolCalls?.enumerated().map { i, call in
                    Delta.ToolCallDelta(
                        index: i, id: call.id, type: call.type, function: .init(name: call.function.name, arguments: call.function.arguments)
                    )
                }
                return Choice(
                    index: choice.index,
                    delta: Delta(role: m.role, content: m.content?.text, reasoningContent: m.reasoningContent, toolCalls: calls),
                    finishReason: choice.finishReason
                )
            },
            usage: reply.usage
        )
    }
}
