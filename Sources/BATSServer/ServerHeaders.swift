public import HTTPTypes

/// The headers `bats serve` reads and writes.
public enum ServerHeaders {
    /// The request id of the call (the caller's `X-Request-ID`, or a new one).
    public static let requestID = HTTPField.Name("x-bats-request-id")!
    /// The catalog model that answered.
    public static let model = HTTPField.Name("x-bats-model")!
    /// The tier the call ran at.
    public static let tier = HTTPField.Name("x-bats-tier")!
    /// Why that model (`preferred`, `downgraded-for-budget`, …).
    public static let reason = HTTPField.Name("x-bats-reason")!
    /// The settled cost in dollars (non-streamed replies; a streamed reply ends with a comment line instead).
    public static let cost = HTTPField.Name("x-bats-cost-usd")!
    /// What is left of today's global budget for non-critical calls, in dollars (absent when unlimited).
    public static let remainingDaily = HTTPField.Name("x-bats-remaining-daily-usd")!
    /// The budget scopes the call counted in, comma-separated.
    public static let scopes = HTTPField.Name("x-bats-scopes")!
    /// The models tried before the one that answered, comma-separated.
    public static let fellBackFrom = HTTPField.Name("x-bats-fallback-from")!
    /// Request: the task kind (`X-BATS-Task: parse_quote`), routed through the tier map.
    public static let task = HTTPField.Name("x-bats-task")!
    /// Request: the tier (`X-BATS-Tier: simple`), for calls that name a catalog model.
    public static let tierRequest = HTTPField.Name("x-bats-tier")!
    /// Request: tags recorded with the call (`X-BATS-Tags: agent=scanner,symbol=AAPL`).
    public static let tags = HTTPField.Name("x-bats-tags")!
    /// Request: the caller's request id.
    public static let callerRequestID = HTTPField.Name("x-request-id")!
}
