public import Foundation
public import GatewayHTTP

// MARK: - Catalog source

extension DeploymentConfiguration {
    /// Where a configuration's catalog came from: the bundled catalog, a JSON file, or the file's inline models.
    public struct CatalogSource: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case bundled
            case inline
            case file(String)
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The catalog shipped with BATS (the file has no `catalog`).
        public static let bundled = CatalogSource(.bundled)
        /// Models and prices written in the configuration file (`catalog.models`).
        public static let inline = CatalogSource(.inline)
        /// A catalog JSON file (`catalog.path`), by its resolved path.
        public static func file(_ path: String) -> CatalogSource { .init(.file(path)) }

        /// The catalog file's path, for ``file(_:)``.
        public var path: String? {
            if case .file(let p) = base { return p }
            return nil
        }

        /// `bundled`, `inline` or the path.
        public var description: String {
            switch base {
            case .bundled: "bundled"
            case .inline: "inline"
            case .file(let p): p
            }
        }
    }
}

// MARK: - Alerts

extension DeploymentConfiguration {
    /// Where budget alerts go (the thresholds themselves sit with their budgets in ``DeploymentConfiguration/limits``).
    public struct Alerts: Sendable, Hashable {
        /// An HTTP endpoint that receives each alert as a JSON POST, with bounded retries.
        public struct Webhook: Sendable, Hashable {
            /// The endpoint (`http` or `https`).
            public var url: URL
            /// The most time one delivery attempt may take.
            public var timeout: Duration
            /// How many times one alert is tried, the first attempt included (at least 1).
            public var maxAttempts: Int
            /// The wait before the second attempt; it doubles for each later one, up to ``maxBackoff``.
            public var backoff: Duration
            /// The longest wait between two attempts.
            public var maxBackoff: Duration

            /// Creates webhook settings.
            /// - Parameters:
            ///   - url: The endpoint.
            ///   - timeout: The most time one attempt may take (default 5 s).
            ///   - maxAttempts: Attempts per alert, the first included (default 3).
            ///   - backoff: The wait before the second attempt (default 1 s), doubling.
            ///   - maxBackoff: The longest wait (default 30 s).
            public init(
                url: URL, timeout: Duration = .seconds(5), maxAttempts: Int = 3, backoff: Duration = .seconds(1),
                maxBackoff: Duration = .seconds(30)
            ) {
                self.url = url
                self.timeout = timeout
                self.maxAttempts = maxAttempts
                self.backoff = backoff
                self.maxBackoff = maxBackoff
            }
        }

        /// The webhook, or `nil` when alerts are only recorded in the ledger.
        public var webhook: Webhook?

        /// Creates alert settings.
        /// - Parameter webhook: The webhook, or `nil` for none.
        public init(webhook: Webhook? = nil) { self.webhook = webhook }
    }
}

// MARK: - Gateway

extension DeploymentConfiguration {
    /// The OpenAI-compatible gateway: its base URL, and the name of the environment variable that holds its key.
    ///
    /// The key itself is never in the configuration file.
    public struct Gateway: Sendable, Hashable {
        /// The base URL (`https://api.router.tetrate.ai/v1`), or `nil` for the environment's or the default.
        public var baseURL: String?
        /// The name of the environment variable that holds the API key (`TARS_API_KEY`), or `nil` for the usual
        /// variables (``GatewayClient/Configuration/apiKeyVariables``).
        public var apiKeyVariable: String?

        /// Creates gateway settings.
        /// - Parameters:
        ///   - baseURL: The base URL, or `nil`.
        ///   - apiKeyVariable: The name of the key's environment variable, or `nil`.
        public init(baseURL: String? = nil, apiKeyVariable: String? = nil) {
            self.baseURL = baseURL
            self.apiKeyVariable = apiKeyVariable
        }

        /// The client configuration for these settings in an environment.
        ///
        /// Base URL: ``baseURL`` > `LLM_GATEWAY_BASE_URL` > `TARS_API_BASE` > the default. Key: the variable
        /// ``apiKeyVariable`` names, and only it; without one, the usual variables in their order.
        /// - Parameter environment: The variables, such as `ProcessInfo.processInfo.environment`.
        /// - Returns: The configuration, other settings at their defaults; its key is `nil` when the variable is
        ///   unset or empty.
        public func clientConfiguration(environment: [String: String]) -> GatewayClient.Configuration {
            var c = GatewayClient.Configuration.fromEnvironment(environment, baseURL: baseURL)
            if let apiKeyVariable {
                let v = environment[apiKeyVariable]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                c.apiKey = v.isEmpty ? nil : v
            }
            return c
        }
    }
}

// MARK: - Ledger

extension DeploymentConfiguration {
    /// The spend ledger.
    public struct Ledger: Sendable, Hashable {
        /// The SQLite file, resolved against the configuration file's directory; `nil` when the file names none.
        public var path: String?
        /// A PostgreSQL ledger's URL (`postgres://user@host:port/db`, no password), or `nil`; at most one of `path`
        /// and `url` is set.
        public var url: String?

        /// Creates ledger settings.
        /// - Parameters:
        ///   - path: The SQLite file, or `nil`.
        ///   - url: The PostgreSQL URL, or `nil`.
        public init(path: String? = nil, url: String? = nil) {
            self.path = path
            self.url = url
        }
    }
}
