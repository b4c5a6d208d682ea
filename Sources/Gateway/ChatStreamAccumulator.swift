/// Assembles the chunks of a streamed chat completion into the ``ChatResponse`` a non-streamed call would
/// have returned.
///
/// Text and reasoning deltas are concatenated per choice; tool-call fragments are joined by their `index`
/// (id, type and name from the fragments that carry them, arguments concatenated); the finish reason is the
/// last one seen; usage comes from the chunk that carries it (the final chunk when `include_usage` was asked).
///
/// The accumulator does not trust a stream's usage blindly: when several chunks report usage with different
/// values, the last report is kept and a problem is added to its ``Usage/problems``; text that arrives after a
/// usage report is still assembled and counted (``receivedTextBytes``, ``textBytesAfterUsage``), so a caller can
/// see that the report may not cover it.
///
/// ```swift
/// var accumulator = ChatStreamAccumulator()
/// for try await chunk in try await gateway.stream(request, options: .init(), logger: nil) {
///     accumulator.add(chunk)
///     print(chunk.choices.first?.delta.content ?? "", terminator: "")
/// }
/// let response = accumulator.response   // usage is nil if the stream carried none
/// ```
public struct ChatStreamAccumulator: Sendable {
    private struct PartialToolCall: Sendable {
        var id: String?
        var type: String?
        var name: String = ""
        var arguments: String = ""
    }

    private struct PartialChoice: Sendable {
        var role: ChatMessage.Role?
        var content: String = ""
        var sawContent = false
        var reasoning: String = ""
        var sawReasoning = false
        var toolCalls: [Int: PartialToolCall] = [:]
        var finishReason: String?
    }

    private var choices: [Int: PartialChoice] = [:]

    /// The response id (from the first chunk that has one).
    public private(set) var id: String = ""
    /// The model (from the first chunk that names one).
    public private(set) var model: String = ""
    private var lastUsage: Usage?
    private var sawDifferentUsage = false

    /// The usage reported by the stream, if any chunk carried it: the last report, with a problem added when
    /// several chunks reported different values.
    public var usage: Usage? {
        guard var u = lastUsage else { return nil }
        if sawDifferentUsage {
            u.problems.append("the stream reported usage \(usageReportCount) times with different values; the last report was kept")
        }
        return u
    }
    /// How many chunks were added.
    public private(set) var chunkCount = 0
    /// How many chunks carried a usage report.
    public private(set) var usageReportCount = 0
    /// How many UTF-8 bytes of text, reasoning, tool-call names and tool arguments were received over the whole
    /// stream, after any usage report included (for estimating an unreported or doubtful usage).
    public private(set) var receivedTextBytes = 0
    /// How many of ``receivedTextBytes`` arrived after the first usage report: text the report may not count.
    public private(set) var textBytesAfterUsage = 0

    /// Creates an empty accumulator.
    public init() {}

    /// Adds the next chunk.
    /// - Parameter chunk: A chunk, in stream order.
    public mutating func add(_ chunk: ChatCompletionChunk) {
        chunkCount += 1
        if id.isEmpty { id = chunk.id }
        if model.isEmpty { model = chunk.model }
        // Text in the same chunk as a first report counts as covered by it.
        let bytesBefore = receivedTextBytes, afterUsage = usageReportCount > 0
        defer { if afterUsage { textBytesAfterUsage += receivedTextBytes - bytesBefore } }
        if let u = chunk.usage {
            if let last = lastUsage, last != u { sawDifferentUsage = true }
            lastUsage = u
            usageReportCount += 1
        }
        for c in chunk.choices {
            var partial = choices[c.index] ?? PartialChoice()
            let d = c.delta
            if let role = d.role { partial.role = role }
            if let text = d.content {
                partial.content += text
                partial.sawContent = true
                receivedTextBytes += text.utf8.count
            }
            if let r = d.reasoningContent {
                partial.reasoning += r
                partial.sawReasoning = true
                receivedTextBytes += r.utf8.count
            }
            for t in d.toolCalls ?? [] {
                var call = partial.toolCalls[t.index] ?? PartialToolCall()
                if let id = t.id, !id.isEmpty { call.id = id }
                if let type = t.type, !type.isEmpty { call.type = type }
                if let name = t.function?.name, name != call.name {  // some providers repeat it
                    call.name += name
                    receivedTextBytes += name.utf8.count
                }
                if let args = t.function?.arguments {
                    call.arguments += args
                    receivedTextBytes += args.utf8.count
                }
                partial.toolCalls[t.index] = call
            }
            if let reason = c.finishReason { partial.finishReason = reason }
            choices[c.index] = partial
        }
    }

    /// The text received so far for the first choice.
    public var text: String { choices[choices.keys.min() ?? 0]?.content ?? "" }

    /// The response assembled from the chunks added so far.
    ///
    /// A choice with no text and only tool calls has `nil` content, as in a non-streamed reply.
    public var response: ChatResponse {
        let assembled = choices.keys.sorted().map { index -> ChatResponse.Choice in
            let p = choices[index]!
            let calls = p.toolCalls.keys.sorted().map { i -> ToolCall in
                let c = p.toolCalls[i]!
                return ToolCall(id: c.id ?? "call_\(i)", type: c.type ?? "function", function: .init(name: c.name, arguments: c.arguments))
            }
            let content: ChatMessage.Content? = p.sawContent || calls.isEmpty ? .text(p.content) : nil
            let message = ChatMessage(
                role: p.role ?? .assistant, content: content, toolCalls: calls.isEmpty ? nil : calls,
                reasoningContent: p.sawReasoning ? p.reasoning : nil
            )
            return ChatResponse.Choice(index: index, message: message, finishReason: p.finishReason)
        }
        return ChatResponse(id: id, model: model, choices: assembled, usage: usage)
    }
}
