/// How a ``GatewayClient`` retries a failed call: bounded attempts, exponential backoff with jitter, and
/// Retry-After honoured for rate limits, all within the call's total deadline.
///
/// Only retryable failures are retried (``GatewayError/isRetryable``: 429, 5xx, 408, timeouts, refused or reset
/// connections). A streamed call is retried only until its response head arrives; once chunks flow, a break is
/// reported as ``GatewayError/Kind/streamInterrupted``.
public struct RetryPolicy: Sendable, Hashable {
    /// The most attempts, the first included (1 means no retry).
    public var maxAttempts: Int
    /// The delay before the first retry.
    public var initialBackoff: Duration
    /// The longest delay between two attempts.
    public var maxBackoff: Duration
    /// The factor the delay grows by after each retry.
    public var multiplier: Double
    /// The share of each delay that is randomised (0 = none, 1 = anywhere between zero and the delay).
    public var jitter: Double
    /// The longest Retry-After the client waits for; a provider asking for longer fails the call at once
    /// (the router then falls back instead of waiting).
    public var maxRetryAfter: Duration

    /// Creates a policy.
    /// - Parameters:
    ///   - maxAttempts: The most attempts, the first included.
    ///   - initialBackoff: The delay before the first retry.
    ///   - maxBackoff: The longest delay.
    ///   - multiplier: The growth factor.
    ///   - jitter: The randomised share of each delay, 0...1.
    ///   - maxRetryAfter: The longest Retry-After honoured.
    public init(
        maxAttempts: Int = 3, initialBackoff: Duration = .milliseconds(250), maxBackoff: Duration = .seconds(8),
        multiplier: Double = 2, jitter: Double = 0.5, maxRetryAfter: Duration = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(jitter, 0), 1)
        self.maxRetryAfter = maxRetryAfter
    }

    /// Three attempts, 250 ms doubling to at most 8 s, half jitter, Retry-After up to 30 s.
    public static let standard = RetryPolicy()

    /// One attempt, no retry.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The backoff before retry number `retry` (1 for the first retry), jitter applied.
    /// - Parameters:
    ///   - retry: Which retry, from 1.
    ///   - unit: A random number in `0..<1` (injected for tests).
    /// - Returns: The delay, from zero to about 31 years (a NaN jitter or a negative backoff gives zero).
    public func backoff(beforeRetry retry: Int, random unit: Double) -> Duration {
        let base = initialBackoff.seconds * pow(multiplier, Double(max(0, retry - 1)))
        let capped = min(base, maxBackoff.seconds)
        let jittered = capped * (1 - jitter * min(max(unit, 0), 1))
        // Clamped before converting: settings changed after `init` (a NaN jitter, a huge backoff) must not trap
        // the conversion to Int64 nanoseconds.
        let seconds = jittered.isNaN ? 0 : min(max(jittered, 0), 1e9)
        return .nanoseconds(Int64(seconds * 1e9))
    }
}

extension Duration {
    /// The duration in seconds as a floating-point number.
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var i = 0.0
    while i < exponent {
        result *= base
        i += 1
    }
    return result
}
