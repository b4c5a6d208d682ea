import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

/// A failure after a 2xx head means the provider did (and billed) the work: `providerAnswered` must say so, and
/// must stay false for failures that happen before any success status.
@Suite("Gateway client: failures after a 2xx head are flagged providerAnswered", .timeLimit(.minutes(1)))
struct GatewayProviderAnsweredTests {
    static let phrase = "the provider answered before the failure"

    /// A 200 JSON reply that writes `keep` bytes, then stalls until the client gives up.
    static func stalling(_ body: String, keep: Int) -> ScriptedResponse {
        ScriptedResponse.json(body).inserting(.hold, afterBytes: keep)
    }

    // MARK: - After a 2xx head

    @Test func oversizeSuccessBodyIsFlagged() async throws {
        try await withLoopbackClient(maxResponseBytes: 256) { server, client in
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json")))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .responseTooLarge)
            #expect(e.providerAnswered)
            #expect(e.description.contains(Self.phrase), "\(e)")
        }
    }

    @Test func successBodyCutMidwayIsFlagged() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.truncated(try GatewayFixture.text("chat_completion.json"), keep: 100))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .connection)
            #expect(e.providerAnswered)
            #expect(e.description.contains(Self.phrase), "\(e)")
        }
    }

    @Test func successBodyStallingPastTheDeadlineIsFlagged() async throws {
        let clock = ManualClock()
        let recorder = LogRecorder()
        try await withLoopbackClient(retry: .none, clock: clock) { server, client in
            server.enqueue(Self.stalling(try GatewayFixture.text("chat_completion.json"), keep: 60))
            async let failure = expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout), logger: recorder.logger())
            }
            await recorder.waitForEntry("gateway response")  // the 2xx head has arrived
            clock.advance(by: manualTimeout)
            let e = try #require(await failure)
            #expect(e.kind == .timeout)
            #expect(e.providerAnswered)
        }
    }

    @Test func truncatedJSONInASuccessBodyIsFlagged() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.json(String(try GatewayFixture.text("chat_completion.json").prefix(120))))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .invalidResponse)
            #expect(e.providerAnswered)
        }
    }

    @Test func streamInterruptedAfterTheFirstBytesIsFlagged() async throws {
        try await withLoopbackClient { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            // The close waits until the first chunk has arrived (see GatewayStreamingTests.connectionClosedMidStreamIsInterrupted).
            let firstChunkSeen = ScriptedResponse.Gate()
            server.enqueue(.sse(transcript, closeAfterBytes: 700).inserting(.wait(firstChunkSeen), afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            var acc = ChatStreamAccumulator()
            let e = try #require(await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) {
                    acc.add(chunk)
                    firstChunkSeen.open()
                }
            })
            #expect(e.kind == .streamInterrupted)
            #expect(acc.chunkCount >= 1)
            #expect(e.providerAnswered)
            #expect(e.description.contains(Self.phrase), "\(e)")
        }
    }

    @Test func streamStallingPastTheDeadlineIsFlagged() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(retry: .none, clock: clock) { server, client in
            let transcript = try GatewayFixture.text("chat_stream.sse")
            server.enqueue(.sse(transcript).inserting(.hold, afterBytes: try offset(afterDataEvents: 1, in: transcript)))
            var chunks = 0
            let e = try #require(await expectGatewayError {
                for try await _ in try await client.stream(.hello(), options: .init(timeout: manualTimeout), logger: nil) {
                    chunks += 1
                    clock.advance(by: manualTimeout)  // the deadline passes after the first chunk; the stream has stalled
                }
            })
            #expect(chunks == 1)
            #expect(e.kind == .timeout)
            #expect(e.providerAnswered)
        }
    }

    /// A billed attempt is never retried by the client (it would be paid twice and recorded once): the error says
    /// the provider answered, and the router charges it.
    @Test func aBilledAttemptIsNotRetried() async throws {
        try await withLoopbackClient(retry: RetryPolicy(maxAttempts: 2, initialBackoff: .zero, maxBackoff: .zero)) { server, client in
            server.enqueue(.truncated(try GatewayFixture.text("chat_completion.json"), keep: 100))
            server.enqueue(.json(try GatewayFixture.text("chat_completion.json")))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(server.requests.count == 1)
            #expect(e.providerAnswered, "the first attempt was answered with 200 and may have been billed")
        }
    }

    // MARK: - Before any 2xx head

    @Test func serviceUnavailableIsNotFlagged() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.error(status: 503, message: "Overloaded"))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .server)
            #expect(!e.providerAnswered)
            #expect(!e.description.contains(Self.phrase))
        }
    }

    @Test func errorStatusBeforeAStreamIsNotFlagged() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.error(status: 429, message: "slow down"))
            let e = try #require(await expectGatewayError { _ = try await client.stream(.hello(), options: .init(), logger: nil) })
            #expect(e.kind == .rateLimited)
            #expect(!e.providerAnswered)
        }
    }

    @Test func timeoutBeforeTheHeadIsNotFlagged() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(retry: .none, clock: clock) { server, client in
            server.enqueue(.unanswered)
            async let failure = expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout), logger: nil)
            }
            await server.waitForRequests(1)
            clock.advance(by: manualTimeout)
            let e = try #require(await failure)
            #expect(e.kind == .timeout)
            #expect(!e.providerAnswered)
        }
    }

    @Test func connectionRefusedIsNotFlagged() async throws {
        let server = try await LoopbackGatewayServer.start()
        var configuration = loopbackConfiguration(server, retry: .none)
        configuration.connectTimeout = .milliseconds(100)  // AsyncHTTPClient retries a refused connect until then
        try await server.shutdown()
        try await withGatewayClient(configuration: configuration, clock: ManualClock()) { client in
            let e = try #require(await expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: .seconds(3)), logger: nil)
            })
            #expect(e.kind == .connection || e.kind == .timeout, "got \(e)")
            #expect(!e.providerAnswered)
        }
    }

    @Test func theFlagDefaultsToFalseAndIsDescribed() {
        #expect(!GatewayError(kind: .server, status: 503).providerAnswered)
        let e = GatewayError(kind: .responseTooLarge, status: 200, providerAnswered: true)
        #expect(e.providerAnswered)
        #expect(e.description.contains(Self.phrase))
        #expect(e != GatewayError(kind: .responseTooLarge, status: 200))
    }
}
