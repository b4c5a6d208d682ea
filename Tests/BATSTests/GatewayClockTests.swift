import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import Testing

/// Retry delays and the deadlines the client computes follow its injected clock. These tests move a `ManualClock`
/// by hand, each time after a handshake (the client is sleeping until a given instant, the server has the request,
/// the client has logged the response head), so they neither sleep for real nor depend on timing.
@Suite("Gateway client: retry delays and deadlines on an injected clock", .timeLimit(.minutes(1)))
struct GatewayClockTests {
    static func ok() throws -> ScriptedResponse { .json(try GatewayFixture.text("chat_completion.json")) }

    // MARK: - Retry delays

    @Test func retryAfterSecondsIsWaitedOnTheClock() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(1)), clock: clock) { server, client in
            server.enqueue(.error(status: 429, message: "slow down", headers: [("Retry-After", "1")]))
            server.enqueue(try Self.ok())
            let start = clock.now
            async let reply = client.complete(.hello(), options: .init(timeout: manualTimeout))
            await clock.waitForSleeper(until: start + .seconds(1))
            #expect(server.requests.count == 1)  // no retry before the clock reaches the Retry-After
            clock.advance(by: .seconds(1))
            #expect(try await reply.id == "chatcmpl-9xYz01")
            #expect(server.requests.count == 2)
        }
    }

    @Test func retryAfterMillisecondsIsWaitedOnTheClock() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(retry: RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(1)), clock: clock) { server, client in
            server.enqueue(.error(status: 429, message: "slow down", headers: [("retry-after-ms", "250")]))
            server.enqueue(.error(status: 429, message: "slow down", headers: [("retry-after-ms", "250")]))
            server.enqueue(try Self.ok())
            let start = clock.now
            async let reply = client.complete(.hello(), options: .init(timeout: manualTimeout))
            for retry in 1...2 {
                await clock.waitForSleeper(until: start + .milliseconds(250 * retry))
                #expect(server.requests.count == retry)
                clock.advance(by: .milliseconds(250))
            }
            _ = try await reply
            #expect(server.requests.count == 3)
        }
    }

    /// The call fails without the test ever moving the clock: the client did not wait. (Retry-After is within
    /// `maxRetryAfter`, so only the deadline stops the retry.)
    @Test func retryAfterBeyondTheDeadlineFailsAtOnce() async throws {
        let clock = ManualClock()
        let policy = RetryPolicy(maxAttempts: 3, initialBackoff: .zero, maxBackoff: .zero, maxRetryAfter: .seconds(3600))
        try await withLoopbackClient(retry: policy, clock: clock) { server, client in
            server.setFallback(.error(status: 429, message: "slow down", headers: [("Retry-After", "1200")]))
            let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout)) })
            #expect(e.kind == .rateLimited)
            #expect(e.retryAfter == .seconds(1200))
            #expect(server.requests.count == 1)
        }
    }

    @Test func serverErrorsAreRetriedAfterExponentialBackoff() async throws {
        let clock = ManualClock()
        let policy = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(40), maxBackoff: .seconds(1), jitter: 0)
        try await withLoopbackClient(retry: policy, clock: clock) { server, client in
            server.enqueue([.error(status: 503, message: "busy"), .error(status: 500, message: "oops")])
            server.enqueue(try Self.ok())
            let start = clock.now
            async let reply = client.complete(.hello())
            await clock.waitForSleeper(until: start + .milliseconds(40))
            #expect(server.requests.count == 1)
            clock.advance(by: .milliseconds(40))
            await clock.waitForSleeper(until: start + .milliseconds(120))  // then 80 ms
            #expect(server.requests.count == 2)
            clock.advance(by: .milliseconds(80))
            #expect(try await reply.text.hasPrefix("Bonjour"))
            #expect(server.requests.count == 3)
        }
    }

    /// 100 attempts are allowed, but with 60 s between them only 10 fit in the 600 s timeout: the 10th fails at
    /// 540 s, and another delay would reach the deadline.
    @Test func retriesStopAtTheTotalDeadline() async throws {
        let clock = ManualClock()
        let policy = RetryPolicy(maxAttempts: 100, initialBackoff: .seconds(60), maxBackoff: .seconds(60), jitter: 0)
        try await withLoopbackClient(retry: policy, clock: clock) { server, client in
            server.setFallback(.error(status: 503, message: "busy"))
            let start = clock.now
            async let failure = expectGatewayError { _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout)) }
            for retry in 1...9 {
                await clock.waitForSleeper(until: start + .seconds(60 * retry))
                clock.advance(by: .seconds(60))
            }
            let e = try #require(await failure)
            #expect(e.kind == .server)
            #expect(server.requests.count == 10)
            #expect(clock.now == start + .seconds(540))
        }
    }

    // MARK: - Deadlines

    @Test func theWaitForTheHeadEndsAtTheCallsDeadline() async throws {
        let clock = ManualClock()
        try await withLoopbackClient(clock: clock) { server, client in
            server.enqueue(.unanswered)
            async let failure = expectGatewayError { _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout)) }
            await server.waitForRequests(1)
            clock.advance(by: manualTimeout)
            let e = try #require(await failure)
            #expect(e.kind == .timeout)
            #expect(e.detail?.contains("deadline") == true, "\(e)")
            #expect(!e.providerAnswered)
            #expect(server.requests.count == 1)  // the deadline is the whole call's: no retry after it
        }
    }

    @Test func anAttemptTimeoutIsRetriedWithinTheCallsDeadline() async throws {
        let clock = ManualClock()
        try await LoopbackGatewayServer.withServer { server in
            var configuration = loopbackConfiguration(server)
            configuration.attemptTimeout = .seconds(60)
            try await withGatewayClient(configuration: configuration, clock: clock) { client in
                server.enqueue(.unanswered)
                server.enqueue(try Self.ok())
                async let reply = client.complete(.hello(), options: .init(timeout: manualTimeout))
                await server.waitForRequests(1)
                clock.advance(by: .seconds(60))
                #expect(try await reply.id == "chatcmpl-9xYz01")
                #expect(server.requests.count == 2)
            }
        }
    }

    @Test func aStalledBodyEndsAtTheCallsDeadline() async throws {
        let clock = ManualClock()
        let recorder = LogRecorder()
        try await withLoopbackClient(clock: clock) { server, client in
            server.enqueue(try Self.ok().inserting(.hold, afterBytes: 60))
            async let failure = expectGatewayError {
                _ = try await client.complete(.hello(), options: .init(timeout: manualTimeout), logger: recorder.logger())
            }
            await recorder.waitForEntry("gateway response")  // the head has arrived; the body is stalled
            clock.advance(by: manualTimeout)
            let e = try #require(await failure)
            #expect(e.kind == .timeout)
            #expect(e.providerAnswered)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: - Limits that must not trap

    @Test func enormousTimeoutsOnTheRealClockDoNotTrap() async throws {
        try await LoopbackGatewayServer.withServer { server in
            var configuration = loopbackConfiguration(server)
            configuration.attemptTimeout = .seconds(Int64.max)
            try await withGatewayClient(configuration: configuration) { client in
                server.enqueue(try Self.ok())
                let reply = try await client.complete(.hello(), options: .init(timeout: .seconds(Int64.max)))
                #expect(reply.id == "chatcmpl-9xYz01")
                server.enqueue(.sse(try GatewayFixture.text("chat_stream.sse")))
                var acc = ChatStreamAccumulator()
                for try await chunk in try await client.stream(.hello(), options: .init(timeout: .seconds(Int64.max))) { acc.add(chunk) }
                #expect(acc.text == "Héllo, wörld 🌍 你好!")
            }
        }
    }

    @Test func backoffFromHostileSettingsDoesNotTrap() {
        var policy = RetryPolicy(initialBackoff: .seconds(Int64.max), maxBackoff: .seconds(Int64.max))
        #expect(policy.backoff(beforeRetry: 5, random: 0) == .seconds(1_000_000_000))
        policy.jitter = .nan
        #expect(policy.backoff(beforeRetry: 1, random: 0.5) == .zero)
        policy = RetryPolicy(initialBackoff: .seconds(-5))
        #expect(policy.backoff(beforeRetry: 1, random: 0) == .zero)
    }
}

/// The test clock itself.
@Suite("ManualClock: sleeps wake only when the test moves the clock", .timeLimit(.minutes(1)))
struct ManualClockTests {
    @Test func sleepsWakeWhenTheClockReachesTheirDeadline() async throws {
        let clock = ManualClock()
        let start = clock.now
        async let slept: Void = clock.sleep(until: start + .seconds(2))
        await clock.waitForSleeper(until: start + .seconds(2))
        clock.advance(by: .seconds(1))
        #expect(clock.pendingDeadlines == [start + .seconds(2)])
        clock.advance(by: .seconds(1))
        try await slept
        #expect(clock.pendingDeadlines.isEmpty)
        #expect(clock.now == start + .seconds(2))
    }

    @Test func aPassedDeadlineReturnsAtOnce() async throws {
        let clock = ManualClock(now: .init(offset: .seconds(10)))
        try await clock.sleep(until: .init(offset: .seconds(3)))
        try await clock.sleep(for: .zero)
        #expect(clock.pendingDeadlines.isEmpty)
    }

    @Test func cancellingASleeperThrowsAndForgetsIt() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        await clock.waitForSleepers(count: 1)
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.pendingDeadlines.isEmpty)
    }

    @Test func advancingWakesEveryDueSleeperAndNoOther() async throws {
        let clock = ManualClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Int.self) { group in
            for s in 1...3 { group.addTask { try await clock.sleep(until: start + .seconds(s)); return s } }
            await clock.waitForSleepers(count: 3)
            clock.advance(to: start + .seconds(2))
            var woken = [try await group.next(), try await group.next()].compactMap { $0 }
            #expect(woken.sorted() == [1, 2])
            #expect(clock.pendingDeadlines == [start + .seconds(3)])
            clock.advance(by: .seconds(5))
            woken.append(try #require(try await group.next()))
            #expect(woken.sorted() == [1, 2, 3])
        }
    }
}
