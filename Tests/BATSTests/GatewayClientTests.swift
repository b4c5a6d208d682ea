import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

@Suite("Gateway client: requests and replies over loopback HTTP", .timeLimit(.minutes(1)))
struct GatewayClientTests {
    @Test func plainChatSendsTheOpenAIRequestAndDecodesTheReply() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json"), headers: [("x-request-id", "req-1")]), path: "/chat/completions")
            var request = ChatRequest.hello()
            request.stop = ["\n\n"]
            request.seed = 7
            request.user = "user-42"
            request.responseFormat = .object(["type": .string("json_object")])
            request.extra = ["top_p": .number(0.9)]
            let reply = try await client.complete(
                request, options: .init(timeout: .seconds(5), requestID: "bats-123", headers: ["X-Title": "BATS"]), logger: nil
            )
            #expect(reply.id == "chatcmpl-9xYz01")
            #expect(reply.text == "Bonjour ! Ça va très bien, merci. 👋")
            #expect(reply.usage == Usage(promptTokens: 21, completionTokens: 12, totalTokens: 33, cachedPromptTokens: 16, reasoningTokens: 0))

            let sent = try #require(server.requests.first)
            #expect(sent.method == "POST")
            #expect(sent.path == "/v1/chat/completions")
            #expect(sent.header("Authorization") == "Bearer \(fakeAPIKey)")
            #expect(sent.header("Content-Type") == "application/json")
            #expect(sent.header("X-Request-ID") == "bats-123")
            #expect(sent.header("X-Title") == "BATS")
            let body = try json(sent.body)
            #expect(body["model"] == .string("gpt-4o-mini"))
            #expect(body["max_tokens"] == .integer(64))
            #expect(body["temperature"] == .number(0.2))
            #expect(body["stop"] == .array([.string("\n\n")]))
            #expect(body["seed"] == .integer(7))
            #expect(body["user"] == .string("user-42"))
            #expect(body["response_format"] == .object(["type": .string("json_object")]))
            #expect(body["top_p"] == .number(0.9))
            #expect(body["stream"] == nil)
            #expect(body["stream_options"] == nil)
            #expect(body["messages"] == .array([
                .object(["role": .string("system"), "content": .string("Be brief.")]),
                .object(["role": .string("user"), "content": .string("Hello")]),
            ]))
        }
    }

    @Test func toolsAndToolCalls() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion_tools.json")))
            let weather = Tool(function: .init(
                name: "get_weather", description: "Weather for a city",
                parameters: .object(["type": .string("object"), "properties": .object(["city": .object(["type": .string("string")])])])
            ))
            var request = ChatRequest(model: "gpt-4o", messages: [
                .user("Weather in Paris?"),
                ChatMessage(role: .assistant, content: nil, toolCalls: [ToolCall(id: "call_0", function: .init(name: "get_weather", arguments: "{}"))]),
                .tool(callID: "call_0", content: "{\"temp\":12}"),
            ], tools: [weather], toolChoice: .string("auto"))
            request.maxTokens = 100
            let reply = try await client.complete(request, options: .init(), logger: nil)
            let calls = try #require(reply.message?.toolCalls)
            #expect(calls.map(\.id) == ["call_abc123", "call_def456"])
            #expect(calls[0].function == .init(name: "get_weather", arguments: "{\"city\":\"Paris\",\"unit\":\"celsius\"}"))
            #expect(reply.choices.first?.finishReason == "tool_calls")
            #expect(reply.message?.content == nil)

            let body = try json(try #require(server.requests.first).body)
            #expect(body["tool_choice"] == .string("auto"))
            #expect(body["tools"]?.compactJSON.contains("\"name\":\"get_weather\"") == true)
            guard case .array(let messages)? = body["messages"] else { Issue.record("no messages"); return }
            #expect(messages[1]["tool_calls"]?.compactJSON == #"[{"function":{"arguments":"{}","name":"get_weather"},"id":"call_0","type":"function"}]"#)
            #expect(messages[2]["tool_call_id"] == .string("call_0"))
            #expect(messages[2]["role"] == .string("tool"))
        }
    }

    @Test func visionPartsAreSentAsContentParts() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json")))
            let request = ChatRequest(model: "gpt-4o", messages: [
                .user(parts: [
                    .text("What is in these images?"),
                    .image(url: "https://example.com/cat.png", detail: "low"),
                    .image(url: "data:image/png;base64,iVBORw0KGgo="),
                ]),
            ])
            _ = try await client.complete(request, options: .init(), logger: nil)
            let body = try json(try #require(server.requests.first).body)
            guard case .array(let messages)? = body["messages"], case .array(let parts)? = messages.first?["content"] else {
                Issue.record("content is not an array of parts"); return
            }
            #expect(parts.count == 3)
            #expect(parts[0] == .object(["type": .string("text"), "text": .string("What is in these images?")]))
            #expect(parts[1] == .object(["type": .string("image_url"), "image_url": .object(["url": .string("https://example.com/cat.png"), "detail": .string("low")])]))
            // Slashes in data URLs are not escaped.
            #expect(try #require(server.requests.first).bodyText.contains("data:image/png;base64,iVBORw0KGgo="))
        }
    }

    @Test func reasoningContentIsKept() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion_reasoning.json")))
            let reply = try await client.complete(.hello(model: "deepseek-reasoner"), options: .init(), logger: nil)
            #expect(reply.text == "4")
            #expect(reply.message?.reasoningContent == "The user asks for 2+2. That is 4.")
            #expect(reply.usage?.reasoningTokens == 28)
        }
    }

    @Test func lenientDecodingOfMinimalReplies() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion_lenient.json")))
            let reply = try await client.complete(.hello(), options: .init(), logger: nil)
            #expect(reply.text == "minimal provider reply")
            #expect(reply.usage == nil)
            #expect(reply.message?.role == .assistant)
        }
    }

    @Test func replyWithoutChoicesIsAnInvalidResponseThatSaysSo() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion_no_choices.json")))
            let e = await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
            #expect(e?.kind == .invalidResponse)
            #expect(e?.description.contains("no `choices`") == true)
            #expect(server.requests.count == 1)  // not retried
        }
    }

    @Test func embeddingsSingleAndBatch() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("embeddings.json")), path: "/embeddings")
            server.enqueue(.json(try GatewayFixture.text("embeddings.json")), path: "/embeddings")
            let batch = try await client.embeddings(
                EmbeddingsRequest(model: "text-embedding-3-small", input: .batch(["a", "b"]), dimensions: 3), options: .init(), logger: nil
            )
            #expect(batch.vectors == [[0.1, 0.2, -0.3], [0.25, -0.5, 0.125]])  // sorted by index
            #expect(batch.usage?.promptTokens == 8)
            _ = try await client.embeddings(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("one")), options: .init(), logger: nil)
            let bodies = try server.requests.map { try json($0.body) }
            #expect(server.requests.map(\.path) == ["/v1/embeddings", "/v1/embeddings"])
            #expect(bodies[0] == .object(["model": .string("text-embedding-3-small"), "input": .array([.string("a"), .string("b")]), "dimensions": .integer(3)]))
            #expect(bodies[1] == .object(["model": .string("text-embedding-3-small"), "input": .string("one")]))
        }
    }

    @Test func imageGeneration() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            let reply = try await client.generateImages(
                ImageGenerationRequest(model: "dall-e-3", prompt: "A red fox", n: 2, size: "1024x1024", quality: "hd"), options: .init(), logger: nil
            )
            #expect(reply.data.count == 2)
            #expect(reply.data[0].url == "https://images.example.com/a.png")
            #expect(reply.data[0].revisedPrompt == "A red fox in snow, photorealistic")
            #expect(reply.data[1].b64JSON == "iVBORw0KGgo=")
            let sent = try #require(server.requests.first)
            #expect(sent.path == "/v1/images/generations")
            #expect(try json(sent.body) == .object([
                "model": .string("dall-e-3"), "prompt": .string("A red fox"), "n": .integer(2), "size": .string("1024x1024"), "quality": .string("hd"),
            ]))
        }
    }

    @Test func modelsList() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(try GatewayFixture.text("models.json")), path: "/models")
            let list = try await client.models(options: .init(), logger: nil)
            #expect(list.ids == ["gpt-4o-mini", "claude-sonnet-4-5", "deepseek-r1"])
            #expect(list.data[0].ownedBy == "openai")
            let sent = try #require(server.requests.first)
            #expect(sent.method == "GET")
            #expect(sent.path == "/v1/models")
            #expect(sent.header("Authorization") == "Bearer \(fakeAPIKey)")
            #expect(sent.body.isEmpty)
        }
    }

    /// `options` and `logger` may be left out, on the client and through the protocols.
    @Test func callsWithDefaultOptionsAndNoLogger() async throws {
        try await withLoopbackClient { server, client in
            let recorder = LogRecorder()
            server.setFallback(.json(try GatewayFixture.text("chat_completion.json")), path: "/chat/completions")
            server.setFallback(.json(try GatewayFixture.text("embeddings.json")), path: "/embeddings")
            server.setFallback(.json(try GatewayFixture.text("images.json")), path: "/images/generations")
            server.setFallback(.json(try GatewayFixture.text("models.json")), path: "/models")
            #expect(try await client.complete(.hello()).id == "chatcmpl-9xYz01")
            #expect(try await client.complete(.hello(), options: .init(requestID: "r-1")).id == "chatcmpl-9xYz01")
            let chat: any ChatGateway = client
            #expect(try await chat.complete(.hello(), logger: recorder.logger()).id == "chatcmpl-9xYz01")
            let embeddings: any EmbeddingsGateway = client
            #expect(try await embeddings.embeddings(EmbeddingsRequest(model: "text-embedding-3-small", input: .text("a"))).vectors.count == 2)
            let images: any ImageGateway = client
            #expect(try await images.generateImages(ImageGenerationRequest(model: "dall-e-3", prompt: "fox")).data.count == 2)
            let listing: any ModelListing = client
            #expect(try await listing.models().ids.count == 3)
            #expect(server.requests.map(\.path) == [
                "/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/images/generations",
                "/v1/models",
            ])
            #expect(server.requests[1].header("X-Request-ID") == "r-1")
            #expect(recorder.entries.contains { $0.message == "gateway request" })
        }
    }

    @Test func connectionsAreReused() async throws {
        try await withLoopbackClient { server, client in
            server.setFallback(.json(try GatewayFixture.text("chat_completion.json")))
            for _ in 0..<5 { _ = try await client.complete(.hello(), options: .init(), logger: nil) }
            #expect(server.requests.count == 5)
            #expect(server.connectionsOpened == 1)
        }
    }
}
