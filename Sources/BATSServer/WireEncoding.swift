import Foundation
import Gateway

/// The replies in the OpenAI wire shape, from the gateway's typed replies.
///
/// The typed replies keep what BATS reads (ids, messages, tool calls, reasoning text, finish reasons, usage);
/// provider-specific extras (`logprobs`, `system_fingerprint`) are not passed on.
enum WireEncoding {
    /// `chat.completion`.
    struct Completion: Encodable {
        let r: ChatResponse
        let now: Int

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(r.id.isEmpty ? "chatcmpl-bats" : r.id, forKey: AnyKey("id"))
            try c.encode("chat.completion", forKey: AnyKey("object"))
            try c.encode(r.created ?? now, forKey: AnyKey("created"))
            try c.encode(r.model, forKey: AnyKey("model"))
            try c.encode(r.choices.map(Choice.init), forKey: AnyKey("choices"))
            try c.encodeIfPresent(r.usage, forKey: AnyKey("usage"))
        }

        struct Choice: Encodable {
            let c: ChatResponse.Choice
            init(_ c: ChatResponse.Choice) { self.c = c }
            func encode(to encoder: any Encoder) throws {
                var k = encoder.container(keyedBy: AnyKey.self)
                try k.encode(c.index, forKey: AnyKey("index"))
                try k.encode(Message(m: c.message), forKey: AnyKey("message"))
                try k.encode(c.finishReason, forKey: AnyKey("finish_reason"))
                try k.encodeNil(forKey: AnyKey("logprobs"))
            }
        }

        /// A reply message: `content` is always written (`null` when there is none), as OpenAI does.
        struct Message: Encodable {
            let m: ChatMessage
            func encode(to encoder: any Encoder) throws {
                var k = encoder.container(keyedBy: AnyKey.self)
                try k.encode(m.role.rawValue, forKey: AnyKey("role"))
                if let content = m.content { try k.encode(content.text, forKey: AnyKey("content")) } else { try k.encodeNil(forKey: AnyKey("content")) }
                try k.encodeIfPresent(m.toolCalls, forKey: AnyKey("tool_calls"))
                try k.encodeIfPresent(m.reasoningContent, forKey: AnyKey("reasoning_content"))
            }
        }
    }

    /// One `chat.completion.chunk`, as an SSE `data:` frame.
    static func chunkFrame(_ chunk: ChatCompletionChunk, created: Int) -> [UInt8] {
        Array("data: ".utf8) + WireJSON.encode(Chunk(c: chunk, created: created)) + Array("\n\n".utf8)
    }

    struct Chunk: Encodable {
        let c: ChatCompletionChunk
        let created: Int
        func encode(to encoder: any Encoder) throws {
            var k = encoder.container(keyedBy: AnyKey.self)
            try k.encode(c.id.isEmpty ? "chatcmpl-bats" : c.id, forKey: AnyKey("id"))
            try k.encode("chat.completion.chunk", forKey: AnyKey("object"))
            try k.encode(created, forKey: AnyKey("created"))
            try k.encode(c.model, forKey: AnyKey("model"))
            try k.encode(c.choices, forKey: AnyKey("choices"))
            if let u = c.usage { try k.encode(u, forKey: AnyKey("usage")) }
        }
    }

    /// The `list` of embeddings; vectors as float arrays, or as base64 of little-endian float32 when asked.
    struct Embeddings: Encodable {
        let r: EmbeddingsResponse
        let base64: Bool
        func encode(to encoder: any Encoder) throws {
            var k = encoder.container(keyedBy: AnyKey.self)
            try k.encode("list", forKey: AnyKey("object"))
            try k.encode(r.model, forKey: AnyKey("model"))
            var data = k.nestedUnkeyedContainer(forKey: AnyKey("data"))
            for e in r.data {
                var item = data.nestedContainer(keyedBy: AnyKey.self)
                try item.encode("embedding", forKey: AnyKey("object"))
                try item.encode(e.index, forKey: AnyKey("index"))
                if base64 {
                    try item.encode(Self.base64(e.embedding), forKey: AnyKey("embedding"))
                } else {
                    try item.encode(e.embedding, forKey: AnyKey("embedding"))
                }
            }
            let u = r.usage ?? Usage(promptTokens: 0, completionTokens: 0)
            try k.encode(["prompt_tokens": u.promptTokens, "total_tokens": u.totalTokens], forKey: AnyKey("usage"))
        }

        static func base64(_ v: [Double]) -> String {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(v.count * 4)
            for d in v {
                let bits = Float(d).bitPattern.littleEndian
                withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
            }
            return Data(bytes).base64EncodedString()
        }
    }

    /// The generated images.
    struct Images: Encodable {
        let r: ImageGenerationResponse
        let now: Int
        func encode(to encoder: any Encoder) throws {
            var k = encoder.container(keyedBy: AnyKey.self)
            try k.encode(r.created ?? now, forKey: AnyKey("created"))
            var data = k.nestedUnkeyedContainer(forKey: AnyKey("data"))
            for i in r.data {
                var item = data.nestedContainer(keyedBy: AnyKey.self)
                try item.encodeIfPresent(i.url, forKey: AnyKey("url"))
                try item.encodeIfPresent(i.b64JSON, forKey: AnyKey("b64_json"))
                try item.encodeIfPresent(i.revisedPrompt, forKey: AnyKey("revised_prompt"))
            }
        }
    }
}
