/// Estimates prompt tokens from message text when the caller gives no count.
///
/// Two documented heuristics:
/// - ``upperBound`` (the default): one token per UTF-8 byte, plus 4 tokens per message, 3 for the reply's priming,
///   and ``imageTokens`` per image. Byte-level BPE tokenizers (GPT, Claude, DeepSeek, Kimi, Mistral) never emit
///   more tokens than bytes, so a reservation made from this never undercounts the prompt: the budget holds.
/// - ``typical``: one token per 4 UTF-8 bytes (rounded up), with the same per-message and image allowances;
///   closer to real counts for English text, but it can undercount code or non-Latin scripts.
public struct TokenEstimator: Sendable, Hashable {
    /// Bytes counted as one token.
    public var bytesPerToken: Int
    /// Tokens added for each message (role and separators).
    public var tokensPerMessage: Int
    /// Tokens added once per request for the reply's priming.
    public var tokensPerRequest: Int
    /// Tokens counted for each image part.
    public var imageTokens: Int

    /// Creates an estimator.
    public init(bytesPerToken: Int = 1, tokensPerMessage: Int = 4, tokensPerRequest: Int = 3, imageTokens: Int = 1_600) {
        self.bytesPerToken = max(1, bytesPerToken)
        self.tokensPerMessage = max(0, tokensPerMessage)
        self.tokensPerRequest = max(0, tokensPerRequest)
        self.imageTokens = max(0, imageTokens)
    }

    /// One token per byte: never undercounts for byte-level BPE tokenizers.
    public static let upperBound = TokenEstimator()
    /// One token per four bytes: a typical count for English prose.
    public static let typical = TokenEstimator(bytesPerToken: 4)

    /// Estimates the prompt tokens of a request.
    /// - Parameters:
    ///   - utf8Bytes: Total UTF-8 bytes of all text (message contents, tool definitions, tool call arguments).
    ///   - messages: How many messages the request has.
    ///   - images: How many image parts the request has.
    /// - Returns: The estimated prompt tokens, saturating at `Int.max` (such a count prices as a
    ///   ``MoneyError`` overflow, which the selector treats as not fitting).
    public func estimate(utf8Bytes: Int, messages: Int, images: Int = 0) -> Int {
        let bytes = max(0, utf8Bytes), per = max(1, bytesPerToken)
        let text = bytes / per + (bytes % per == 0 ? 0 : 1)
        let total = Int128(text) + Int128(max(0, messages)) * Int128(max(0, tokensPerMessage)) + Int128(max(0, tokensPerRequest))
            + Int128(max(0, images)) * Int128(max(0, imageTokens))
        return total > Int128(Int.max) ? .max : Int(total)
    }
}
