/// One message of a chat conversation in the OpenAI wire format.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who wrote a message.
    public struct Role: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The role's wire name.
        public var rawValue: String
        /// Creates a role.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Instructions for the model.
        public static let system = Role(rawValue: "system")
        /// The user's turn.
        public static let user = Role(rawValue: "user")
        /// The model's turn.
        public static let assistant = Role(rawValue: "assistant")
        /// A tool's result.
        public static let tool = Role(rawValue: "tool")
        /// The wire name.
        public var description: String { rawValue }
    }

    /// A message's content: plain text or a list of parts (text and images).
    public enum Content: Sendable, Hashable, Codable {
        /// Plain text.
        case text(String)
        /// Text and image parts.
        case parts([ContentPart])

        /// Decodes a string or an array of parts.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .text(s) } else { self = .parts(try c.decode([ContentPart].self)) }
        }

        /// Encodes a string or an array of parts.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .parts(let p): try c.encode(p)
            }
        }

        /// All text in the content, parts joined without separators.
        public var text: String {
            switch self {
            case .text(let s): s
            case .parts(let p): p.compactMap(\.text).joined()
            }
        }

        /// How many image parts the content has.
        public var imageCount: Int {
            if case .parts(let p) = self { p.filter { $0.imageURL != nil }.count } else { 0 }
        }
    }

    /// One part of a multi-part content: text, or an image by URL (https or a base64 `data:` URL).
    public struct ContentPart: Sendable, Hashable, Codable {
        /// An image reference.
        public struct ImageURL: Sendable, Hashable, Codable {
            /// An https URL or a `data:image/...;base64,...` URL.
            public var url: String
            /// `low`, `high` or `auto`.
            public var detail: String?
            /// Creates an image reference.
            public init(url: String, detail: String? = nil) {
                self.url = url
                self.detail = detail
            }
        }

        /// `text` or `image_url`.
        public var type: String
        /// The text of a text part.
        public var text: String?
        /// The image of an image part.
        public var imageURL: ImageURL?

        /// A text part.
        public static func text(_ text: String) -> ContentPart { .init(type: "text", text: text, imageURL: nil) }
        /// An image part.
        public static func image(url: String, detail: String? = nil) -> ContentPart {
            .init(type: "image_url", text: nil, imageURL: .init(url: url, detail: detail))
        }

        enum CodingKeys: String, CodingKey {
            case type, text
            case imageURL = "image_url"
        }
    }

    /// The author.
    public var role: Role
    /// The content; `nil` for an assistant message that only calls tools.
    public var content: Content?
    /// An optional participant name.
    public var name: String?
    /// Tool calls made by the assistant.
    public var toolCalls: [ToolCall]?
    /// For a tool message: the call it answers.
    public var toolCallID: String?
    /// Reasoning text some providers return beside the answer (DeepSeek-R1's `reasoning_content`).
    public var reasoningContent: String?

    /// Creates a message.
    public init(
        role: Role, content: Content?, name: String? = nil, toolCalls: [ToolCall]? = nil, toolCallID: String? = nil,
        reasoningContent: String? = nil
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.reasoningContent = reasoningContent
    }

    /// A system message.
    public static func system(_ text: String) -> ChatMessage { .init(role: .system, content: .text(text)) }
    /// A user message.
    public static func user(_ text: String) -> ChatMessage { .init(role: .user, content: .text(text)) }
    /// A user message with parts (text and images).
    public static func user(parts: [ContentPart]) -> ChatMessage { .init(role: .user, content: .parts(parts)) }
    /// An assistant message.
    public static func assistant(_ text: String) -> ChatMessage { .init(role: .assistant, content: .text(text)) }
    /// A tool result answering the call `id`.
    public static func tool(callID id: String, content: String) -> ChatMessage {
        .init(role: .tool, content: .text(content), toolCallID: id)
    }

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }
}

/// A function call the model asks for.
public struct ToolCall: Sendable, Hashable, Codable {
    /// The function and its JSON-encoded arguments.
    public struct Function: Sendable, Hashable, Codable {
        /// The function's name.
        public var name: String
        /// The arguments as a JSON string (as the model wrote it; it may not be valid JSON).
        public var arguments: String
        /// Creates a function call.
        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }
    }
    /// The call's id, echoed by the tool message that answers it.
    public var id: String
    /// Always `function`.
    public var type: String
    /// The function called.
    public var function: Function

    /// Creates a tool call.
    public init(id: String, type: String = "function", function: Function) {
        self.id = id
        self.type = type
        self.function = function
    }
}

/// A function the model may call.
public struct Tool: Sendable, Hashable, Codable {
    /// The function's declaration.
    public struct Function: Sendable, Hashable, Codable {
        /// The name.
        public var name: String
        /// What it does.
        public var description: String?
        /// A JSON Schema of its arguments.
        public var parameters: JSONValue?
        /// Creates a declaration.
        public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }
    /// Always `function`.
    public var type: String
    /// The function.
    public var function: Function
    /// Creates a function tool.
    public init(function: Function) {
        self.type = "function"
        self.function = function
    }
}
