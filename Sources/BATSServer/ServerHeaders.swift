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
    /// The settled cost in dollars (non-streamed replies; a streamed reply ends with a comment line instead). For a
    /// council or a cascade: everything it cost, every member, step and judge.
    public static let cost = HTTPField.Name("x-bats-cost-usd")!
    /// What is left of today's global budget for non-critical calls, in dollars (absent when unlimited).
    public static let remainingDaily = HTTPField.Name("x-bats-remaining-daily-usd")!
    /// The budget scopes the call counted in, comma-separated.
    public static let scopes = HTTPField.Name("x-bats-scopes")!
    /// The models tried before the one that answered, comma-separated.
    public static let fellBackFrom = HTTPField.Name("x-bats-fallback-from")!
    /// A council's name (`bats/council/<name>` replies).
    public static let council = HTTPField.Name("x-bats-council")!
    /// How a council decided: `majority`, `plurality`, `agreement`, `judge` or `no-answer`.
    public static let councilDecision = HTTPField.Name("x-bats-council-decision")!
    /// Every seat of a council, in order, comma-separated: `MODEL=COST_USD;STATUS` (`deepseek-r1=0.00123;answered`),
    /// the model being the one that answered (after any fallback) or the one reserved; a judge last, as
    /// `judge:MODEL=COST_USD;STATUS`. The costs add up to ``cost``.
    public static let councilMembers = HTTPField.Name("x-bats-council-members")!
    /// A cascade's name (`bats/cascade/<name>` replies).
    public static let cascade = HTTPField.Name("x-bats-cascade")!
    /// How a cascade ended: `accepted`, `exhausted` or `budget`.
    public static let cascadeOutcome = HTTPField.Name("x-bats-cascade-outcome")!
    /// Every step a cascade took, in order, comma-separated: `MODEL=COST_USD;VERDICT`, the verdict `accepted`,
    /// `rejected` or `failed` (the provider failed). A step's cost includes its judge verifier's. The costs add up to
    /// ``cost``.
    public static let cascadePath = HTTPField.Name("x-bats-cascade-path")!
    /// Request: the task kind (`X-BATS-Task: parse_quote`), routed through the tier map.
    public static let task = HTTPField.Name("x-bats-task")!
    /// Request: the tier (`X-BATS-Tier: simple`), for calls that name a catalog model.
    public static let tierRequest = HTTPField.Name("x-bats-tier")!
    /// Request: tags recorded with the call (`X-BATS-Tags: agent=scanner,symbol=AAPL`).
    public static let tags = HTTPField.Name("x-bats-tags")!
    /// Request: the caller's request id.
    public static let callerRequestID = HTTPField.Name("x-request-id")!
}
