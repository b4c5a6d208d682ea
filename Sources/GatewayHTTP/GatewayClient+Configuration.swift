public import Gateway

extension GatewayClient {
    /// The settings of a ``GatewayClient``: endpoint, key, timeouts, retries and limits.
    ///
    /// Build one from the environment with ``fromEnvironment(_:baseURL:apiKey:)``; explicit values win over it.
    /// The API key is never printed: `description`, `debugDescription` and `dump` show it redacted.
    public struct Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// The default base URL: Tetrate Agent Router Service.
        public static let defaultBaseURL = "https://api.router.tetrate.ai/v1"

        /// The base URL the endpoint paths (`/chat/completions`, …) are appended to, such as
        /// `https://api.router.tetrate.ai/v1` or `http://127.0.0.1:4000/v1`.
        public var baseURL: String
        /// The API key sent as `Authorization: Bearer …`; `nil` fails every call with
        /// ``GatewayError/Kind/missingAPIKey`` before any request.
        public var apiKey: String?
        /// The most time to open a connection.
        public var connectTimeout: Duration
        /// The most time one attempt may take (the whole call, retries included, is bounded by
        /// ``GatewayRequestOptions/timeout``); `nil` bounds attempts by the call's deadline only.
        public var attemptTimeout: Duration?
        /// The longest silence allowed while reading a response (a stalled stream fails after it).
        public var readTimeout: Duration
        /// How failed calls are retried.
        public var retryPolicy: RetryPolicy
        /// The largest non-streamed response body accepted, in bytes; larger ones fail with
        /// ``GatewayError/Kind/responseTooLarge``. Also bounds one server-sent event of a stream.
        public var maxResponseBytes: Int
        /// Headers sent with every request (never logged). `Authorization` here is ignored: the key is sent.
        public var extraHeaders: [String: String]
        /// The `User-Agent` header.
        public var userAgent: String

        /// Creates a configuration.
        /// - Parameters:
        ///   - baseURL: The base URL.
        ///   - apiKey: The API key.
        ///   - connectTimeout: The most time to open a connection.
        ///   - attemptTimeout: The most time one attempt may take.
        ///   - readTimeout: The longest silence while reading.
        ///   - retryPolicy: How failed calls are retried.
        ///   - maxResponseBytes: The largest response body accepted.
        ///   - extraHeaders: Headers sent with every request.
        ///   - userAgent: The `User-Agent` header.
        public init(
            baseURL: String = Configuration.defaultBaseURL, apiKey: String? = nil, connectTimeout: Duration = .seconds(10),
            attemptTimeout: Duration? = nil, readTimeout: Duration = .seconds(60), retryPolicy: RetryPolicy = .standard,
            maxResponseBytes: Int = 16 * 1024 * 1024, extraHeaders: [String: String] = [:], userAgent: String = "BATS-Gateway/1"
        ) {
            self.baseURL = baseURL
            self.apiKey = apiKey
            self.connectTimeout = connectTimeout
            self.attemptTimeout = attemptTimeout
            self.readTimeout = readTimeout
            self.retryPolicy = retryPolicy
            self.maxResponseBytes = maxResponseBytes
            self.extraHeaders = extraHeaders
            self.userAgent = userAgent
        }

        /// Environment variables read for the base URL, in order of precedence.
        public static let baseURLVariables = ["LLM_GATEWAY_BASE_URL", "TARS_API_BASE"]
        /// Environment variables read for the API key, in order of precedence.
        public static let apiKeyVariables = ["LLM_GATEWAY_API_KEY", "TARS_API_KEY", "TETRATE_API_KEY"]

        /// Builds a configuration from an environment, explicit values first.
        ///
        /// Base URL: `baseURL` > `LLM_GATEWAY_BASE_URL` > `TARS_API_BASE` > ``defaultBaseURL``.
        /// Key: `apiKey` > `LLM_GATEWAY_API_KEY` > `TARS_API_KEY` > `TETRATE_API_KEY`. Empty values count as unset.
        /// - Parameters:
        ///   - environment: The variables, such as `ProcessInfo.processInfo.environment` (tests pass a dictionary).
        ///   - baseURL: An explicit base URL, which wins.
        ///   - apiKey: An explicit key, which wins.
        /// - Returns: The configuration, other settings at their defaults; its key may be `nil`.
        public static func fromEnvironment(
            _ environment: [String: String], baseURL: String? = nil, apiKey: String? = nil
        ) -> Configuration {
            func first(_ explicit: String?, _ names: [String]) -> String? {
                if let explicit, !explicit.isEmpty { return explicit }
                for name in names {
                    if let v = environment[name]?.trimmingWhitespace, !v.isEmpty { return v }
                }
                return nil
            }
            return Configuration(
                baseURL: first(baseURL, baseURLVariables) ?? defaultBaseURL,
                apiKey: first(apiKey, apiKeyVariables)
            )
        }

        /// The settings with the key redacted.
        public var description: String {
            "GatewayClient.Configuration(baseURL: \(baseURL), apiKey: \(apiKey == nil ? "nil" : "<redacted>"), "
                + "connectTimeout: \(connectTimeout), attemptTimeout: \(attemptTimeout.map { "\($0)" } ?? "nil"), "
                + "readTimeout: \(readTimeout), retryPolicy: \(retryPolicy), maxResponseBytes: \(maxResponseBytes))"
        }

        /// The same as ``description``.
        public var debugDescription: String { description }

        /// A mirror with the key redacted (for `dump`).
        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "baseURL": baseURL, "apiKey": apiKey == nil ? "nil" : "<redacted>", "connectTimeout": connectTimeout,
                    "attemptTimeout": attemptTimeout as Any, "readTimeout": readTimeout, "retryPolicy": retryPolicy,
                    "maxResponseBytes": maxResponseBytes, "extraHeaders": extraHeaders.keys.sorted(), "userAgent": userAgent,
                ],
                displayStyle: .struct
            )
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
