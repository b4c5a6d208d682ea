import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

@Suite("Router streaming over HTTP", .timeLimit(.minutes(1)))
struct RouterStreamingHTTPTests {
    func task() -> RoutedTask {
        RoutedTask(kind: "parse_market_data", request: ChatRequest(messages: [.user("stream please")]), inputTokens: 50, maxOutputTokens: 100)
    }

    @Test("A streamed reply is settled at the usage of its final chunk")
    func settlesFromUsage() async throws {
        try await withLoopbackClient { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 7))
            let ledger = try SQLiteLedger.inMemory()
            let router = Router(selector: LedgerFixture.selector, ledger: ledger, gateway: client)
            let (text, record) = try await router.stream(task()) { stream in
                var acc = ChatStreamAccumulator()
                for try await c in stream { acc.add(c) }
                return acc.text
            }
            #expect(text.contains("Héllo"))
            #expect(!record.usageEstimated && record.usage.completionTokens > 0)
            #expect(record.cost == LedgerFixture.catalog.cost(of: .deepseekV3, inputTokens: record.usage.promptTokens, outputTokens: record.usage.completionTokens))
            let sent = try #require(server.requests.first)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(sent.body)) as? [String: Any])
            #expect(body["stream"] as? Bool == true)
            #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        }
    }

    @Test("A stream cut mid-way, abandoned, or cancelled is settled from an estimate and never left reserved")
    func cutAbandonedCancelled() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            let ledger = try SQLiteLedger.inMemory()
            let router = Router(selector: LedgerFixture.selector, ledger: ledger, gateway: client)

            // Cut mid-event: the body sees the error; the call is settled (estimated), and the error reaches the caller.
            server.enqueue(.sse(transcript, closeAfterBytes: transcript.utf8.count / 2))
            await #expect { _ = try await router.stream(task()) { s in for try await _ in s {}; return 0 } } throws: {
                ($0 as? GatewayError)?.kind == .streamInterrupted
            }
            // Abandoned after the first text chunk, the server holding the rest back.
            let afterFirstText = try offset(afterDataEvents: 2, in: transcript)
            server.enqueue(.sse(transcript, chunkSize: 40).inserting(.hold, afterBytes: afterFirstText))
            let (_, early) = try await router.stream(task()) { s in
                for try await c in s where !(c.choices.first?.delta.content ?? "").isEmpty { break }
                return 0
            }
            #expect(early.usageEstimated && early.usage.promptTokens == 50 && early.usage.completionTokens > 0)

            // The consuming task cancelled mid-stream, once its first chunk has arrived.
            server.enqueue(.sse(transcript, chunkSize: 20).inserting(.hold, afterBytes: afterFirstText))
            let firstChunkSeen = ScriptedResponse.Gate()
            let consumer = Task {
                try await router.stream(task()) { s in
                    for try await _ in s { firstChunkSeen.open() }
                    return 0
                }
            }
            await firstChunkSeen.wait()
            consumer.cancel()
            _ = try? await consumer.value

            #expect(try ledger.entries(status: .reserved).isEmpty)
            let settled = try ledger.entries(status: .settled)
            #expect(settled.count == 3 && settled.allSatisfy(\.usageEstimated))
            #expect(try ledger.snapshotNow(at: Date()).daily.reserved == .zero)
        }
    }
}
