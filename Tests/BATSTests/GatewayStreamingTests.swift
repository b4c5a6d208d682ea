import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

@Suite("Gateway client: streaming over loopback HTTP", .timeLimit(.minutes(1)))
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

    /// The server sends the rest of the stream only once the first chunk has reached the consumer: a client that
    /// buffered the body would never see it (and the test would hit its time limit).
    @Test func chunksAreDeliveredAsTheyArrive() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            let firstChunkSeen = ScriptedResponse.Gate()
            server.enqueue(.sse(transcript, chunkSize: 40).inserting(.wait(firstChunkSeen), afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            var acc = ChatStreamAccumulator()
            for try await chunk in try await client.stream(.hello()) {
                acc.add(chunk)
                firstChunkSeen.open()
            }
            #expect(acc.chunkCount == 6)
            #expect(acc.text == "Héllo, wörld 🌍 你好!")
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
            // When body bytes and the close arrive together, AsyncHTTPClient may fail the body before handing over the
            // parts it had; so the server sends the rest and closes only once the first chunk has reached the consumer.
            let transcript = try GatewayFixture.text("chat_stream.sse")
            let firstChunkSeen = ScriptedResponse.Gate()
            server.enqueue(.sse(transcript, closeAfterBytes: 700).inserting(.wait(firstChunkSeen), afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            var acc = ChatStreamAccumulator()
            let e = await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) {
                    acc.add(chunk)
                    firstChunkSeen.open()
                }
            }
            #expect(e?.kind == .streamInterrupted)
            #expect(acc.chunkCount >= 1, "no chunk before \(String(describing: e))")
            #expect(server.requests.count == 1)  // a stream that started is not retried
        }
    }

    /// The server stalls after the first event: only the client can close the connection.
    @Test func stoppingIterationCancelsTheRequest() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            server.enqueue(.sse(transcript).inserting(.hold, afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            do {
                let stream = try await client.stream(.hello(), options: .init(timeout: manualTimeout), logger: nil)
                for try await _ in stream { break }
            }
            await server.waitForClosedConnections(1)
            #expect(server.connectionsClosed == 1)
        }
    }

    @Test func cancellingTheConsumingTaskCancelsTheRequest() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            server.enqueue(.sse(transcript).inserting(.hold, afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            let firstChunkSeen = ScriptedResponse.Gate()
            let task = Task {
                var n = 0
                for try await _ in try await client.stream(.hello(), options: .init(timeout: manualTimeout), logger: nil) {
                    n += 1
                    firstChunkSeen.open()
                }
                return n
            }
            await firstChunkSeen.wait()
            task.cancel()
            switch await task.result {
            case .success(let n): Issue.record("the stream finished (\(n) chunks) instead of being cancelled")
            case .failure(let error): #expect(error is CancellationError, "got \(error)")
            }
            await server.waitForClosedConnections(1)
            #expect(server.connectionsClosed == 1)
        }
    }

    /// A consumer cancelled between two chunks (not inside a read) is told so: the stream does not just end, which
    /// would pass a cut stream off as a whole one.
    @Test func aConsumerCancelledBetweenChunksGetsCancellationError() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse")))
            let stream = try await client.stream(.hello())
            let task = Task {
                var n = 0
                for try await _ in stream {
                    n += 1
                    withUnsafeCurrentTask { $0?.cancel() }  // cancelled while it holds a chunk, before asking for the next
                }
                return n
            }
            switch await task.result {
            case .success(let n): Issue.record("the stream finished (\(n) chunks) instead of being cancelled")
            case .failure(let error): #expect(error is CancellationError, "got \(error)")
            }
        }
    }

    /// The deadline passes while the client waits for bytes that do not come: its timer on the injected clock fires.
    @Test func streamDeadlineBoundsAStalledStream() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(clock: clock) { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            server.enqueue(.sse(transcript).inserting(.hold, afterBytes: try offset(afterDataEvents: 2, in: transcript)))
            let start = clock.now
            let twoChunksSeen = ScriptedResponse.Gate()
            async let failure = expectGatewayError {
                var n = 0
                for try await _ in try await client.stream(.hello(), options: .init(timeout: manualTimeout)) {
                    n += 1
                    if n == 2 { twoChunksSeen.open() }
                }
            }
            await twoChunksSeen.wait()
            await clock.waitForSleeper(until: start + manualTimeout)  // the read of the third chunk is waiting
            clock.advance(by: manualTimeout)
            let e = try #require(await failure)
            #expect(e.kind == .timeout)
            #expect(e.detail?.contains("stream timed out") == true, "\(e)")
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
