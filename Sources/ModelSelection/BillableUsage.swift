/// The billable parts of one or more calls to a model, each priced at its own rate by
/// ``ModelCatalog/cost(of:_:)``.
///
/// The parts are disjoint: a prompt token is counted in exactly one of ``inputTokens``, ``cacheReadTokens`` and
/// ``cacheWriteTokens``. Reasoning tokens are part of ``outputTokens`` (providers count them in the completion), so
/// they have no field of their own and can never be billed twice.
public struct BillableUsage: Sendable, Hashable {
    /// Prompt tokens billed at the input price (neither read from nor written to the cache).
    public var inputTokens: Int
    /// Prompt tokens read from the provider's cache, billed at ``ModelInfo/cachedInputPerMillionTokens``.
    public var cacheReadTokens: Int
    /// Prompt tokens written to the provider's cache, billed at ``ModelInfo/cacheWritePerMillionTokens``.
    public var cacheWriteTokens: Int
    /// Completion tokens, reasoning tokens included, billed at the output price.
    public var outputTokens: Int
    /// Generated images, billed at ``ModelInfo/perImage``.
    public var images: Int
    /// Calls, each billed ``ModelInfo/perRequest``.
    public var requests: Int

    /// Creates the billable parts of a call.
    /// - Parameters:
    ///   - inputTokens: Prompt tokens at the input price.
    ///   - cacheReadTokens: Prompt tokens read from the cache.
    ///   - cacheWriteTokens: Prompt tokens written to the cache.
    ///   - outputTokens: Completion tokens (reasoning included).
    ///   - images: Generated images.
    ///   - requests: Calls (1 for one call).
    public init(
        inputTokens: Int, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0, outputTokens: Int, images: Int = 0, requests: Int = 1
    ) {
        self.inputTokens = inputTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.outputTokens = outputTokens
        self.images = images
        self.requests = requests
    }

    /// The most one call could be billed for a prompt of `promptTokens`, for a reservation.
    ///
    /// It assumes no cache hit. When the model charges more for a cache write than for plain input (Anthropic), every
    /// prompt token is priced as a cache write, since the gateway may ask for caching on any call.
    /// - Parameters:
    ///   - model: The model.
    ///   - promptTokens: The prompt's upper bound in tokens.
    ///   - outputTokens: The completion cap.
    ///   - images: Images to generate.
    /// - Returns: The parts, with one request.
    public static func upperBound(for model: ModelInfo, promptTokens: Int, outputTokens: Int, images: Int = 0) -> BillableUsage {
        let writeIsDearer = (model.cacheWritePerMillionTokens ?? .zero) > model.inputPerMillionTokens
        return BillableUsage(
            inputTokens: writeIsDearer ? 0 : promptTokens, cacheWriteTokens: writeIsDearer ? promptTokens : 0, outputTokens: outputTokens,
            images: images)
    }

    /// The parts as text, for errors: `input_tokens=12`, `cache_read_tokens=0`, ….
    var operands: [String] {
        [
            "input_tokens=\(inputTokens)", "cache_read_tokens=\(cacheReadTokens)", "cache_write_tokens=\(cacheWriteTokens)",
            "output_tokens=\(outputTokens)", "images=\(images)", "requests=\(requests)",
        ]
    }
}
