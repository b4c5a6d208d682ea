import AsyncHTTPClient
import Foundation
import Gateway
import Logging
import NIOCore
import NIOHTTP1

// MARK: - Calls, attempts and retries

extension GatewayClient {
    /// One logical call: what to send and where.
    struct Call: Sendable {
        var method: HTTPMethod
        var path: String
        var body: [UInt8]?
        var model: String?
        var streaming = false
    }

    /// What an attempt's response handler knows about the call.
    struct AttemptContext: Sendable {
        var call: Call
        var attempt: Int
        /// Removes the key from provider text.
        var redactor: SecretRedactor
        /// The clock of the call's deadline.
        var clock: CallClock
        /// When the call must be over (every body and stream read is bounded by it).
        var deadline: CallClock.Instant
        /// The call's timeout, as asked (for messages).
        var timeout: Duration
        var status: Int
        var headers: [String: String]
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    func encode(_ value: some Encodable) throws -> [UInt8] {
        do {
            return Array(try Self.encoder.encode(value))
        } catch {
            throw GatewayError(kind: .badRequest, detail: "the request could not be encoded as JSON")
        }
    }

    /// Checks the configuration before any request: a key is set and the base URL is usable
    /// (``Configuration/validate()``).
    func validatedKeyAndURL(for call: Call) throws -> (key: String, url: String) {
        guard let key = configuration.apiKey, !key.isEmpty else {
            throw GatewayError(
                kind: .missingAPIKey, model: call.model,
                detail: "no API key: set LLM_GATEWAY_API_KEY, TARS_API_KEY or TETRATE_API_KEY, or pass one explicitly"
            )
        }
        do {
            return (key, try baseURL.get() + call.path)
        } catch var e as GatewayError {
            e.model = call.model
            throw e.redacting(redactor)
        }
    }

