// Gateway benchmarks: SSE parsing throughput and the client's overhead on loopback.
//
// Run: cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target GatewayBenchmarks
import Benchmark
import Foundation
import Gateway
import GatewayHTTP
import NIOCore
import NIOHTTP1
import NIOPosix

// MARK: - Inputs

/// A realistic OpenAI stream: `count` text-delta events, a usage chunk and `[DONE]`.
func makeStream(events count: Int) -> [UInt8] {
    var s = ""
    for i in 0..<count {
        s += #"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-mini","#
        s += #""choices":[{"index":0,"delta":{"content":"token \#(i) héllo wörld 🌍"},"finish_reason":null}],"usage":null}"#
        s += "\n\n"
        if i % 50 == 0 { s += ": keep-alive\n\n" }
    }
    s += #"data: {"id":"chatcmpl-bench","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":\#(count),"total_tokens":\#(count + 10)}}"#
    s += "\n\ndata: [DONE]\n\n"
    return Array(s.utf8)
}

let streamBytes = makeStream(events: 10_000)
let streamEventCount = 10_000 + 2

let replyJSON = #"""
    {"id":"chatcmpl-1","object":"chat.completion","created":1733000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":9,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0}}}
    """#

// MARK: - A minimal loopback server answering every request with `replyJSON`

final class FixedReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        headers.add(name: "Content-Length", value: String(replyJSON.utf8.count))
        context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: replyJSON)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

func startServer() throws -> any Channel {
    try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(FixedReplyHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0).wait()
}

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(5))

    // 10,002 events, ~2.1 MB, fed in 16 KiB buffers (as AsyncHTTPClient delivers them).
    Benchmark("SSE parse 16KiB buffers (10k events)", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations {
            var parser = SSEParser()
            var events = 0
            streamBytes.withUnsafeBytes { raw in
                var start = 0
                while start < raw.count {
                    let end = min(raw.count, start + 16_384)
                    parser.parse(UnsafeRawBufferPointer(rebasing: raw[start..<end])) { _ in events += 1 }
                    start = end
                }
            }
            precondition(events == streamEventCount)
            blackHole(parser.finish())
        }
    }

    // Worst case: one byte at a time.
    Benchmark("SSE parse 1-byte buffers (10k events)") { benchmark in
        for _ in benchmark.scaledIterations {
            var parser = SSEParser()
            var events = 0
            streamBytes.withUnsafeBytes { raw in
                for i in 0..<raw.count {
                    parser.parse(UnsafeRawBufferPointer(rebasing: raw[i..<(i + 1)])) { _ in events += 1 }
                }
            }
            precondition(events == streamEventCount)
        }
    }

    // Parse + decode + accumulate: the whole client-side cost of a streamed reply, without the network.
    Benchmark("SSE parse + decode + accumulate (10k chunks)") { benchmark in
        let decoder = JSONDecoder()
        for _ in benchmark.scaledIterations {
            var parser = SSEParser()
            var acc = ChatStreamAccumulator()
            streamBytes.withUnsafeBytes { raw in
                parser.parse(raw) { event in
                    if !event.isDone, let chunk = try? decoder.decode(ChatCompletionChunk.self, from: Data(event.data.utf8)) {
                        acc.add(chunk)
                    }
                }
            }
            precondition(acc.usage != nil)
            blackHole(acc.response)
        }
    }

    // Request build + decode of a reply, no network.
    Benchmark("chat request encode + reply decode") { benchmark in
        let request = ChatRequest(model: "gpt-4o-mini", messages: [.system("Be brief."), .user("Hello there")], maxTokens: 64)
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let reply = Data(replyJSON.utf8)
        for _ in benchmark.scaledIterations {
            blackHole(try encoder.encode(request))
            blackHole(try decoder.decode(ChatResponse.self, from: reply))
        }
    }

    // A whole non-streamed call through GatewayClient to a loopback server (keep-alive connection).
    Benchmark("GatewayClient.complete on loopback", configuration: .init(maxDuration: .seconds(5))) { benchmark in
        let server = try startServer()
        let port = server.localAddress?.port ?? 0
        let configuration = GatewayClient.Configuration(baseURL: "http://127.0.0.1:\(port)/v1", apiKey: "sk-bench")
        try await withGatewayClient(configuration: configuration) { client in
            let request = ChatRequest(model: "gpt-4o-mini", messages: [.user("Hello")], maxTokens: 16)
            _ = try await client.complete(request, options: .init(), logger: nil)  // warm the connection
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try await client.complete(request, options: .init(), logger: nil))
            }
            benchmark.stopMeasurement()
        }
        try await server.close()
    }
}
