public import Gateway

/// What the routing policy does after a provider failure.
public enum FailurePolicy {
    /// Whether the router should try the next model of the chain (or the pinned model again, for a critical call)
    /// after this failure: provider-side faults (rate limits, 5xx, timeouts, connection faults, broken streams, an
    /// unknown model, an invalid or too large reply). Authentication, credit, bad requests and configuration errors
    /// would fail the same way on any model: the call ends.
    /// - Parameter error: The gateway's error.
    /// - Returns: Whether another attempt may succeed.
    public static func allowsFallback(_ error: GatewayError) -> Bool {
        error.isRetryable || error.kind == .modelNotFound || error.kind == .invalidResponse || error.kind == .responseTooLarge
    }
}
