public import Gateway
public import Logging
import Synchronization

/// An in-process ``Gateway/ChatGateway`` whose replies are scripted per call, for tests of the router.
///
/// It records every request it receives. The default script answers every model with a short text and usage
/// equal to the request's `max_tokens`, so settled costs equal the reserved estimates when the prompt size is given.
public final class ScriptedGateway: ChatGateway {
    /// What to do with one request.
    public typealias Handler = @Sendable (ChatRequest) async throws -> ChatResponse

    private let handler: Handler
    private let received = Mutex<[ChatRequest]>([])

    /// Creates a gateway that answers with `handler`.
    public init(_ handler: @escaping Handler) { self.handler = handler }

    /// A gateway that answers every request with `text` and the usage `usage(request)`.
    public convenience init(text: String = "ok", usage: @escaping @Sendable (ChatRequest) -> Usage?) {
        self.init { request in
            ChatResponse(
                id: "chatcmpl-scripted", model: request.model,
                choices: [.init(message: .assistant(text))], usage: usage(request))
        }
    }

    /// Every request received, in order.
    public var requests: [ChatRequest] { received.withLock { $0 } }

    /// Answers through the script.
    public func complete(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatResponse {
        received.withLock { $0.append(request) }
        try Task.checkCancellation()
        return try await handler(request)
    }

    /// Answers through the script, then splits the reply's text into one chunk per word, with usage last.
    public func stream(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatCompletionStream {
        received.withLock { $0.append(request) }
        let response = try await handler(request)
        var chunks: [ChatCompletionChunk] = [
            .init(id: response.id, model: response.model, choices: [.init(delta: .init(role: .assistant))])
        ]
        for word in response.text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map({ $0.offset == 0 ? String($0.element) : " " + $0.element }) {
            chunks.append(.init(id: response.id, model: response.model, choices: [.init(delta: .init(content: word))]))
        }
        chunks.append(.init(id: response.id, model: response.model, choices: [.init(delta: .init(), finishReason: "stop")]))
        if let usage = response.usage { chunks.append(.init(id: response.id, model: response.model, choices: [], usage: usage)) }
        return ChatCompletionStream(chunks: chunks)
    }
}
