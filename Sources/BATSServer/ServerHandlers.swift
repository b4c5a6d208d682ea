import BATS
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import Logging
import ModelSelection
import NIOCore
import SpendLedger

/// The request handlers of ``BATSServer``, and what they share: authentication, body limits, error replies.
struct ServerHandlers: Sendable {
    let server: BATSServer

    var router: BATS.Router { server.router }
    var selector: ModelSelector { server.router.selector }
    var logger: Logger { server.logger }

    func register(on r: Hummingbird.Router<ServerRequestContext>) {
        r.post("/v1/chat/completions") { req, ctx in await self.endpoint("chat", req, ctx, self.chat) }
        r.post("/v1/embeddings") { req, ctx in await self.endpoint("embeddings", req, ctx, self.embeddings) }
        r.post("/v1/images/generations") { req, ctx in await self.endpoint("images", req, ctx, self.images) }
        r.get("/v1/models") { req, ctx in await self.endpoint("models", req, ctx, self.models) }
        r.get("/v1/bats/budget") { req, ctx in await self.endpoint("budget", req, ctx, self.operations(self.budget)) }
        r.get("/health") { req, ctx in await self.endpoint("health", req, ctx) { _, _, _ in await self.health() } }
        r.get("/health/live") { req, ctx in await self.endpoint("health", req, ctx) { _, _, _ in Self.text("ok\n") } }
        r.get("/metrics") { req, ctx in await self.endpoint("metrics", req, ctx, self.operations(self.metricsText)) }
        r.get("/dashboard") { req, ctx in await self.endpoint("dashboard", req, ctx, self.operations(self.dashboard)) }
        r.get("/dashboard/chart.svg") { req, ctx in await self.endpoint("dashboard", req, ctx, self.operations(self.chart)) }
    }

    /// One request: a request id, the handler, an error reply for anything it throws, and the request counter.
    func endpoint(
        _ name: String, _ request: Request, _ context: ServerRequestContext,
        _ body: @escaping @Sendable (Request, ServerRequestContext, String) async throws -> Response
    ) async -> Response {
        let requestID = Self.requestID(request)
        var response: Response
        do {
            response = try await body(request, context, requestID)
        } catch {
            response = reply(to: error, requestID: requestID)
        }
        if response.headers[ServerHeaders.requestID] == nil { response.headers[ServerHeaders.requestID] = requestID }
        server.metrics.request(endpoint: name, status: Int(response.status.code))
        return response
    }

    /// The caller's `X-Request-ID` when it is short printable ASCII, otherwise a new one.
    static func requestID(_ request: Request) -> String {
        if let v = request.headers[ServerHeaders.callerRequestID], !v.isEmpty, v.utf8.count <= 128,
            v.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 })
        {
            return v
        }
        return "bats-" + UUID().uuidString.lowercased()
    }

    // MARK: - Authentication

    /// The caller, when keys are configured: the key in `Authorization: Bearer …` must match one.
    /// Without keys, every (loopback) caller is served, and `nil` is returned.
    func authenticate(_ request: Request) throws(OpenAIError) -> Caller? {
        guard let authenticate = server.configuration.authenticator else { return nil }
        guard let header = request.headers[.authorization] else {
            throw .unauthorized("You didn't provide an API key. Send a BATS caller key as 'Authorization: Bearer KEY'.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("The Authorization header must be 'Bearer KEY' with a BATS caller key.")
        }
        guard let caller = authenticate(String(parts[1]).trimmed) else {
            throw .unauthorized("Incorrect API key provided. Use a BATS caller key (the upstream's key is not accepted here).")
        }
        return caller
    }

    /// Operations endpoints (budget, metrics, dashboard): open to loopback peers; others need a caller key when keys are
    /// configured.
    func operations(
        _ body: @escaping @Sendable (Request, ServerRequestContext, String) async throws -> Response
    ) -> @Sendable (Request, ServerRequestContext, String) async throws -> Response {
        { request, context, id in
            if !context.fromLoopback { _ = try authenticate(request) }
            return try await body(request, context, id)
        }
    }

    // MARK: - Bodies

    /// The request body, up to the configured limit (413 beyond it).
    func body(_ request: Request) async throws -> [UInt8] {
        let limit = server.configuration.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw OpenAIError.tooLarge(limit: limit) }
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            throw OpenAIError.tooLarge(limit: limit)
        }
    }

    // MARK: - Replies

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func text(_ s: String, type: String = "text/plain; charset=utf-8", status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    /// The error reply for whatever a handler threw.
    func reply(to error: any Error, requestID: String) -> Response {
        let e = openAIError(error)
        if e.status.code >= 500 {
            logger.warning("request failed", metadata: ["request": "\(requestID)", "status": "\(e.status.code)", "error": "\(e.message)"])
        }
        return e.response(requestID: requestID)
    }

    /// The OpenAI-style error of a failure: budget refusals 429, upstream errors with their status, ledger errors 503.
    func openAIError(_ error: any Error) -> OpenAIError {
        switch error {
        case let e as OpenAIError:
            return e
        case let e as RoutingError:
            return routingError(e)
        case let e as LedgerError:
            return OpenAIError(status: .serviceUnavailable, message: "the spend ledger is unavailable: \(e)", type: "server_error", code: "ledger_unavailable")
        case is CancellationError:
            return OpenAIError(status: .serviceUnavailable, message: "the call was cancelled (the server is shutting down)", type: "server_error", code: "cancelled")
        default:
            return OpenAIError(status: .internalServerError, message: "internal error: \(error)", type: "server_error")
        }
    }

    func routingError(_ e: RoutingError) -> OpenAIError {
        switch e.kind {
        case .budgetExhausted:
            return BudgetRefusal.error(e, calendar: router.ledger.calendar, now: router.currentDate)
        case .invalidTask:
            return .invalidRequest(e.detail, code: "invalid_task")
        case .unsupportedEndpoint:
            return OpenAIError(status: .notImplemented, message: e.detail, type: "invalid_request_error", code: "unsupported_endpoint")
        default:
            guard let g = e.gatewayError else {
                return OpenAIError(status: .badGateway, message: e.description, type: "upstream_error", code: e.kind.rawValue)
            }
            let status: HTTPResponse.Status =
                g.status.map { HTTPResponse.Status(code: $0) } ?? (g.kind == .timeout ? .gatewayTimeout : .badGateway)
            var o = OpenAIError(
                status: status, message: "upstream: " + (g.providerMessage ?? g.description), type: g.providerType ?? "upstream_error",
                code: g.providerCode ?? g.kind.rawValue)
            o.fields["bats_routing"] = .string(e.kind.rawValue)
            o.fields["bats_attempts"] = .array(e.attempts.map { .string($0.model.rawValue) })
            if let body = g.bodyExcerpt { o.fields["upstream_body"] = .string(body) }
            if let r = g.retryAfter { o.headers[.retryAfter] = "\(max(1, r.components.seconds))" }
            return o
        }
    }
}
