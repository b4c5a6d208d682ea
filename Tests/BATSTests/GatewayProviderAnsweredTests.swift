import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

/// A failure after a 2xx head means the provider did (and billed) the work: `providerAnswered` must say so, and
/// must stay false for failures that happen before any success status.
@Suite("Gateway client: failures after a 2xx head are flagged providerAnswered")
struct GatewayProviderAnsweredTests {
    static let phrase = "the provider answered before the failure"

    /// A 200 JSON reply that writes `keep` bytes, then stalls for `stall` before the rest.
    static func stalling(_ body: String, keep: Int, stall: Duration) -> ScriptedResponse {
        let bytes = Array(body.utf8)
        return ScriptedResponse(
            status: 200, headers: [("Content-Type", "application/json")],
            steps: [.write(Array(bytes.prefix(keep))), .pause(stall), .write(Array(bytes.dropFirst(keep)))], contentLength: bytes.count
        )
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
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(Self.stalling(try GatewayFixture.text("chat_completion.json"), keep: 60, stall: .seconds(3)))
            let start = ContinuousClock.now
            let e = try #require(await expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: .milliseconds(400)), logger: nil)
            })
            #expect(e.kind == .timeout)
            #expect(e.providerAnswered)
            #expect(ContinuousClock.now - start < .seconds(2))
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
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 100, delay: .milliseconds(5), closeAfterBytes: 700))
            var acc = ChatStreamAccumulator()
            let e = try #require(await expectGatewayError {
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: nil) { acc.add(chunk) }
            })
            #expect(e.kind == .streamInterrupted)
            #expect(acc.chunkCount >= 1)
            #expect(e.providerAnswered)
            #expect(e.description.contains(Self.phrase), "\(e)")
        }
    }

    @Test func streamStallingPastTheDeadlineIsFlagged() async throws {
        try await withLoopbackClient(retry: .none) { server, client in
            server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 200, delay: .seconds(2)))
            let e = try #require(await expectGatewayError {
                for try await _ in try await client.stream(.hello(), options: .init(timeout: .milliseconds(500)), logger: nil) {}
            })
            #expect(e.kind == .timeout)
            #expect(e.providerAnswered)
        }
    }

    /// A billed attempt is never retried by the client (it would be paid twice and recorded once): the error says
    /// the provider answered, and the router charges it.
    @Test func aBilledAttemptIsNotRetried() async throws {
        try await withLoopbackClient(retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(5))) {
            server, client in
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
        try await withLoopbackClient(retry: .none) { server, client in
            var r = ScriptedResponse.json(try GatewayFixture.text("chat_completion.json"))
            r.delayBeforeHead = .seconds(3)
            server.enqueue(r)
            let e = try #require(await expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: .milliseconds(300)), logger: nil)
            })
            #expect(e.kind == .timeout)
            #expect(!e.providerAnswered)
        }
    }

    @Test func connectionRefusedIsNotFlagged() async throws {
        let server = try await LoopbackGatewayServer.start()
        let configuration = loopbackConfiguration(server, retry: .none)
        try await server.shutdown()
        try await withGatewayClient(configuration: configuration) { client in
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
