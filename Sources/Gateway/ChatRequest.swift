/// A chat-completions request body in the OpenAI wire format.
///
/// The router fills ``model`` with the gateway id of the model it selected and ``maxTokens`` with the
/// completion cap it reserved for; a caller's own values for those are replaced.
public struct ChatRequest: Sendable, Hashable, Encodable {
    /// The gateway's model id.
    public var model: String
    /// The conversation.
    public var messages: [ChatMessage]
    /// Functions the model may call.
    public var tools: [Tool]?
    /// `"auto"`, `"none"`, `"required"`, or `{"type":"function","function":{"name":…}}`.
    public var toolChoice: JSONValue?
    /// Sampling temperature.
    public var temperature: Double?
    /// The completion-token cap.
    public var maxTokens: Int?
    /// Stop sequences.
    public var stop: [String]?
    /// A seed for deterministic sampling where supported.
    public var seed: Int?
    /// `{"type":"json_object"}` or a JSON-schema response format.
    public var responseFormat: JSONValue?
    /// An end-user id for abuse monitoring.
    public var user: String?
    /// Whether the reply is streamed (set by the client's streaming call).
    public var stream: Bool?
    /// Stream options; the client sets `{"include_usage": true}` when streaming.
    public var streamOptions: JSONValue?
    /// Further top-level fields passed through as they are (provider-specific parameters).
    public var extra: [String: JSONValue]

    /// Creates a request.
    public init(
        model: String = "", messages: [ChatMessage], tools: [Tool]? = nil, toolChoice: JSONValue? = nil,
        temperature: Double? = nil, maxTokens: Int? = nil, stop: [String]? = nil, seed: Int? = nil,
        responseFormat: JSONValue? = nil, user: String? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.toolChoice = toolChoice
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.seed = seed
        self.responseFormat = responseFormat
        self.user = user
        self.stream = nil
        self.streamOptions = nil
        self.extra = extra
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, temperature, stop, seed, user, stream
        case toolChoice = "tool_choice"
        case maxTokens = "max_tokens"
        case responseFormat = "response_format"
        case streamOptions = "stream_options"
    }

    private struct ExtraKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Encodes the request, omitting unset fields and appending ``extra``.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(messages, forKey: .messages)
        try c.encodeIfPresent(tools, forKey: .tools)
        try c.encodeIfPresent(toolChoice, forKey: .toolChoice)
        try c.encodeIfPresent(temperature, forKey: .temperature)
        try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try c.encodeIfPresent(stop, forKey: .stop)
        try c.encodeIfPresent(seed, forKey: .seed)
        try c.encodeIfPresent(responseFormat, forKey: .responseFormat)
        try c.encodeIfPresent(user, forKey: .user)
        try c.encodeIfPresent(stream, forKey: .stream)
        try c.encodeIfPresent(streamOptions, forKey: .streamOptions)
        if !extra.isEmpty {
            var e = encoder.container(keyedBy: ExtraKey.self)
            for (k, v) in extra where CodingKeys(rawValue: k) == nil { try e.encode(v, forKey: ExtraKey(stringValue: k)) }
        }
    }

    /// Total UTF-8 bytes of the text the request sends (contents, tool calls, tool declarations), for token estimates.
    public var textBytes: Int {
        var n = 0
        for m in messages {
            n += m.content?.text.utf8.count ?? 0
            n += m.name?.utf8.count ?? 0
            for call in m.toolCalls ?? [] { n += call.function.name.utf8.count + call.function.arguments.utf8.count }
        }
        for t in tools ?? [] {
            n += t.function.name.utf8.count + (t.function.description?.utf8.count ?? 0)
            if let p = t.function.parameters { n += (try? JSONValueByteCounter.count(p)) ?? 0 }
        }
        return n
    }

    /// How many image parts the request has.
    public var imageCount: Int { messages.reduce(0) { $0 + ($1.content?.imageCount ?? 0) } }
}

enum JSONValueByteCounter {
    static func count(_ v: JSONValue) throws -> Int {
        switch v {
        case .null: 4
        case .bool: 5
        case .integer(let i): String(i).utf8.count
        case .number(let d): String(d).utf8.count
        case .string(let s): s.utf8.count + 2
        case .array(let a): try a.reduce(2) { $0 + (try count($1)) + 1 }
        case .object(let o): try o.reduce(2) { $0 + $1.key.utf8.count + 4 + (try count($1.value)) }
        }
    }
}
