/// An image-generation request body (`POST /images/generations`) in the OpenAI wire format.
public struct ImageGenerationRequest: Sendable, Hashable, Encodable {
    /// The gateway's model id.
    public var model: String
    /// What to draw.
    public var prompt: String
    /// How many images (the catalog prices each one).
    public var n: Int?
    /// `1024x1024`, `1792x1024`, … as the model accepts.
    public var size: String?
    /// `standard`, `hd`, `low`, `medium`, `high`, … as the model accepts.
    public var quality: String?
    /// `url` or `b64_json`.
    public var responseFormat: String?
    /// An end-user id for abuse monitoring.
    public var user: String?

    /// Creates a request.
    /// - Parameters:
    ///   - model: The gateway's model id.
    ///   - prompt: What to draw.
    ///   - n: How many images.
    ///   - size: The size, such as `1024x1024`.
    ///   - quality: The quality, such as `standard` or `hd`.
    ///   - responseFormat: `url` or `b64_json`.
    ///   - user: An end-user id.
    public init(
        model: String, prompt: String, n: Int? = nil, size: String? = nil, quality: String? = nil,
        responseFormat: String? = nil, user: String? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.n = n
        self.size = size
        self.quality = quality
        self.responseFormat = responseFormat
        self.user = user
    }

    enum CodingKeys: String, CodingKey {
        case model, prompt, n, size, quality, user
        case responseFormat = "response_format"
    }

    /// Encodes the request, omitting unset fields.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(prompt, forKey: .prompt)
        try c.encodeIfPresent(n, forKey: .n)
        try c.encodeIfPresent(size, forKey: .size)
        try c.encodeIfPresent(quality, forKey: .quality)
        try c.encodeIfPresent(responseFormat, forKey: .responseFormat)
        try c.encodeIfPresent(user, forKey: .user)
    }
}

/// An image-generation reply.
public struct ImageGenerationResponse: Sendable, Hashable, Decodable {
    /// One generated image: a URL or base64 data.
    public struct Image: Sendable, Hashable, Decodable {
        /// Where to download the image (`response_format: url`).
        public var url: String?
        /// The image as base64 (`response_format: b64_json`).
        public var b64JSON: String?
        /// The prompt as the model rewrote it, where reported.
        public var revisedPrompt: String?

        /// Creates an image.
        public init(url: String? = nil, b64JSON: String? = nil, revisedPrompt: String? = nil) {
            self.url = url
            self.b64JSON = b64JSON
            self.revisedPrompt = revisedPrompt
        }

        enum CodingKeys: String, CodingKey {
            case url
            case b64JSON = "b64_json"
            case revisedPrompt = "revised_prompt"
        }
    }

    /// Unix seconds.
    public var created: Int?
    /// The images.
    public var data: [Image]
    /// Token counts, for models that report them; `nil` otherwise.
    public var usage: Usage?

    /// Creates a reply.
    public init(created: Int? = nil, data: [Image], usage: Usage? = nil) {
        self.created = created
        self.data = data
        self.usage = usage
    }

    enum CodingKeys: String, CodingKey { case created, data, usage }

    /// Decodes a reply: `data` is required, the rest may be missing.
    /// - Throws: `DecodingError` when `data` is missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        data = try c.decode([Image].self, forKey: .data)
        created = try? c.decodeIfPresent(Int.self, forKey: .created)
        usage = (try? c.decodeIfPresent(PromptOnlyUsage.self, forKey: .usage))?.usage
    }
}
