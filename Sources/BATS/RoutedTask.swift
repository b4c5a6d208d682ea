public import Gateway
public import ModelSelection

/// One call an application asks the router to make: what kind of task it is, and the chat request.
public struct RoutedTask: Sendable {
    /// The task kind (`parse_market_data`), mapped to a tier by the selector's configuration.
    public var kind: String?
    /// The tier, when the caller names it directly (it wins over ``kind``).
    public var complexity: Complexity?
    /// The one chat model to use, by canonical or gateway id (a fixed-model call under the budget: refused when it does
    /// not fit, never swapped for another model); `nil` to route down the tier's chain. A critical task may only name
    /// the pinned model.
    public var model: String?
    /// The chat request; its `model` and `max_tokens` are set by the router.
    public var request: ChatRequest
    /// Prompt tokens, when the caller has counted them; otherwise estimated from the messages.
    public var inputTokens: Int?
    /// The completion cap; otherwise the request's `max_tokens`, otherwise the tier's default.
    public var maxOutputTokens: Int?
    /// Tags recorded in the ledger (agent, symbol, …).
    public var tags: [String: String]
    /// A request id; a random one is made when `nil`.
    public var requestID: String?
    /// The name of the caller key the call came with (never its secret), for budget scopes on a key.
    public var callerKey: String?

    /// Creates a task.
    public init(
        kind: String? = nil, complexity: Complexity? = nil, request: ChatRequest, inputTokens: Int? = nil, maxOutputTokens: Int? = nil,
        tags: [String: String] = [:], requestID: String? = nil, callerKey: String? = nil, model: String? = nil
    ) {
        self.model = model
        self.callerKey = callerKey
        self.kind = kind
        self.complexity = complexity
        self.request = request
        self.inputTokens = inputTokens
        self.maxOutputTokens = maxOutputTokens
        self.tags = tags
        self.requestID = requestID
    }
}
