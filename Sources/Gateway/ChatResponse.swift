/// A chat-completions response.
public struct ChatResponse: Sendable, Hashable, Codable {
    /// One alternative reply.
    public struct Choice: Sendable, Hashable, Codable {
        /// The choice's index.
        public var index: Int
        /// The reply.
        public var message: ChatMessage
        /// `stop`, `length`, `tool_calls`, `content_filter`, or `nil`.
        public var finishReason: String?

        /// Creates a choice.
        public init(index: Int = 0, message: ChatMessage, finishReason: String? = "stop") {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }
    }

    /// The provider's response id.
    public var id: String
    /// The model that answered, as the provider names it.
    public var model: String
    /// Unix seconds.
    public var created: Int?
    /// The replies (at least one).
    public var choices: [Choice]
    /// Token counts; `nil` when the provider sent none (the cost is then estimated).
    public var usage: Usage?

    /// Creates a response.
    public init(id: String, model: String, created: Int? = nil, choices: [Choice], usage: Usage?) {
        self.id = id
        self.model = model
        self.created = created
        self.choices = choices
        self.usage = usage
    }

    /// The first choice's message.
    public var message: ChatMessage? { choices.first?.message }
    /// The first choice's text.
    public var text: String { choices.first?.message.content?.text ?? "" }
}

/// One chunk of a streamed chat completion (`chat.completion.chunk`).
public struct ChatCompletionChunk: Sendable, Hashable, Codable {
    /// The incremental part of one choice.
    public struct Delta: Sendable, Hashable, Codable {
        /// A fragment of a tool call; fragments with the same index join into one call.
        public struct ToolCallDelta: Sendable, Hashable, Codable {
            /// The function fragment.
            public struct Function: Sendable, Hashable, Codable {
                /// The name (usually in the first fragment only).
                public var name: String?
                /// A piece of the JSON arguments.
                public var arguments: String?
                /// Creates a fragment.
                public init(name: String? = nil, arguments: String? = nil) {
                    self.name = name
                    self.arguments = arguments
                }
            }
            /// Which call this fragment belongs to.
            public var index: Int
            /// The call id (first fragment).
            public var id: String?
            /// `function` (first fragment).
            public var type: String?
            /// The function fragment.
            public var function: Function?
            /// Creates a fragment.
            public init(index: Int, id: String? = nil, type: String? = nil, function: Function? = nil) {
                self.index = index
                self.id = id
                self.type = type
                self.function = function
            }
        }
        /// The role (first chunk).
        public var role: ChatMessage.Role?
        /// A piece of the text.
        public var content: String?
        /// A piece of the reasoning text (DeepSeek-R1).
        public var reasoningContent: String?
        /// Tool-call fragments.
        public var toolCalls: [ToolCallDelta]?

        /// Creates a delta.
        public init(role: ChatMessage.Role? = nil, content: String? = nil, reasoningContent: String? = nil, toolCalls: [ToolCallDelta]? = nil) {
            self.role = role
            self.content = content
            self.reasoningContent = reasoningContent
            self.toolCalls = toolCalls
        }

        enum CodingKeys: String, CodingKey {
            case role, content
            case reasoningContent = "reasoning_content"
            case toolCalls = "tool_calls"
        }
    }

    /// One choice's increment.
    public struct Choice: Sendable, Hashable, Codable {
        /// The choice's index.
        public var index: Int
        /// The increment.
        public var delta: Delta
        /// Set on the choice's last chunk.
        public var finishReason: String?
        /// Creates a choice increment.
        public init(index: Int = 0, delta: Delta, finishReason: String? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }
        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }
    }

    /// The response id (the same in every chunk).
    public var id: String
    /// The model.
    public var model: String
    /// The increments (empty in the final usage chunk).
    public var choices: [Choice]
    /// Token counts, in the final chunk when `include_usage` was asked for.
    public var usage: Usage?

    /// Creates a chunk.
    public init(id: String, model: String, choices: [Choice], usage: Usage? = nil) {
        self.id = id
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
