import Foundation
import Gateway

/// A `POST /v1/chat/completions` body, read strictly: known fields must have their OpenAI types, unknown fields pass
/// through to the upstream as they are.
///
/// - `model` names the route (``RoutingName``); `stream` and `stream_options.include_usage` say how to reply.
/// - `max_completion_tokens` counts as `max_tokens` (the smaller wins) and is never forwarded: the router sends the
///   cap it reserved for, so the provider cannot bill past it.
/// - `n` other than 1 is refused: a reservation covers one completion.
struct ChatCompletionBody: Decodable {
    var model: String
    var request: ChatRequest
    var stream: Bool
    var includeUsage: Bool
    var maxTokens: Int?

    /// Fields with a type the server checks before passing them on (name → what it must be).
    static let checkedExtras: [String: JSONKind] = [
        "top_p": .number, "presence_penalty": .number, "frequency_penalty": .number, "logprobs": .bool, "top_logprobs": .integer,
        "parallel_tool_calls": .bool, "logit_bias": .object, "metadata": .object, "store": .bool, "reasoning_effort": .string,
        "service_tier": .string, "modalities": .array, "prediction": .object,
    ]
    /// Fields never forwarded (the router sets them, or they could make the provider bill past the reservation).
    static let dropped: Set<String> = ["max_completion_tokens", "n", "stream", "stream_options"]

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        let modelKey = AnyKey("model")
        guard c.contains(modelKey) else {
            throw OpenAIError.invalidRequest("you must provide a model parameter", param: "model")
        }
        model = try c.decode(String.self, forKey: modelKey)
        let messages = try c.decode([ChatMessage].self, forKey: AnyKey("messages"))
        if messages.isEmpty { throw OpenAIError.invalidRequest("messages must not be empty", param: "messages") }
        var r = ChatRequest(messages: messages)
        r.tools = try c.decodeIfPresent([Tool].self, forKey: AnyKey("tools"))
        r.toolChoice = try c.decodeIfPresent(JSONValue.self, forKey: AnyKey("tool_choice"))
        r.temperature = try c.decodeIfPresent(Double.self, forKey: AnyKey("temperature"))
        let maxTokens = try c.decodeIfPresent(Int.self, forKey: AnyKey("max_tokens"))
        let maxCompletion = try c.decodeIfPresent(Int.self, forKey: AnyKey("max_completion_tokens"))
        for (name, v) in [("max_tokens", maxTokens), ("max_completion_tokens", maxCompletion)] {
            if let v, v < 1 { throw OpenAIError.invalidRequest("\(name) must be at least 1", param: name) }
        }
        self.maxTokens = [maxTokens, maxCompletion].compactMap { $0 }.min()
        if let s = try? c.decodeIfPresent(String.self, forKey: AnyKey("stop")) {
            r.stop = [s]
        } else {
            r.stop = try c.decodeIfPresent([String].self, forKey: AnyKey("stop"))
        }
        r.seed = try c.decodeIfPresent(Int.self, forKey: AnyKey("seed"))
        r.responseFormat = try c.decodeIfPresent(JSONValue.self, forKey: AnyKey("response_format"))
        r.user = try c.decodeIfPresent(String.self, forKey: AnyKey("user"))
        if let n = try c.decodeIfPresent(Int.self, forKey: AnyKey("n")), n != 1 {
            throw OpenAIError.invalidRequest("n must be 1: a budget reservation covers one completion", param: "n")
        }
        stream = try c.decodeIfPresent(Bool.self, forKey: AnyKey("stream")) ?? false
        let options = try c.decodeIfPresent(StreamOptions.self, forKey: AnyKey("stream_options"))
        includeUsage = options?.includeUsage ?? false
        let known: Set<String> = [
            "model", "messages", "tools", "tool_choice", "temperature", "max_tokens", "stop", "seed", "response_format", "user",
        ]
        for key in c.allKeys where !known.contains(key.stringValue) && !Self.dropped.contains(key.stringValue) {
            let v = try c.decode(JSONValue.self, forKey: key)
            if let kind = Self.checkedExtras[key.stringValue], !kind.matches(v) {
                throw OpenAIError.invalidRequest("\(key.stringValue) must be \(kind.description)", param: key.stringValue)
            }
            r.extra[key.stringValue] = v
        }
        request = r
    }

    struct StreamOptions: Decodable {
        var includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }
}

/// A JSON object key by name.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// The JSON type a passed-through field must have.
enum JSONKind: CustomStringConvertible {
    case number, integer, bool, string, object, array

    func matches(_ v: JSONValue) -> Bool {
        switch (self, v) {
        case (_, .null): true
        case (.number, .number), (.number, .integer), (.integer, .integer), (.bool, .bool), (.string, .string), (.object, .object),
            (.array, .array):
            true
        default: false
        }
    }

    var description: String {
        switch self {
        case .number: "a number"
        case .integer: "an integer"
        case .bool: "a boolean"
        case .string: "a string"
        case .object: "an object"
        case .array: "an array"
        }
    }
}

/// Reads a request body as JSON into `T`, turning every failure into a 400 that names the field.
enum RequestJSON {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(OpenAIError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let e as OpenAIError {
            throw e
        } catch let e as DecodingError {
            throw describe(e)
        } catch {
            throw .invalidRequest("the request body could not be read: \(error)")
        }
    }

    static func describe(_ e: DecodingError) -> OpenAIError {
        func path(_ p: [any CodingKey]) -> String? {
            guard !p.isEmpty else { return nil }
            var s = ""
            for k in p {
                if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
            }
            return s
        }
        switch e {
        case .typeMismatch(let t, let c):
            let p = path(c.codingPath)
            return .invalidRequest("\(p ?? "the body") has the wrong type (expected \(t))", param: p)
        case .valueNotFound(let t, let c):
            let p = path(c.codingPath)
            return .invalidRequest("\(p ?? "the body") must not be null (expected \(t))", param: p)
        case .keyNotFound(let k, let c):
            let p = path(c.codingPath + [k])
            return .invalidRequest("missing required parameter '\(p ?? k.stringValue)'", param: p)
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty { return .invalidRequest("the request body is not valid JSON", code: "invalid_json") }
            let p = path(c.codingPath)
            return .invalidRequest("\(p ?? "the body") is invalid: \(c.debugDescription)", param: p)
        @unknown default:
            return .invalidRequest("the request body could not be read")
        }
    }
}
