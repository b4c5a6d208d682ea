import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

/// Usage decoding stays lenient (a weird `usage` never fails the reply) but tells the truth in `problems`.
@Suite("Gateway usage: malformed or hostile counts are decoded leniently and reported as problems")
struct GatewayUsageTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var json: String
        var prompt: Int
        var completion: Int
        var total: Int
        var cached: Int? = nil
        var reasoning: Int? = nil
        var cacheWrite: Int? = nil
        /// A piece of text each expected problem contains; empty when the usage is well formed.
        var problems: [String] = []
        var testDescription: String { json }
    }

    static let cases: [Case] = [
        // Well formed.
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}"#, prompt: 12, completion: 5, total: 17),
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5}"#, prompt: 12, completion: 5, total: 17),
        .init(
            json: #"{"prompt_tokens":21,"completion_tokens":12,"total_tokens":33,"prompt_tokens_details":{"cached_tokens":16},"completion_tokens_details":{"reasoning_tokens":0}}"#,
            prompt: 21, completion: 12, total: 33, cached: 16, reasoning: 0),
        .init(json: #"{"prompt_tokens":12.0,"completion_tokens":5.0,"total_tokens":17.0}"#, prompt: 12, completion: 5, total: 17),
        .init(json: #"{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}"#, prompt: 0, completion: 0, total: 0),
        .init(json: #"{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":null}"#, prompt: 3, completion: 4, total: 7),
        // Missing counts.
        .init(json: "{}", prompt: 0, completion: 0, total: 0, problems: ["prompt_tokens", "completion_tokens"]),
        .init(json: #"{"total_tokens":17}"#, prompt: 0, completion: 0, total: 17, problems: ["prompt_tokens", "completion_tokens", "total_tokens"]),
        .init(json: #"{"prompt_tokens":12}"#, prompt: 12, completion: 0, total: 12, problems: ["completion_tokens"]),
        .init(json: #"{"prompt_tokens":null,"completion_tokens":5}"#, prompt: 0, completion: 5, total: 5, problems: ["prompt_tokens"]),
        // Wrong types.
        .init(json: #"{"prompt_tokens":"12","completion_tokens":"5","total_tokens":"17"}"#, prompt: 0, completion: 0, total: 0,
              problems: ["prompt_tokens", "completion_tokens", "total_tokens"]),
        .init(json: #"{"prompt_tokens":12.5,"completion_tokens":5}"#, prompt: 0, completion: 5, total: 5, problems: ["prompt_tokens"]),
        .init(json: #"{"prompt_tokens":true,"completion_tokens":[5]}"#, prompt: 0, completion: 0, total: 0, problems: ["prompt_tokens", "completion_tokens"]),
        // Negative counts are never stored as given.
        .init(json: #"{"prompt_tokens":-5,"completion_tokens":3}"#, prompt: 0, completion: 3, total: 3, problems: ["prompt_tokens"]),
        .init(json: #"{"prompt_tokens":5,"completion_tokens":-3,"total_tokens":2}"#, prompt: 5, completion: 0, total: 2,
              problems: ["completion_tokens", "total_tokens"]),
        .init(json: #"{"prompt_tokens":5,"completion_tokens":3,"total_tokens":-8}"#, prompt: 5, completion: 3, total: 8, problems: ["total_tokens"]),
        // A total that does not add up.
        .init(json: #"{"prompt_tokens":5,"completion_tokens":3,"total_tokens":100}"#, prompt: 5, completion: 3, total: 100, problems: ["total_tokens"]),
        // Details.
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":20}}"#, prompt: 12, completion: 5, total: 17,
              problems: ["cached_tokens"]),
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":-1}}"#, prompt: 12, completion: 5, total: 17,
              problems: ["cached_tokens"]),
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":6}}"#, prompt: 12, completion: 5, total: 17,
              problems: ["reasoning_tokens"]),
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":"3"}}"#, prompt: 12, completion: 5, total: 17,
              problems: ["reasoning_tokens"]),
        .init(json: #"{"prompt_tokens":12,"completion_tokens":5,"prompt_tokens_details":7}"#, prompt: 12, completion: 5, total: 17,
              problems: ["prompt_tokens_details"]),
        // Absurd values never overflow.
        .init(json: #"{"prompt_tokens":1000000000000,"completion_tokens":5}"#, prompt: 0, completion: 5, total: 5, problems: ["prompt_tokens"]),
        .init(json: #"{"prompt_tokens":1e30,"completion_tokens":1e300,"total_tokens":1e308}"#, prompt: 0, completion: 0, total: 0,
              problems: ["prompt_tokens", "completion_tokens", "total_tokens"]),
        .init(json: #"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807,"total_tokens":9223372036854775807}"#,
              prompt: 0, completion: 0, total: 0, problems: ["prompt_tokens", "completion_tokens", "total_tokens"]),
        .init(json: #"{"prompt_tokens":99999999999999999999999,"completion_tokens":1}"#, prompt: 0, completion: 1, total: 1, problems: ["prompt_tokens"]),
        // Anthropic-style cache counts: passed through beside prompt_tokens (part of it; equal cached_tokens counted once),
        // or in Anthropic's own shape beside input_tokens (not part of it).
        .init(
            json: #"{"prompt_tokens":3000,"completion_tokens":100,"prompt_tokens_details":{"cached_tokens":2000},"cache_read_input_tokens":2000,"cache_creation_input_tokens":500}"#,
            prompt: 3000, completion: 100, total: 3100, cached: 2000, cacheWrite: 500),
        .init(
            json: #"{"input_tokens":500,"output_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":500}"#,
            prompt: 3000, completion: 100, total: 3100, cached: 2000, cacheWrite: 500),
        .init(json: #"{"input_tokens":500,"output_tokens":100,"cache_creation_input_tokens":0}"#, prompt: 500, completion: 100, total: 600, cacheWrite: 0),
        // LiteLLM's own copy of the cache writes in prompt_tokens_details: the same tokens, counted once.
        .init(
            json: #"{"prompt_tokens":98805,"completion_tokens":5120,"prompt_tokens_details":{"cached_tokens":66360,"cache_creation_tokens":32435},"cache_read_input_tokens":66360,"cache_creation_input_tokens":32435}"#,
            prompt: 98805, completion: 5120, total: 103925, cached: 66360, cacheWrite: 32435),
        .init(
            json: #"{"prompt_tokens":1000,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0,"cache_creation_tokens":600}}"#,
            prompt: 1000, completion: 1, total: 1001, cached: 0, cacheWrite: 600),
        .init(
            json: #"{"prompt_tokens":1000,"completion_tokens":1,"prompt_tokens_details":{"cache_creation_tokens":600},"cache_creation_input_tokens":500}"#,
            prompt: 1000, completion: 1, total: 1001, cacheWrite: 500, problems: ["disagree"]),
        // Cache counts that cannot be true are dropped and reported.
        .init(json: #"{"prompt_tokens":100,"completion_tokens":1,"cache_read_input_tokens":200}"#, prompt: 100, completion: 1, total: 101,
              problems: ["cache_read_input_tokens"]),
        .init(json: #"{"prompt_tokens":100,"completion_tokens":1,"cache_creation_input_tokens":-5}"#, prompt: 100, completion: 1, total: 101,
              problems: ["cache_creation_input_tokens"]),
        .init(json: #"{"prompt_tokens":100,"completion_tokens":1,"cache_read_input_tokens":"5"}"#, prompt: 100, completion: 1, total: 101,
              problems: ["cache_read_input_tokens"]),
        .init(
            json: #"{"prompt_tokens":100,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":80},"cache_creation_input_tokens":30}"#,
            prompt: 100, completion: 1, total: 101, cached: 80, problems: ["cache_creation_input_tokens"]),
        .init(
            json: #"{"prompt_tokens":1000,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":900},"cache_read_input_tokens":800}"#,
            prompt: 1000, completion: 1, total: 1001, cached: 900, problems: ["disagree"]),
        .init(json: #"{"input_tokens":999999999999,"output_tokens":1,"cache_read_input_tokens":999999999999}"#, prompt: 0, completion: 1, total: 1,
              problems: ["absurd"]),
        // Not an object at all.
        .init(json: #""lots""#, prompt: 0, completion: 0, total: 0, problems: ["object"]),
        .init(json: "[12, 5]", prompt: 0, completion: 0, total: 0, problems: ["object"]),
    ]

    @Test(arguments: cases)
    func decoding(_ c: Case) throws {
        let u = try JSONDecoder().decode(Usage.self, from: Data(c.json.utf8))
        #expect(u.promptTokens == c.prompt)
        #expect(u.completionTokens == c.completion)
        #expect(u.totalTokens == c.total)
        #expect(u.cachedPromptTokens == c.cached)
        #expect(u.reasoningTokens == c.reasoning)
        #expect(u.cacheWritePromptTokens == c.cacheWrite)
        #expect(u.isWellFormed == c.problems.isEmpty, "problems: \(u.problems)")
        #expect(u.problems.count == c.problems.count, "problems: \(u.problems)")
        for p in c.problems {
            #expect(u.problems.contains { $0.contains(p) }, "no problem names \(p): \(u.problems)")
        }
        #expect(u.promptTokens >= 0 && u.completionTokens >= 0 && u.totalTokens >= 0)
    }

    @Test func weirdUsageNeverFailsTheReply() throws {
        for usage in [#"{}"#, #""lots""#, #"{"prompt_tokens":"12","completion_tokens":-1}"#, #"{"prompt_tokens":1e300}"#, "[]"] {
            let body = #"{"id":"x","model":"m","choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":\#(usage)}"#
            let reply = try JSONDecoder().decode(ChatResponse.self, from: Data(body.utf8))
            #expect(reply.text == "hi")
            #expect(reply.usage?.isWellFormed == false, "\(usage)")
        }
        let none = try JSONDecoder().decode(ChatResponse.self, from: Data(#"{"choices":[],"usage":null}"#.utf8))
        #expect(none.usage == nil)
        let chunk = try JSONDecoder().decode(ChatCompletionChunk.self, from: Data(#"{"choices":[],"usage":{"total_tokens":9}}"#.utf8))
        #expect(chunk.usage?.isWellFormed == false)
    }

    @Test func embeddingsUsageNeedsOnlyPromptTokens() throws {
        func usage(_ json: String) throws -> Usage? {
            try JSONDecoder().decode(EmbeddingsResponse.self, from: Data(#"{"data":[],"usage":\#(json)}"#.utf8)).usage
        }
        let ok = try #require(try usage(#"{"prompt_tokens":8,"total_tokens":8}"#))
        #expect(ok.isWellFormed && ok.promptTokens == 8 && ok.completionTokens == 0 && ok.totalTokens == 8, "\(ok.problems)")
        let totalOnly = try #require(try usage(#"{"total_tokens":8}"#))
        #expect(!totalOnly.isWellFormed && totalOnly.promptTokens == 0 && totalOnly.totalTokens == 8)
        let negative = try #require(try usage(#"{"prompt_tokens":-8,"total_tokens":-8}"#))
        #expect(!negative.isWellFormed && negative.promptTokens == 0 && negative.totalTokens == 0)
        let stringly = try #require(try usage(#"{"prompt_tokens":"8","total_tokens":8}"#))
        #expect(!stringly.isWellFormed && stringly.promptTokens == 0)
        let fixture = try JSONDecoder().decode(EmbeddingsResponse.self, from: Data(try GatewayFixture.bytes("embeddings.json")))
        #expect(fixture.usage?.isWellFormed == true)
    }

    @Test func memberwiseInitKeepsGoodCountsAndRefusesBadOnes() {
        let good = Usage(promptTokens: 3, completionTokens: 4, cachedPromptTokens: 1, reasoningTokens: 2)
        #expect(good.isWellFormed && good.problems.isEmpty && good.totalTokens == 7)
        let negative = Usage(promptTokens: -1, completionTokens: 2)
        #expect(negative.promptTokens == 0 && negative.totalTokens == 2 && !negative.isWellFormed)
        // No trap on overflow.
        let huge = Usage(promptTokens: Int.max, completionTokens: Int.max)
        #expect(!huge.isWellFormed && huge.totalTokens >= 0)
        let mismatch = Usage(promptTokens: 3, completionTokens: 4, totalTokens: 9)
        #expect(!mismatch.isWellFormed)
        let given = Usage(promptTokens: 3, completionTokens: 4, problems: ["settled from the estimate"])
        #expect(given.problems == ["settled from the estimate"])
    }

    @Test func encodingStaysOpenAIShaped() throws {
        let bad = try JSONDecoder().decode(Usage.self, from: Data(#"{"prompt_tokens":-5,"completion_tokens":3}"#.utf8))
        let encoded = try json(Array(try JSONEncoder().encode(bad)))
        #expect(encoded == .object(["prompt_tokens": .integer(0), "completion_tokens": .integer(3), "total_tokens": .integer(3)]))
        let full = Usage(promptTokens: 21, completionTokens: 12, cachedPromptTokens: 16, reasoningTokens: 0, cacheWritePromptTokens: 3)
        let text = String(decoding: try JSONEncoder().encode(full), as: UTF8.self)
        #expect(!text.contains("problems"))
        #expect(try JSONDecoder().decode(Usage.self, from: Data(text.utf8)) == full)
    }

    // MARK: - Streams

    typealias D = ChatCompletionChunk.Delta

    @Test func textAfterTheUsageChunkIsCounted() {
        var acc = ChatStreamAccumulator()
        acc.add(.init(id: "a", model: "m", choices: [.init(delta: D(role: .assistant, content: "ab"))]))
        acc.add(.init(id: "a", model: "m", choices: [], usage: Usage(promptTokens: 3, completionTokens: 1)))
        acc.add(.init(id: "a", model: "m", choices: [.init(delta: D(content: "cdé", reasoningContent: "rr"))]))
        acc.add(.init(id: "a", model: "m", choices: [.init(delta: D(toolCalls: [.init(index: 0, id: "c", function: .init(name: "fn", arguments: "{}"))]))]))
        #expect(acc.receivedTextBytes == 2 + 4 + 2 + 2 + 2)
        #expect(acc.textBytesAfterUsage == 4 + 2 + 2 + 2)
        #expect(acc.usageReportCount == 1)
        #expect(acc.usage?.isWellFormed == true)
        #expect(acc.response.text == "abcdé")
    }

    @Test func differentUsageChunksAreAProblem() {
        var acc = ChatStreamAccumulator()
        acc.add(.init(id: "a", model: "m", choices: [.init(delta: D(content: "ab"))], usage: Usage(promptTokens: 3, completionTokens: 1)))
        acc.add(.init(id: "a", model: "m", choices: [], usage: Usage(promptTokens: 3, completionTokens: 1)))
        #expect(acc.usage?.isWellFormed == true, "the same report twice is fine")
        acc.add(.init(id: "a", model: "m", choices: [], usage: Usage(promptTokens: 3, completionTokens: 40)))
        let u = acc.usage
        #expect(u?.completionTokens == 40)
        #expect(u?.isWellFormed == false)
        #expect(u?.problems.contains { $0.contains("usage") } == true, "\(u?.problems ?? [])")
        #expect(acc.usageReportCount == 3)
        #expect(acc.response.usage == u)
    }

    @Test func malformedUsageInAStreamOverLoopbackIsReported() async throws {
        try await withLoopbackClient { server, client in
            let transcript = """
                data: {"id":"s","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}

                data: {"id":"s","model":"m","choices":[],"usage":{"prompt_tokens":"9","completion_tokens":-7}}

                data: {"id":"s","model":"m","choices":[{"index":0,"delta":{"content":" there"}}]}

                data: [DONE]


                """
            server.enqueue(.sse(transcript, chunkSize: 17))
            var acc = ChatStreamAccumulator()
            for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) { acc.add(chunk) }
            let u = try #require(acc.usage)
            #expect(!u.isWellFormed)
            #expect(u.promptTokens == 0 && u.completionTokens == 0)
            #expect(acc.receivedTextBytes == 8 && acc.textBytesAfterUsage == 6)
        }
    }
}
