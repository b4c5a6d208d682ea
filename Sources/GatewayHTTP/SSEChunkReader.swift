import AsyncHTTPClient
import Foundation
import Gateway
import Logging
import NIOCore

/// Pulls a streamed chat completion from a response body: bytes → ``SSEParser`` → chunks.
///
/// It is driven by `AsyncThrowingStream(unfolding:)`, so it runs in the consumer's task: cancelling that task
/// cancels the body read (and with it the HTTP request), and dropping the stream releases the body, which
/// makes AsyncHTTPClient cancel the request. Calls are serialised by the stream (one consumer), hence
/// `@unchecked Sendable`.
final class SSEChunkReader: @unchecked Sendable {
    private var body: HTTPClientResponse.Body?
    private var iterator: IteratorBox<HTTPClientResponse.Body.AsyncIterator>?
    private var deferredError: (any Error)?
    private var parser = SSEParser()
    private var pending: [ChatCompletionChunk] = []
    private var head = 0
    private var finished = false
    private var sawDone = false
    private var bytesSinceEvent = 0
    private var chunkCount = 0
    private let decoder = JSONDecoder()
    private let context: GatewayClient.AttemptContext
    private let maxEventBytes: Int
    private let logger: Logger?

    init(body: HTTPClientResponse.Body, context: GatewayClient.AttemptContext, maxEventBytes: Int, logger: Logger?) {
        self.body = body
        self.context = context
        self.maxEventBytes = maxEventBytes
        self.logger = logger
    }

    /// A reader that replays fixed chunks (a provider that answered a streamed request with plain JSON).
    init(chunks: [ChatCompletionChunk], context: GatewayClient.AttemptContext) {
        self.pending = chunks
        self.finished = true
        self.sawDone = true
        self.context = context
        self.maxEventBytes = 0
        self.logger = nil
    }

    /// The next chunk, `nil` after `[DONE]` and the end of the body. Its `id` and `model` are redacted.
    /// - Throws: ``GatewayError`` (`.streamInterrupted` when the body ends without `[DONE]` or mid-event,
    ///   `.responseTooLarge`, `.invalidResponse`, `.timeout`, or the provider's error sent inside the stream), always
    ///   with ``GatewayError/providerAnswered`` set (the 2xx head had arrived) and redacted;
    ///   `CancellationError` when the consuming task is cancelled.
    func next() async throws -> ChatCompletionChunk? {
        do {
            return try await nextChunk()?.redacted(by: context.redactor)
        } catch var e as GatewayError {
            e.providerAnswered = true
            throw e.redacting(context.redactor)
        }
    }

    private func nextChunk() async throws -> ChatCompletionChunk? {
        while true {
            if head < pending.count {
                let chunk = pending[head]
                head += 1
                if head == pending.count {
                    pending.removeAll(keepingCapacity: true)
                    head = 0
                }
                return chunk
            }
            if let error = deferredError {
                deferredError = nil
                throw error
            }
            if finished { return nil }
            if iterator == nil, let body {
                iterator = IteratorBox(body.makeAsyncIterator())
                self.body = nil
            }
            guard let box = iterator else { return nil }
            let buffer: ByteBuffer?
            do {
                buffer = try await context.withinDeadline { try await box.next() }
            } catch {
                finished = true
                iterator = nil
                throw interruption(from: error)
            }
            guard let buffer else {
                finished = true
                iterator = nil
                let cutMidEvent = parser.finish()
                if !sawDone {
                    throw streamInterrupted(
                        cutMidEvent ? "the stream was cut mid-event" : "the stream ended without [DONE]"
                    )
                }
                logger?.trace("gateway stream ended", metadata: ["gateway.chunks": "\(chunkCount)"])
                continue
            }
            bytesSinceEvent += buffer.readableBytes
            do {
                try buffer.withUnsafeReadableBytes { raw in
                    try parser.parse(raw) { event in try handle(event) }
                }
            } catch {
                // Chunks completed before the failure are delivered first.
                finished = true
                iterator = nil
                deferredError = error
                continue
            }
            if bytesSinceEvent > maxEventBytes {
                finished = true
                iterator = nil
                throw GatewayError(
                    kind: .responseTooLarge, status: context.status, requestID: requestID,
                    model: context.call.model, detail: "a server-sent event is larger than \(maxEventBytes) bytes"
                )
            }
        }
    }

    private func handle(_ event: SSEEvent) throws {
        bytesSinceEvent = 0
        if sawDone { return }
        if event.isDone {
            sawDone = true
            return
        }
        let bytes = Array(event.data.utf8)
        if event.type == "error" || (event.data.contains("\"error\"") && !event.data.contains("\"choices\"")) {
            if let env = ProviderErrorMapper.envelope(in: bytes), env.message != nil || env.code != nil {
                var e = ProviderErrorMapper.map(
                    status: nil, headers: context.headers, body: bytes, model: context.call.model, redactor: context.redactor
                )
                if e.kind == .invalidResponse { e.kind = .streamInterrupted }
                e.detail = "the provider sent an error inside the stream"
                throw e
            }
        }
        do {
            let chunk = try decoder.decode(ChatCompletionChunk.self, from: Data(bytes))
            chunkCount += 1
            pending.append(chunk)
        } catch {
            throw GatewayError(
                kind: .invalidResponse, status: context.status, requestID: requestID,
                bodyExcerpt: ProviderErrorMapper.excerpt(bytes, redactor: context.redactor), model: context.call.model,
                detail: "a stream event is not a chat.completion.chunk (\(GatewayClient.describe(error)))"
            )
        }
    }

    private func interruption(from error: any Error) -> any Error {
        let mapped = GatewayClient.gatewayError(from: error, model: context.call.model, deadlinePassed: false)
        guard var e = mapped as? GatewayError else { return mapped }
        if e.kind == .connection {
            e.kind = .streamInterrupted
            e.detail = "the connection broke mid-stream (\(e.detail ?? "closed"))"
        } else if e.kind == .timeout {
            e.detail = "the stream timed out (\(e.detail ?? ""))"
        }
        e.status = context.status
        e.requestID = requestID
        return e
    }

    /// The response's request id, redacted.
    private var requestID: String? { ProviderErrorMapper.requestID(in: context.headers, redactor: context.redactor) }

    private func streamInterrupted(_ detail: String) -> GatewayError {
        GatewayError(kind: .streamInterrupted, status: context.status, requestID: requestID, model: context.call.model, detail: detail)
    }
}
