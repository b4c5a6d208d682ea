import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

@Suite("Gateway client: streaming over loopback HTTP")
struct GatewayStreamingTests {
    static func collect(_ stream: ChatCompletionStream) async throws -> (ChatStreamAccumulator, [ChatCompletionChunk]) {
        var acc = ChatStreamAccumulator()
        var chunks: [ChatCompletionChunk] = []
        for try await chunk in stream {
            acc.add(chunk)
            chunks.append(chunk)
        }
        return (acc, chunks)
    }

    @Test func streamedChatAssemblesTextAndUsageAndSendsStreamOptions() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse")))
            let (acc, chunks) = try await Self.collect(try await client.stream(.hello(), options: .init(), logger: nil))
            #expect(chunks.count == 6)
            let reply = acc.response
            #expect(reply.id == "chatcmpl-s1")
            #expect(reply.text == "Héllo, wörld 🌍 你好!")
            #expect(reply.choices.first?.finishReason == "stop")
            #expect(reply.usage == Usage(promptTokens: 9, completionTokens: 7, cachedPromptTokens: 0, reasoningTokens: 0))
            let sent = try #require(server.requests.first)
            #expect(sent.header("Accept") == "text/event-stream")
            let body = try json(sent.body)
            #expect(body["stream"] == .bool(true))
            #expect(body["stream_options"] == .object(["include_usage": .bool(true)]))
        }
    }

    @Test func streamedToolCallDeltasJoinByIndex() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream_tools.sse"), chunkSize: 17))
            let (acc, _) = try await Self.collect(try await client.stream(.hello(), options: .init(), logger: nil))
            let message = try #require(acc.response.message)
            #expect(message.content == nil)
            #expect(message.toolCalls == [
                ToolCall(id: "call_w1", function: .init(name: "get_weather", arguments: "{\"city\":\"Paris\"}")),
                ToolCall(id: "call_t2", function: .init(name: "get_time", arguments: "{\"tz\":\"UTC\"}")),
            ])
            #expect(acc.response.choices.first?.finishReason == "tool_calls")
            #expect(acc.usage?.totalTokens == 100)
        }
    }

    @Test func streamedReasoningContentIsKept() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream_reasoning.sse"), chunkSize: 5))
            let (acc, _) = try await Self.collect(try await client.stream(.hello(model: "deepseek-reasoner"), options: .init(), logger: nil))
            #expect(acc.response.message?.reasoningContent == "Let me think: 2+2 is 4.")
            #expect(acc.text == "The answer is 4.")
            #expect(acc.usage?.reasoningTokens == 18)
        }
    }

    /// The same stream over HTTP, cut into writes of every size from 1 byte: the assembled reply never changes.
    @Test(arguments: [1, 2, 3, 4, 7, 13, 64, 1000])
    func streamSplitIntoArbitraryWritesGivesTheSameReply(chunkSize: Int) async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: chunkSize))
            let (acc, chunks) = try await Self.collect(try await client.stream(.hello(), options: .init(), logger: nil))
            #expect(chunks.count == 6)
            #expect(acc.text == "Héllo, wörld 🌍 你好!")
            #expect(acc.usage?.totalTokens == 16)
        }
    }

    @Test func slowStreamDeliversChunksAsTheyArrive() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            let cuts = transcript.utf8.indices.enumerated().compactMap { i, idx in transcript.utf8[idx] == 0x0A ? i + 1 : nil }
            server.enqueue(.sse(transcript, splits: cuts, delay: .milliseconds(30)))
            let start = ContinuousClock.now
            var firstChunkAt: Duration?
            var acc = ChatStreamAccumulator()
            for try await chunk in try await client.stream(.hello(), options: .init(timeout: .seconds(10)), logger: nil) {
                if firstChunkAt == nil { firstChunkAt = ContinuousClock.now - start }
                acc.add(chunk)
            }
            let total = ContinuousClock.now - start
            #expect(acc.text == "Héllo, wörld 🌍 你好!")
            #expect(total >= .milliseconds(300))
            #expect(try #require(firstChunkAt) < total - .milliseconds(200))
        }
    }

    @Test func streamEndingWithoutDoneIsInterrupted() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse").replacingOccurrences(of: "data: [DONE]\n\n", with: "")
            server.enqueue(.sse(transcript))
            var acc = ChatStreamAccumulator()
            let e = await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) { acc.add(chunk) }
            }
            #expect(e?.kind == .streamInterrupted)
            #expect(e?.detail?.contains("without [DONE]") == true)
            #expect(acc.chunkCount == 6)  // what arrived was delivered
        }
    }

    @Test func streamCutMidEventIsInterrupted() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            let cut = try #require(transcript.range(of: ", wörld")).lowerBound.utf16Offset(in: transcript)
            // The body ends cleanly (chunked terminator) but inside an event.
            server.enqueue(.sse(String(transcript.utf8.prefix(cut))!))
            let e = await expectGatewayError {
                for try await _ in try await client.stream(.hello(), options: .init(), logger: nil) {}
            }
            #expect(e?.kind == .streamInterrupted)
            #expect(e?.detail?.contains("mid-event") == true)
        }
    }

    @Test func connectionClosedMidStreamIsInterrupted() async throws {
        try await withLoopbackClient { server, client in
            // A short pause between writes: with all bytes and the close in one read, AsyncHTTPClient sometimes fails the
            // body before handing over the parts it had (about 1 run in 20, with or without BATS changes).
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 100, delay: .milliseconds(5), closeAfterBytes: 700))
            var acc = ChatStreamAccumulator()
            let e = await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) { acc.add(chunk) }
            }
            #expect(e?.kind == .streamInterrupted)
            #expect(acc.chunkCount >= 1, "no chunk before \(String(describing: e))")
            #expect(server.requests.count == 1)  // a stream that started is not retried
        }
    }

    @Test func stoppingIterationCancelsTheRequest() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            server.enqueue(.sse(transcript, chunkSize: 60, delay: .milliseconds(200)))
            do {
                let stream = try await client.stream(.hello(), options: .init(timeout: .seconds(30)), logger: nil)
                for try await _ in stream { break }
            }
            // The client closes the connection instead of reading the remaining ~2 s of stream.
            let start = ContinuousClock.now
            while server.connectionsClosed == 0 && ContinuousClock.now - start < .seconds(3) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(server.connectionsClosed == 1)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
    }

    @Test func cancellingTheConsumingTaskCancelsTheRequest() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 60, delay: .milliseconds(300)))
            let task = Task {
                var n = 0
                for try await _ in try await client.stream(.hello(), options: .init(timeout: .seconds(30)), logger: nil) { n += 1 }
                return n
            }
            try await Task.sleep(for: .milliseconds(400))
            task.cancel()
            let result = await task.result
            switch result {
            case .success(let n): Issue.record("the stream finished (\(n) chunks) instead of being cancelled")
            case .failure(let error): #expect(error is CancellationError, "got \(error)")
            }
            let start = ContinuousClock.now
            while server.connectionsClosed == 0 && ContinuousClock.now - start < .seconds(3) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(server.connectionsClosed == 1)
        }
    }

    @Test func streamDeadlineBoundsASlowStream() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 50, delay: .milliseconds(200)))
            let start = ContinuousClock.now
            let e = await expectGatewayError {
                for try await _ in try await client.stream(.hello(), options: .init(timeout: .milliseconds(500)), logger: nil) {}
            }
            #expect(e?.kind == .timeout)
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }

    @Test func providerErrorInsideTheStreamIsThrown() async throws {
        try await withLoopbackClient { server, client in
            let transcript = """
                data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}

                data: {"error":{"message":"Upstream provider overloaded","type":"server_error","code":"overloaded"}}


                """
            server.enqueue(.sse(transcript))
            var acc = ChatStreamAccumulator()
            let e = await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) { acc.add(chunk) }
            }
            #expect(e?.kind == .server)
            #expect(e?.providerMessage == "Upstream provider overloaded")
            #expect(acc.text == "Hi")
        }
    }

    @Test func garbageEventInTheStreamIsAnInvalidResponse() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse("data: {\"id\":\"x\",\"choices\":[]}\n\ndata: <html>oops</html>\n\ndata: [DONE]\n\n"))
            let e = await expectGatewayError {
                for try await _ in try await client.stream(.hello(), options: .init(), logger: nil) {}
            }
            #expect(e?.kind == .invalidResponse)
            #expect(e?.bodyExcerpt == "<html>oops</html>")
        }
    }

    @Test func errorStatusBeforeTheStreamIsThrownByStream() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.error(status: 404, message: "The model `nope` does not exist", type: "invalid_request_error", code: "model_not_found"))
            let e = await expectGatewayError { _ = try await client.stream(.hello(model: "nope"), options: .init(), logger: nil) }
            #expect(e?.kind == .modelNotFound)
            #expect(e?.status == 404)
        }
    }

    @Test func aProviderIgnoringStreamTrueStillYieldsTheReply() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion_tools.json")))
            let (acc, chunks) = try await Self.collect(try await client.stream(.hello(), options: .init(), logger: nil))
            #expect(chunks.count == 1)
            #expect(acc.response.message?.toolCalls?.map(\.id) == ["call_abc123", "call_def456"])
            #expect(acc.usage?.totalTokens == 120)
        }
    }

    @Test func retriesBeforeTheFirstChunk() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.error(status: 503, message: "busy"))
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse")))
            let (acc, _) = try await Self.collect(try await client.stream(.hello(), options: .init(), logger: nil))
            #expect(acc.text == "Héllo, wörld 🌍 你好!")
            #expect(server.requests.count == 2)
        }
    }
}
