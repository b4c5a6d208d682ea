import Foundation

extension GatewayClient.Configuration {
    /// Builds a configuration from this process's environment, explicit values first.
    ///
    /// The same as ``fromEnvironment(_:baseURL:apiKey:)`` with `ProcessInfo.processInfo.environment`, so that an app
    /// needs no Foundation import to read `LLM_GATEWAY_BASE_URL`, `TARS_API_BASE`, `LLM_GATEWAY_API_KEY`,
    /// `TARS_API_KEY` or `TETRATE_API_KEY`.
    /// - Parameters:
    ///   - baseURL: An explicit base URL, which wins.
    ///   - apiKey: An explicit key, which wins.
    /// - Returns: The configuration, other settings at their defaults; its key may be `nil`.
    public static func fromEnvironment(baseURL: String? = nil, apiKey: String? = nil) -> GatewayClient.Configuration {
        fromEnvironment(ProcessInfo.processInfo.environment, baseURL: baseURL, apiKey: apiKey)
    }
}
