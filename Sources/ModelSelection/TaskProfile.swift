/// What the selector needs to know about one call: its tier and its size.
public struct TaskProfile: Sendable, Hashable {
    /// The task kind the caller named (`parse_market_data`), if any.
    public var kind: String?
    /// The tier the call runs at (resolved from ``kind`` by ``ModelSelector/tier(for:)`` when not given).
    public var complexity: Complexity
    /// Prompt tokens, counted or estimated.
    public var inputTokens: Int
    /// The most completion tokens the call may produce (sent as `max_tokens`), which bounds its cost.
    public var maxOutputTokens: Int
    /// Capabilities every candidate model must have (for example tools or vision).
    public var requiredCapabilities: ModelInfo.Capabilities
    /// The one chat model the caller named (a fixed-model call): the chain is this model alone, never swapped for
    /// another; `nil` to route down the tier's chain. For a critical call it must be the pinned model.
    public var model: ModelID?

    /// Creates a profile.
    public init(
        kind: String? = nil, complexity: Complexity, inputTokens: Int, maxOutputTokens: Int,
        requiredCapabilities: ModelInfo.Capabilities = [], model: ModelID? = nil
    ) {
        self.model = model
        self.kind = kind
        self.complexity = complexity
        self.inputTokens = inputTokens
        self.maxOutputTokens = maxOutputTokens
        self.requiredCapabilities = requiredCapabilities
    }
}