    func makeRequest(_ call: Call, url: String, key: String, options: GatewayRequestOptions) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = call.method
        for (name, value) in configuration.extraHeaders where name.lowercased() != "authorization" {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        for (name, value) in options.headers where name.lowercased() != "authorization" {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(key)")
        request.headers.replaceOrAdd(name: "User-Agent", value: configuration.userAgent)
        request.headers.replaceOrAdd(name: "Accept", value: call.streaming ? "text/event-stream" : "application/json")
        if let id = options.requestID { request.headers.replaceOrAdd(name: "X-Request-ID", value: id) }
        if let body = call.body {
            request.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        return request
    }

    /// The longest call timeout honoured; longer ones (`.seconds(Int64.max)`) are cut to it, so that no deadline
    /// arithmetic can overflow.
    static let longestTimeout: Duration = .seconds(100 * 365 * 86_400)

    /// How much later than the client's own deadline for an attempt AsyncHTTPClient's real-time deadline is set:
    /// it is a backstop, and the client's deadline (on its injected clock) is the one meant to fire.
    static let backstopGrace: Duration = .seconds(1)

    /// Runs attempts of `call` until one succeeds, a failure is not retryable, attempts run out, or the next
    /// delay would pass the call's deadline. `handle` runs on each 2xx response; what it throws is retried
    /// when retryable, like transport failures.
    ///
    /// Deadlines and retry delays follow the client's clock. Each attempt's wait for the response head is bounded
    /// by the call's deadline (or ``Configuration/attemptTimeout``, when sooner) on that clock, and by
    /// AsyncHTTPClient's deadline on NIO's real clock, set ``backstopGrace`` later, as a backstop.
    ///
    /// Every ``GatewayError`` thrown is redacted, and has ``GatewayError/providerAnswered`` set when any attempt
    /// of the call had received a 2xx head before failing.
    func perform<T: Sendable>(
        _ call: Call, options: GatewayRequestOptions, logger: Logger?,
        handle: (HTTPClientResponse, AttemptContext) async throws -> T
    ) async throws -> T {
        let (key, url) = try validatedKeyAndURL(for: call)
        let clock = self.clock
        let deadline = clock.now + min(options.timeout, Self.longestTimeout)
        let callExpiry = GatewayError(kind: .timeout, model: call.model, detail: "the call's deadline of \(options.timeout) passed")
        let policy = configuration.retryPolicy
        var attempt = 0
        // Whether an earlier attempt got a 2xx head and then failed: the provider may have billed it.
        var answered = false
        while true {
            attempt += 1
            try Task.checkCancellation()
            let now = clock.now
            guard now < deadline else {
                var e = callExpiry
                e.providerAnswered = answered
                throw e.redacting(redactor)
            }
            var attemptEnd = deadline
            var attemptExpiry = callExpiry
            if let t = configuration.attemptTimeout, now + t < deadline {
                attemptEnd = now + t
                attemptExpiry.detail = "the attempt timed out after \(t)"
            }
            let backstop = NIODeadline.now() + TimeAmount(now.duration(to: attemptEnd) + Self.backstopGrace)
            logger?.debug(
                "gateway request",
                metadata: [
                    "gateway.method": "\(call.method.rawValue)", "gateway.path": "\(call.path)",
                    "gateway.model": "\(call.model ?? "")", "gateway.attempt": "\(attempt)",
                ]
            )
            var answeredThisAttempt = false
            do {
                let request = makeRequest(call, url: url, key: key, options: options)
                let http = self.http
                let response = try await withDeadline(attemptEnd, on: clock, failing: attemptExpiry) {
                    try await http.execute(request, deadline: backstop)
                }
                let headers = Self.headerDictionary(response.headers)
                let context = AttemptContext(
                    call: call, attempt: attempt, redactor: redactor, clock: clock, deadline: deadline, timeout: options.timeout,
                    status: Int(response.status.code), headers: headers)
                logger?.trace(
                    "gateway response",
                    metadata: [
                        "gateway.status": "\(response.status.code)",
                        "gateway.request_id": "\(ProviderErrorMapper.requestID(in: headers, redactor: redactor) ?? "")",
                    ]
                )
                guard (200..<300).contains(response.status.code) else {
                    let limit = min(configuration.maxResponseBytes, 64 * 1024)
                    let body = try await context.withinDeadline { try await Self.readPrefix(of: response.body, limit: limit) }
                    throw ProviderErrorMapper.map(
                        status: Int(response.status.code), headers: headers, body: body, model: call.model, redactor: redactor
                    )
                }
                answeredThisAttempt = true
                return try await handle(response, context)
            } catch {
                let failure = Self.gatewayError(from: error, model: call.model, deadlinePassed: clock.now >= deadline)
                guard var gatewayError = failure as? GatewayError else { throw failure }
                answered = answered || answeredThisAttempt || gatewayError.providerAnswered
                gatewayError.providerAnswered = answered
                gatewayError = gatewayError.redacting(redactor)
                // An attempt the provider answered was billed: retrying would pay twice and record once. The router
                // charges it at its estimate and decides what comes next.
                guard gatewayError.isRetryable, gatewayError.kind != .streamInterrupted, !gatewayError.providerAnswered,
                    attempt < policy.maxAttempts
                else {
                    logger?.debug("gateway call failed", metadata: ["gateway.error": "\(gatewayError.kind)", "gateway.attempt": "\(attempt)"])
                    throw gatewayError
                }
                var delay = policy.backoff(beforeRetry: attempt, random: Double.random(in: 0..<1))
                if gatewayError.kind == .rateLimited, let asked = gatewayError.retryAfter {
                    guard asked <= policy.maxRetryAfter else { throw gatewayError }
                    delay = asked
                }
                let retryAt = clock.now + delay
                guard retryAt < deadline else { throw gatewayError }
                logger?.debug(
                    "gateway retry",
                    metadata: ["gateway.error": "\(gatewayError.kind)", "gateway.attempt": "\(attempt)", "gateway.delay": "\(delay)"]
                )
                try await clock.sleep(until: retryAt)
            }
        }
    }

    // MARK: - Bodies

    /// Collects a body up to `configuration.maxResponseBytes`.
    func collect(_ body: HTTPClientResponse.Body, _ context: AttemptContext) async throws -> [UInt8] {
        do {
            let limit = configuration.maxResponseBytes
            return try await context.withinDeadline {
                var buffer = try await body.collect(upTo: limit)
                return buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        } catch is NIOTooManyBytesError {
            throw GatewayError(
                kind: .responseTooLarge, status: context.status,
                requestID: ProviderErrorMapper.requestID(in: context.headers, redactor: context.redactor),
                model: context.call.model, detail: "the body is larger than \(configuration.maxResponseBytes) bytes",
                providerAnswered: true
            )
        }
    }

    /// Decodes a 2xx body, mapping failures to `.invalidResponse` (or to the provider's error when the body is
    /// an error envelope).
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], _ context: AttemptContext, required: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            let requestID = ProviderErrorMapper.requestID(in: context.headers, redactor: context.redactor)
            if let env = ProviderErrorMapper.envelope(in: bytes), env.message != nil || env.code != nil {
                var mapped = ProviderErrorMapper.map(
                    status: nil, headers: context.headers, body: bytes, model: context.call.model, redactor: context.redactor
                )
                mapped.providerAnswered = true
                mapped.status = context.status
                mapped.detail = "the provider answered HTTP \(context.status) with an error"
                throw mapped
            }
            var e = GatewayError(
                kind: .invalidResponse, status: context.status, requestID: requestID, model: context.call.model, providerAnswered: true)
            if case DecodingError.keyNotFound(let key, _) = error, key.stringValue == required {
                e.detail = "the response has no `\(required)`"
            } else if ProviderErrorMapper.envelope(in: bytes) == nil && (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) == nil {
                e.detail = bytes.isEmpty ? "the response body is empty" : "the response body is not JSON"
                if !bytes.isEmpty { e.bodyExcerpt = ProviderErrorMapper.excerpt(bytes, redactor: context.redactor) }
            } else {
                e.detail = "the response JSON does not have the expected shape (\(Self.describe(error)))"
            }
            throw e.redacting(context.redactor)
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c): "missing `\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))`"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            "unexpected value at `\(c.codingPath.map(\.stringValue).joined(separator: "."))`"
        case DecodingError.dataCorrupted(let c): "corrupted data at `\(c.codingPath.map(\.stringValue).joined(separator: "."))`"
        default: "undecodable"
        }
    }

