import Foundation
import Synchronization

/// An OpenAI-format upstream for server tests: answers chat (JSON and SSE, text or a tool call), embeddings, images
/// and the model list from what each request asks, with failures and slow streams when told.
///
/// ```swift
/// let mock = OpenAIMock(options: .init(streamPause: .milliseconds(50)))
/// upstream.setResponder(mock.responder)
/// ```
public final class OpenAIMock: Sendable {
    /// How the mock answers.
    public struct Options: Sendable {
        /// Prompt tokens reported per request.
        public var promptTokens: Int
        /// Completion tokens reported per chat reply.
        public var completionTokens: Int
        /// Content pieces in a streamed reply.
        public var streamPieces: Int
        /// A pause between streamed pieces.
        public var streamPause: Duration?
        /// Gateway model ids that always fail with 503.
        public var failingModels: Set<String>
        /// Every n-th chat request fails with 500 (0: never).
        public var failEvery: Int

        /// Creates options.
        public init(
            promptTokens: Int = 8, completionTokens: Int = 10, streamPieces: Int = 4, streamPause: Duration? = nil,
            failingModels: Set<String> = [], failEvery: Int = 0
        ) {
            self.promptTokens = promptTokens
            self.completionTokens = completionTokens
            self.streamPieces = max(1, streamPieces)
            self.streamPause = streamPause
            self.failingModels = failingModels
            self.failEvery = max(0, failEvery)
        }
    }

    /// The options.
    public let options: Options
    private let chats = Atomic<Int>(0)

    /// Creates a mock.
    public init(options: Options = .init()) { self.options = options }

    /// Chat requests answered or failed so far.
    public var chatRequests: Int { chats.load(ordering: .relaxed) }

    /// The responder for ``LoopbackGatewayServer/setResponder(keepingRequests:_:)``.
    public var responder: @Sendable (LoopbackGatewayServer.RecordedRequest) -> ScriptedResponse? {
        { [self] request in self.respond(request) }
    }

    func respond(_ request: LoopbackGatewayServer.RecordedRequest) -> ScriptedResponse? {
        let path = request.path.split(separator: "?").first.map(String.init) ?? request.path
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
        let model = body["model"] as? String ?? ""
        switch path {
        case "/v1/chat/completions": return chat(body, model: model)
        case "/v1/embeddings":
            let n = (body["input"] as? [Any])?.count ?? 1
            let data = (0..<n).map { #"{"object":"embedding","index":\#($0),"embedding":[0.25,-0.5,\#(Double($0) + 1)]}"# }
            return .json(#"{"object":"list","model":"\#(model)","data":[\#(data.joined(separator: ","))],"usage":{"prompt_tokens":\#(options.promptTokens * n),"total_tokens":\#(options.promptTokens * n)}}"#)
        case "/v1/images/generations":
            let n = body["n"] as? Int ?? 1
            let data = (0..<n).map { #"{"url":"https://images.example/\#($0).png"}"# }
            return .json(#"{"created":1764547200,"data":[\#(data.joined(separator: ","))]}"#)
        case "/v1/models":
            return .json(#"{"object":"list","data":[{"id":"deepseek/deepseek-chat","object":"model"}]}"#)
        default:
            return nil
        }
    }

    private func chat(_ body: [String: Any], model: String) -> ScriptedResponse {
        let n = chats.add(1, ordering: .relaxed).newValue
        if options.failingModels.contains(model) {
            return .error(status: 503, message: "model \(model) is overloaded", type: "server_error")
        }
        if options.failEvery > 0, n % options.failEvery == 0 {
            return .error(status: 500, message: "injected failure", type: "server_error")
        }
        let messages = body["messages"] as? [[String: Any]] ?? []
        let images = messages.reduce(0) { n, m in n + ((m["content"] as? [[String: Any]])?.filter { $0["type"] as? String == "image_url" }.count ?? 0) }
        let text = images > 0 ? "I see \(images) image(s), says \(model)" : "Hello from \(model)"
        let tool = ((body["tools"] as? [[String: Any]])?.first?["function"] as? [String: Any])?["name"] as? String
        let usage = #"{"prompt_tokens":\#(options.promptTokens),"completion_tokens":\#(options.completionTokens),"total_tokens":\#(options.promptTokens + options.completionTokens)}"#
        if body["stream"] as? Bool == true {
            let includeUsage = (body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true
            var events: [String] = [#"{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#]
            if let tool {
                events.append(#"{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"\#(tool)","arguments":"{\"symbol\":\"AAPL\"}"}}]}}]}"#)
            } else {
                let words = Self.pieces(text, options.streamPieces)
                for w in words {
                    events.append(#"{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{"content":"\#(w)"}}]}"#)
                }
            }
            events.append(#"{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[{"index":0,"delta":{},"finish_reason":"\#(tool == nil ? "stop" : "tool_calls")"}]}"#)
            if includeUsage {
                events.append(#"{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1,"model":"\#(model)","choices":[],"usage":\#(usage)}"#)
            }
            let frames = events.map { "data: \($0)\n\n" } + ["data: [DONE]\n\n"]
            var splits: [Int] = []
            var at = 0
            for f in frames.dropLast() {
                at += f.utf8.count
                splits.append(at)
            }
            return .sse(frames.joined(), splits: splits, delay: options.streamPause)
        }
        let message: String
        if let tool {
            message = #"{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"\#(tool)","arguments":"{\"symbol\":\"AAPL\"}"}}]}"#
        } else {
            message = #"{"role":"assistant","content":"\#(text)"}"#
        }
        return .json(
            #"{"id":"chatcmpl-mock","object":"chat.completion","created":1,"model":"\#(model)","choices":[{"index":0,"message":\#(message),"finish_reason":"\#(tool == nil ? "stop" : "tool_calls")"}],"usage":\#(usage)}"#)
    }

    static func pieces(_ text: String, _ n: Int) -> [String] {
        let chars = Array(text)
        let size = max(1, (chars.count + n - 1) / n)
        return stride(from: 0, to: chars.count, by: size).map { String(chars[$0..<min(chars.count, $0 + size)]) }
    }
}
