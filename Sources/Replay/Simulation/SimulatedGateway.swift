public import Gateway
public import Logging
import Synchronization

/// An in-process ``Gateway/ChatGateway`` for load and fault simulations: seeded failures (429, 503, timeouts),
/// seeded latency with a share of slow calls, and usage derived from the request.
///
/// Draws are seeded per request (its id, model and attempt number), not per arrival order, so a call's fate does not
/// depend on how concurrent tasks interleave. Latency is a real `Task.sleep`, so cancelling the caller's task
/// cancels the call mid-flight.
public final class SimulatedGateway: ChatGateway {
    /// How the simulated provider behaves.
    public struct Configuration: Sendable {
        /// The chance (0...1) that one attempt fails with a 429, a 503 or a timeout, with equal odds.
        public var failureRate: Double
        /// The chance (0...1) that one attempt is slow (takes ``slowLatency``).
        public var slowRate: Double
        /// The latency range of a normal call.
        public var latency: ClosedRange<Duration>
        /// The latency of a slow call (a timeout takes this long too before it fails).
        public var slowLatency: Duration
        /// The prompt tokens reported in usage.
        public var promptTokens: Int
        /// The reported completion tokens as a share of `max_tokens`, drawn uniformly in this range (at most 1 keeps
        /// settled costs at or under the reserved estimates).
        public var completionShare: ClosedRange<Double>
        /// The seed of every draw.
        public var seed: UInt64
        /// Attempts the simulated client retries inside one call after a failure, as the HTTP client does (no wait).
        public var retries: Int

        /// Creates a configuration.
        public init(
            failureRate: Double = 0, slowRate: Double = 0, latency: ClosedRange<Duration> = .milliseconds(1) ... .milliseconds(5),
            slowLatency: Duration = .milliseconds(200), promptTokens: Int = 1_000, completionShare: ClosedRange<Double> = 0.5...1,
            seed: UInt64 = 1, retries: Int = 0
        ) {
            self.retries = max(0, retries)
            self.failureRate = min(1, max(0, failureRate))
            self.slowRate = min(1, max(0, slowRate))
            self.latency = latency
            self.slowLatency = slowLatency
            self.promptTokens = max(0, promptTokens)
            self.completionShare = max(0, completionShare.lowerBound)...max(0, completionShare.upperBound)
            self.seed = seed
        }
    }

    /// The configuration.
    public let configuration: Configuration
    private let attempts = Mutex<[String: Int]>([:])

    /// Creates a gateway.
    /// - Parameter configuration: Failure and latency settings.
    public init(configuration: Configuration) { self.configuration = configuration }

    /// Waits the drawn latency, then fails with the drawn error or answers with usage from the request.
    /// - Throws: ``Gateway/GatewayError`` (rate-limited, server, timeout), or `CancellationError`.
    public func complete(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatResponse {
        let plan = draw(request, options: options)
        if plan.latency > .zero { try await Task.sleep(for: plan.latency) } else { try Task.checkCancellation() }
        if let failure = plan.failure {
            logger?.trace("simulated failure", metadata: ["model": "\(request.model)", "kind": "\(failure.kind)"])
            throw failure
        }
        return ChatResponse(
            id: "chatcmpl-sim", model: request.model, choices: [.init(message: .assistant("ok"))],
            usage: Usage(promptTokens: configuration.promptTokens, completionTokens: plan.completionTokens))
    }

    /// As ``complete(_:options:logger:)``, delivered as a short stream with usage last.
    /// - Throws: ``Gateway/GatewayError`` before the first chunk, or `CancellationError`.
    public func stream(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatCompletionStream {
        let response = try await complete(request, options: options, logger: logger)
        return ChatCompletionStream(chunks: [
            .init(id: response.id, model: response.model, choices: [.init(delta: .init(role: .assistant, content: "ok"))]),
            .init(id: response.id, model: response.model, choices: [.init(delta: .init(), finishReason: "stop")]),
            .init(id: response.id, model: response.model, choices: [], usage: response.usage),
        ])
    }

    // MARK: - Draws

    struct Plan {
        var latency: Duration
        var failure: GatewayError?
        var completionTokens: Int
    }

    func draw(_ request: ChatRequest, options: GatewayRequestOptions) -> Plan {
        let key = (options.requestID ?? "-") + "|" + request.model
        let attempt = nextAttempt(key)
        var random = SeededGenerator(seed: configuration.seed, stream: Self.fnv1a(key + "|\(attempt)"))
        let c = configuration
        var latency = Self.uniform(c.latency, &random)
        let slow = c.slowRate > 0 && random.unitDouble() < c.slowRate
        if slow { latency = c.slowLatency }
        // Failures come from the provider's own draw (as a replay makes it): the n-th attempt of a request on a model.
        let provider = SimulatedProvider(failureRate: c.failureRate, seed: c.seed)
        var failure = provider.attempt(requestID: options.requestID ?? "-", model: request.model, attempt: attempt)
        var retries = c.retries
        while failure != nil, retries > 0 {
            retries -= 1
            failure = provider.attempt(requestID: options.requestID ?? "-", model: request.model, attempt: nextAttempt(key))
        }
        if failure?.kind == .timeout { latency = c.slowLatency }
        failure?.detail = "simulated"
        let cap = request.maxTokens ?? 0
        let share = c.completionShare.lowerBound + (c.completionShare.upperBound - c.completionShare.lowerBound) * random.unitDouble()
        return Plan(latency: latency, failure: failure, completionTokens: max(0, Int((Double(cap) * share).rounded(.down))))
    }

    /// The next attempt's number (from 1) for `key` (request id and model).
    private func nextAttempt(_ key: String) -> Int {
        attempts.withLock { a in
            let n = a[key, default: 0] + 1
            a[key] = n
            return n
        }
    }

    static func uniform(_ range: ClosedRange<Duration>, _ random: inout SeededGenerator) -> Duration {
        let lo = range.lowerBound, hi = range.upperBound
        guard hi > lo else { return lo }
        return lo + (hi - lo) * random.unitDouble()
    }

    /// FNV-1a over UTF-8: a stable 64-bit hash (Swift's `Hasher` is randomly seeded per process).
    static func fnv1a(_ s: String) -> UInt64 { fnv1a(s, into: 0xcbf2_9ce4_8422_2325) }

    /// FNV-1a continued over `s` from the state `h`.
    static func fnv1a(_ s: String, into h: UInt64) -> UInt64 {
        var h = h
        for b in s.utf8 {
            h ^= UInt64(b)
            h &*= 0x100_0000_01b3
        }
        return h
    }
}