    /// Reads at most `limit` bytes of a body (for error replies), then stops.
    static func readPrefix(of body: HTTPClientResponse.Body, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await var buffer in body {
                let take = min(buffer.readableBytes, limit - bytes.count)
                bytes += buffer.readBytes(length: take) ?? []
                if bytes.count >= limit { break }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A broken error body still says enough: keep what arrived.
        }
        return bytes
    }

    static func headerDictionary(_ headers: HTTPHeaders) -> [String: String] {
        var d: [String: String] = [:]
        for (name, value) in headers where d[name.lowercased()] == nil { d[name.lowercased()] = value }
        return d
    }

    // MARK: - Transport errors

    /// Maps any failure to a ``GatewayError``, or passes `CancellationError` through.
    static func gatewayError(from error: any Error, model: String?, deadlinePassed: Bool) -> any Error {
        if let e = error as? GatewayError { return e }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded:
                return GatewayError(
                    kind: .timeout, model: model, detail: deadlinePassed ? "the call's deadline passed" : "the attempt timed out"
                )
            case .readTimeout, .connectTimeout, .writeTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout:
                return GatewayError(kind: .timeout, model: model, detail: "transport timeout (\(e.shortName))")
            case .cancelled:
                return CancellationError()
            case .remoteConnectionClosed, .bodyLengthMismatch:
                return GatewayError(kind: .connection, model: model, detail: "the connection closed early (\(e.shortName))")
            case .invalidURL, .emptyHost, .emptyScheme:
                return GatewayError(kind: .configuration, model: model, detail: "the base URL is not usable (\(e.shortName))")
            default:
                return GatewayError(kind: .connection, model: model, detail: "transport failure (\(e.shortName))")
            }
        }
        if error is NIOTooManyBytesError {
            return GatewayError(kind: .responseTooLarge, model: model, detail: "the body is larger than the limit")
        }
        let typeName = String(describing: type(of: error))
        if let io = error as? IOError {
            return GatewayError(kind: .connection, model: model, detail: "connection failed (errno \(io.errnoCode))")
        }
        return GatewayError(kind: .connection, model: model, detail: "connection failed (\(typeName))")
    }
}

extension HTTPClientError {
    /// A short, key-free name for the error.
    var shortName: String {
        let d = String(describing: self)
        return String(d.prefix(80))
    }
}
