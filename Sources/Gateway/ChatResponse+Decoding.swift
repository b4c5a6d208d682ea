// MARK: - Lenient and strict decoding of replies
//
// OpenAI-compatible providers differ: some omit `id`, `model`, `index` or `type`, send `null` usage, or add
// fields of their own. Those are tolerated. A reply without `choices` is not: it fails with a decoding error
// that names the missing key, which the client reports as `GatewayError.invalidResponse`.

extension ChatResponse {
    enum CodingKeys: String, CodingKey {
        case id, model, created, choices, usage
    }

    /// Decodes a reply: `choices` is required; `id`, `model`, `created` and `usage` may be missing or `null`.
    /// - Throws: `DecodingError.keyNotFound` when `choices` is missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.choices), !(try c.decodeNil(forKey: .choices)) else {
            throw DecodingError.keyNotFound(
                CodingKeys.choices, .init(codingPath: c.codingPath, debugDescription: "the response has no `choices`")
            )
        }
        choices = try c.decode([Choice].self, forKey: .choices)
        id = (try? c.decodeIfPresent(String.self, forKey: .id)) ?? ""
        model = (try? c.decodeIfPresent(String.self, forKey: .model)) ?? ""
        created = try? c.decodeIfPresent(Int.self, forKey: .created)
        usage = try? c.decodeIfPresent(Usage.self, forKey: .usage)
    }
}

extension ChatResponse.Choice {
    /// Decodes a choice; a missing `index` is 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = (try? c.decodeIfPresent(Int.self, forKey: .index)) ?? 0
        message = try c.decode(ChatMessage.self, forKey: .message)
        finishReason = try? c.decodeIfPresent(String.self, forKey: .finishReason)
    }
}

extension ChatMessage {
    /// Decodes a message; a missing `role` is `assistant`, `reasoning_content` is kept when present.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = (try? c.decodeIfPresent(Role.self, forKey: .role)) ?? .assistant
        content = try c.decodeIfPresent(Content.self, forKey: .content)
        name = try? c.decodeIfPresent(String.self, forKey: .name)
        toolCalls = try c.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallID = try? c.decodeIfPresent(String.self, forKey: .toolCallID)
        reasoningContent = try? c.decodeIfPresent(String.self, forKey: .reasoningContent)
    }
}

extension ToolCall {
    enum CodingKeys: String, CodingKey { case id, type, function }

    /// Decodes a tool call; a missing `type` is `function`, a missing `id` is empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = (try? c.decodeIfPresent(String.self, forKey: .id)) ?? ""
        type = (try? c.decodeIfPresent(String.self, forKey: .type)) ?? "function"
        function = try c.decode(Function.self, forKey: .function)
    }
}

extension ToolCall.Function {
    enum CodingKeys: String, CodingKey { case name, arguments }

    /// Decodes a function call; missing or `null` arguments are empty, and an arguments object
    /// (sent by some providers instead of a string) is re-encoded as a JSON string.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        if let s = try? c.decodeIfPresent(String.self, forKey: .arguments) {
            arguments = s
        } else if let v = try? c.decodeIfPresent(JSONValue.self, forKey: .arguments), v != .null {
            arguments = v.compactJSON
        } else {
            arguments = ""
        }
    }
}

extension ChatCompletionChunk {
    enum CodingKeys: String, CodingKey { case id, model, choices, usage }

    /// Decodes a chunk leniently: `id`, `model` and `choices` may be missing or `null` (usage-only or
    /// provider-specific chunks), usage may be `null`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = (try? c.decodeIfPresent(String.self, forKey: .id)) ?? ""
        model = (try? c.decodeIfPresent(String.self, forKey: .model)) ?? ""
        choices = try c.decodeIfPresent([Choice].self, forKey: .choices) ?? []
        usage = try? c.decodeIfPresent(Usage.self, forKey: .usage)
    }
}

extension ChatCompletionChunk.Choice {
    /// Decodes a choice increment; a missing `index` is 0 and a missing `delta` is empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = (try? c.decodeIfPresent(Int.self, forKey: .index)) ?? 0
        delta = try c.decodeIfPresent(ChatCompletionChunk.Delta.self, forKey: .delta) ?? .init()
        finishReason = try? c.decodeIfPresent(String.self, forKey: .finishReason)
    }
}

extension ChatCompletionChunk.Delta.ToolCallDelta {
    enum CodingKeys: String, CodingKey { case index, id, type, function }

    /// Decodes a tool-call fragment; a missing `index` is 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        index = (try? c.decodeIfPresent(Int.self, forKey: .index)) ?? 0
        id = try? c.decodeIfPresent(String.self, forKey: .id)
        type = try? c.decodeIfPresent(String.self, forKey: .type)
        function = try c.decodeIfPresent(Function.self, forKey: .function)
    }
}

extension JSONValue {
    /// The value as compact JSON text (object keys sorted), without Foundation.
    public var compactJSON: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return d.isFinite ? String(d) : "null"
        case .string(let s): return Self.quoted(s)
        case .array(let a): return "[" + a.map(\.compactJSON).joined(separator: ",") + "]"
        case .object(let o):
            return "{" + o.keys.sorted().map { Self.quoted($0) + ":" + o[$0]!.compactJSON }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
