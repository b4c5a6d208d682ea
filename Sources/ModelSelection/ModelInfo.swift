/// One model in the ``ModelCatalog``: its ids, prices, limits and capabilities.
public struct ModelInfo: Sendable, Hashable {
    /// What a model produces, which decides the endpoint it is called through.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The kind's name as it appears in catalog files.
        public var rawValue: String
        /// Creates a kind.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A chat-completions model.
        public static let chat = Kind(rawValue: "chat")
        /// An embeddings model.
        public static let embedding = Kind(rawValue: "embedding")
        /// An image-generation model.
        public static let image = Kind(rawValue: "image")
        /// The kind's name.
        public var description: String { rawValue }
    }

    /// What a model can do beyond plain text.
    public struct Capabilities: OptionSet, Sendable, Hashable {
        /// The raw bit set.
        public var rawValue: UInt8
        /// Creates a set from its raw bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Function/tool calling.
        public static let tools = Capabilities(rawValue: 1 << 0)
        /// Image inputs.
        public static let vision = Capabilities(rawValue: 1 << 1)
        /// A reasoning model (thinks before answering).
        public static let reasoning = Capabilities(rawValue: 1 << 2)

        /// The capability names used in catalog files.
        public static let names: [(String, Capabilities)] = [("tools", .tools), ("vision", .vision), ("reasoning", .reasoning)]

        /// The names of the capabilities in this set, in catalog order.
        public var names: [String] { Capabilities.names.filter { contains($0.1) }.map(\.0) }
    }

    /// The canonical id (`deepseek-v3`).
    public var id: ModelID
    /// A human-readable name (`DeepSeek V3`).
    public var name: String
    /// The id the gateway expects in the `model` field of a request.
    public var gatewayID: String
    /// What the model produces.
    public var kind: Kind
    /// Base price of one million input tokens, before the gateway margin.
    public var inputPerMillionTokens: MicroDollars
    /// Base price of one million output tokens, before the gateway margin.
    public var outputPerMillionTokens: MicroDollars
    /// Base price of one generated image (image models), before the gateway margin.
    ///
    /// Images sent *to* a chat model are not priced here: providers count them in the prompt tokens they report.
    public var perImage: MicroDollars
    /// Base price of one million prompt tokens read from the provider's cache, before the gateway margin; `nil` when
    /// the catalog gives none, and then cached tokens are priced at ``inputPerMillionTokens``.
    public var cachedInputPerMillionTokens: MicroDollars?
    /// Base price of one million prompt tokens written to the provider's cache (Anthropic charges 1.25× input),
    /// before the gateway margin; `nil` when the provider charges no premium, and then they are priced at
    /// ``inputPerMillionTokens``.
    public var cacheWritePerMillionTokens: MicroDollars?
    /// A fixed base price charged for every call, before the gateway margin (zero for most providers).
    public var perRequest: MicroDollars
    /// This model's gateway margin in parts per million, when it differs from the catalog's
    /// (``ModelCatalog/marginPartsPerMillion``); `nil` uses the catalog's.
    public var marginPartsPerMillion: Int64?
    /// The context window in tokens.
    public var contextWindow: Int
    /// The most output tokens one call may ask for (0 when not a chat model).
    public var maxOutputTokens: Int
    /// What the model can do.
    public var capabilities: Capabilities

    /// Creates a model description.
    /// - Parameters:
    ///   - id: The canonical id.
    ///   - name: A human-readable name.
    ///   - gatewayID: The id the gateway expects.
    ///   - kind: What the model produces.
    ///   - inputPerMillionTokens: Base price of one million input tokens.
    ///   - outputPerMillionTokens: Base price of one million output tokens.
    ///   - perImage: Base price of one generated image.
    ///   - contextWindow: The context window in tokens.
    ///   - maxOutputTokens: The most output tokens one call may ask for.
    ///   - capabilities: What the model can do.
    ///   - cachedInputPerMillionTokens: Base price of one million cache-read prompt tokens (`nil`: the input price).
    ///   - cacheWritePerMillionTokens: Base price of one million cache-write prompt tokens (`nil`: the input price).
    ///   - perRequest: Base price charged for every call.
    ///   - marginPartsPerMillion: The model's own gateway margin (`nil`: the catalog's).
    public init(
        id: ModelID, name: String, gatewayID: String, kind: Kind = .chat,
        inputPerMillionTokens: MicroDollars, outputPerMillionTokens: MicroDollars, perImage: MicroDollars = .zero,
        contextWindow: Int, maxOutputTokens: Int, capabilities: Capabilities = [],
        cachedInputPerMillionTokens: MicroDollars? = nil, cacheWritePerMillionTokens: MicroDollars? = nil,
        perRequest: MicroDollars = .zero, marginPartsPerMillion: Int64? = nil
    ) {
        self.id = id
        self.name = name
        self.gatewayID = gatewayID
        self.kind = kind
        self.inputPerMillionTokens = inputPerMillionTokens
        self.outputPerMillionTokens = outputPerMillionTokens
        self.perImage = perImage
        self.contextWindow = contextWindow
        self.maxOutputTokens = maxOutputTokens
        self.capabilities = capabilities
        self.cachedInputPerMillionTokens = cachedInputPerMillionTokens
        self.cacheWritePerMillionTokens = cacheWritePerMillionTokens
        self.perRequest = perRequest
        self.marginPartsPerMillion = marginPartsPerMillion
    }
}
