/// A failed gateway call, with the context needed to act on it: status, the provider's error envelope,
/// request id, Retry-After and a short excerpt of a non-JSON body.
///
/// The description never contains the API key, the prompt or request headers.
public struct GatewayError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure it is.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The kind's name.
        public var rawValue: String
        /// Creates a kind.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// No API key was configured (raised before any request).
        public static let missingAPIKey = Kind(rawValue: "missing-api-key")
        /// 401/403: the key was refused. Not retried.
        public static let authentication = Kind(rawValue: "authentication")
        /// 402 or an insufficient-credit/quota error. Not retried.
        public static let insufficientCredit = Kind(rawValue: "insufficient-credit")
        /// 404 or an unknown model.
        public static let modelNotFound = Kind(rawValue: "model-not-found")
        /// 429: rate limited; retried honouring Retry-After.
        public static let rateLimited = Kind(rawValue: "rate-limited")
        /// 5xx.
        public static let server = Kind(rawValue: "server-error")
        /// Another 4xx: the request itself was refused.
        public static let badRequest = Kind(rawValue: "bad-request")
        /// The call's deadline passed.
        public static let timeout = Kind(rawValue: "timeout")
        /// Connection refused, reset or closed early.
        public static let connection = Kind(rawValue: "connection")
        /// The body was not the expected JSON (garbage, truncated, HTML, no `choices`).
        public static let invalidResponse = Kind(rawValue: "invalid-response")
        /// The body was larger than the configured limit.
        public static let responseTooLarge = Kind(rawValue: "response-too-large")
        /// A server-sent-events stream broke off (cut mid-event, or ended without `[DONE]`).
        public static let streamInterrupted = Kind(rawValue: "stream-interrupted")
        /// The configuration cannot be used (a malformed base URL).
        public static let configuration = Kind(rawValue: "configuration")
        /// The kind's name.
        public var description: String { rawValue }
    }

    /// The kind.
    public var kind: Kind
    /// The HTTP status, when a response arrived.
    public var status: Int?
    /// The provider's `error.type`.
    public var providerType: String?
    /// The provider's `error.code`.
    public var providerCode: String?
    /// The provider's `error.message`.
    public var providerMessage: String?
    /// The `x-request-id` (or similar) response header.
    public var requestID: String?
    /// The Retry-After delay the provider asked for.
    public var retryAfter: Duration?
    /// Up to 200 characters of a body that was not the expected JSON.
    public var bodyExcerpt: String?
    /// The model the call was for (gateway id).
    public var model: String?
    /// A short explanation written by BATS.
    public var detail: String?
    /// Whether the provider had begun answering with a success status (2xx headers received) before the failure,
    /// in any attempt of the call.
    ///
    /// When `true`, the provider probably did, and billed, the work although no usable reply came back: a body
    /// larger than the limit, a deadline that passed while reading the body, a connection closed mid-body, a
    /// truncated or invalid JSON body (or an error envelope) sent with a 2xx status, or a stream that broke off
    /// after its 2xx head. It is `false` for failures before any 2xx status: connection refused or reset before
    /// the head, 4xx and 5xx replies, timeouts before the head, configuration and missing-key errors.
    ///
    /// A caller that keeps a budget should count such a call as spent (settle it from an estimate) rather than
    /// release it at $0.
    public var providerAnswered: Bool

    /// Creates an error.
    /// - Parameters:
    ///   - kind: The kind.
    ///   - status: The HTTP status, when a response arrived.
    ///   - providerType: The provider's `error.type`.
    ///   - providerCode: The provider's `error.code`.
    ///   - providerMessage: The provider's `error.message`.
    ///   - requestID: The request id response header.
    ///   - retryAfter: The Retry-After delay.
    ///   - bodyExcerpt: A short excerpt of a body that was not the expected JSON.
    ///   - model: The model the call was for.
    ///   - detail: A short explanation.
    ///   - providerAnswered: Whether a 2xx head had arrived before the failure (see ``providerAnswered``).
    public init(
        kind: Kind, status: Int? = nil, providerType: String? = nil, providerCode: String? = nil, providerMessage: String? = nil,
        requestID: String? = nil, retryAfter: Duration? = nil, bodyExcerpt: String? = nil, model: String? = nil, detail: String? = nil,
        providerAnswered: Bool = false
    ) {
        self.providerAnswered = providerAnswered
        self.kind = kind
        self.status = status
        self.providerType = providerType
        self.providerCode = providerCode
        self.providerMessage = providerMessage
        self.requestID = requestID
        self.retryAfter = retryAfter
        self.bodyExcerpt = bodyExcerpt
        self.model = model
        self.detail = detail
    }

    /// Whether retrying the same request may succeed (rate limits, 5xx, timeouts, connection faults, broken streams).
    public var isRetryable: Bool {
        [.rateLimited, .server, .timeout, .connection, .streamInterrupted].contains(kind)
    }

    /// A one-line description: kind, status, provider message, request id, body excerpt, and whether the provider
    /// answered before the failure.
    public var description: String {
        var parts = ["gateway error: \(kind)"]
        if let status { parts.append("HTTP \(status)") }
        if let model { parts.append("model \(model)") }
        if let detail { parts.append(detail) }
        if let providerType { parts.append("type \(providerType)") }
        if let providerCode { parts.append("code \(providerCode)") }
        if let providerMessage { parts.append("message: \(providerMessage)") }
        if let requestID { parts.append("request id \(requestID)") }
        if let retryAfter { parts.append("retry after \(retryAfter)") }
        if let bodyExcerpt { parts.append("body: \(bodyExcerpt)") }
        if providerAnswered { parts.append("the provider answered before the failure") }
        return parts.joined(separator: "; ")
    }
}

// MARK: - Redaction

extension GatewayError {
    /// The error with every piece of text it carries (provider type, code and message, request id, body excerpt,
    /// model and detail) passed through `redactor`.
    /// - Parameter redactor: The redactor holding the secrets, such as the API key.
    /// - Returns: The redacted error; kind, status, Retry-After and ``providerAnswered`` are unchanged.
    public func redacting(_ redactor: SecretRedactor) -> GatewayError {
        var e = self
        e.providerType = redactor.redact(providerType)
        e.providerCode = redactor.redact(providerCode)
        e.providerMessage = redactor.redact(providerMessage)
        e.requestID = redactor.redact(requestID)
        e.bodyExcerpt = redactor.redact(bodyExcerpt)
        e.model = redactor.redact(model)
        e.detail = redactor.redact(detail)
        return e
    }
}
