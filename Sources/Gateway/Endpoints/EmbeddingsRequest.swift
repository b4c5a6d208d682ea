/// An embeddings request body (`POST /embeddings`) in the OpenAI wire format.
public struct EmbeddingsRequest: Sendable, Hashable, Encodable {
    /// What to embed: one string or a batch.
    public enum Input: Sendable, Hashable, Encodable {
        /// One text; the reply has one embedding.
        case text(String)
        /// Several texts; the reply has one embedding per text, matched by `index`.
        case batch([String])

        /// Encodes a string or an array of strings.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .batch(let a): try c.encode(a)
            }
        }

        /// The texts, one or many.
        public var texts: [String] {
            switch self {
            case .text(let s): [s]
            case .batch(let a): a
            }
        }
    }

    /// The gateway's model id.
    public var model: String
    /// The text or texts to embed.
    public var input: Input
    /// The number of dimensions wanted, for models that can shorten their vectors.
    public var dimensions: Int?
    /// `float` (the default) or `base64`; this client decodes floats only.
    public var encodingFormat: String?
    /// An end-user id for abuse monitoring.
    public var user: String?

    /// Creates a request.
    /// - Parameters:
    ///   - model: The gateway's model id.
    ///   - input: The text or texts to embed.
    ///   - dimensions: The number of dimensions wanted, if the model supports it.
    ///   - user: An end-user id.
    public init(model: String, input: Input, dimensions: Int? = nil, user: String? = nil) {
        self.model = model
        self.input = input
        self.dimensions = dimensions
        self.encodingFormat = nil
        self.user = user
    }

    enum CodingKeys: String, CodingKey {
        case model, input, dimensions, user
        case encodingFormat = "encoding_format"
    }

    /// Encodes the request, omitting unset fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(input, forKey: .input)
        try c.encodeIfPresent(dimensions, forKey: .dimensions)
        try c.encodeIfPresent(encodingFormat, forKey: .encodingFormat)
        try c.encodeIfPresent(user, forKey: .user)
    }
}

/// An embeddings reply.
public struct EmbeddingsResponse: Sendable, Hashable, Decodable {
    /// One vector.
    public struct Embedding: Sendable, Hashable, Decodable {
        /// The position of the text it embeds in the request's batch.
        public var index: Int
        /// The vector.
        public var embedding: [Double]

        /// Creates an embedding.
        public init(index: Int, embedding: [Double]) {
            self.index = index
            self.embedding = embedding
        }

        enum CodingKeys: String, CodingKey { case index, embedding }

        /// Decodes an embedding; a missing `index` is 0.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            index = (try? c.decodeIfPresent(Int.self, forKey: .index)) ?? 0
            embedding = try c.decode([Double].self, forKey: .embedding)
        }
    }

    /// The vectors, sorted by ``Embedding/index``.
    public var data: [Embedding]
    /// The model that answered.
    public var model: String
    /// Token counts (`prompt_tokens`, `total_tokens`); `nil` when the provider sent none.
    public var usage: Usage?

    /// Creates a reply.
    public init(data: [Embedding], model: String, usage: Usage?) {
        self.data = data
        self.model = model
        self.usage = usage
    }

    enum CodingKeys: String, CodingKey { case data, model, usage }

    /// Decodes a reply: `data` is required, `model` and `usage` may be missing; vectors are sorted by index.
    /// - Throws: `DecodingError` when `data` is missing or a vector is not an array of numbers.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decode([Embedding].self, forKey: .data).sorted { $0.index < $1.index }
        model = (try? c.decodeIfPresent(String.self, forKey: .model)) ?? ""
        usage = (try? c.decodeIfPresent(PromptOnlyUsage.self, forKey: .usage))?.usage
    }

    /// The vectors in input order.
    public var vectors: [[Double]] { data.map(\.embedding) }
}
