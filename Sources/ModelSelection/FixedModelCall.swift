/// A call to one model the caller names, such as an embeddings or image-generation call: no chain, no fallback.
///
/// Made by ``ModelSelector/fixedModelCall(_:kind:tier:inputTokens:images:)``, which checks the model against the
/// catalog, and decided against a budget by ``ModelSelector/select(_:budget:)``.
public struct FixedModelCall: Sendable, Hashable {
    /// The model as the catalog describes it: of the kind the call asked for, never a chat model.
    public let model: ModelInfo
    /// The tier the call runs at; ``Complexity/critical`` skips the budget check.
    public let tier: Complexity
    /// Prompt tokens, counted or estimated (never negative).
    public let inputTokens: Int
    /// Images to generate (never negative; 0 for an embeddings call).
    public let images: Int

    init(model: ModelInfo, tier: Complexity, inputTokens: Int, images: Int) {
        self.model = model
        self.tier = tier
        self.inputTokens = max(0, inputTokens)
        self.images = max(0, images)
    }
}
