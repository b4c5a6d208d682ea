public import Gateway

/// A provider that never leaves the process: failures are injected from a seed.
///
/// Each attempt fails with probability ``failureRate``; a failure is a 429, a 503 or a timeout with equal odds.
/// The draw depends only on the seed, the request id, the model and the attempt's number for that request and model,
/// so a replay and a live run through ``SimulatedGateway`` with the same seed meet the same failures, whatever
/// order calls run in.
public struct SimulatedProvider: Sendable, Hashable {
    /// The chance that one attempt fails (0...1).
    public var failureRate: Double
    /// The seed of the draws.
    public var seed: UInt64

    /// Creates a provider.
    /// - Parameters:
    ///   - failureRate: The chance that one attempt fails.
    ///   - seed: The seed of the failure draws.
    public init(failureRate: Double, seed: UInt64) {
        self.failureRate = min(1, max(0, failureRate))
        self.seed = seed
    }

    /// Draws the outcome of one attempt: `nil` for success, or the injected error.
    /// - Parameters:
    ///   - requestID: The call's request id.
    ///   - model: The model id sent to the provider.
    ///   - attempt: The attempt's number for this request and model, from 1.
    /// - Returns: `nil` for success, or the injected error.
    public func attempt(requestID: String, model: String, attempt: Int) -> GatewayError? {
        guard failureRate > 0 else { return nil }
        // FNV-1a of "REQUEST|MODEL|ATTEMPT|failure", hashed in place (no string is built on this per-attempt path).
        var h = SimulatedGateway.fnv1a(requestID, into: 0xcbf2_9ce4_8422_2325)
        h = SimulatedGateway.fnv1a("|", into: h)
        h = SimulatedGateway.fnv1a(model, into: h)
        h = SimulatedGateway.fnv1a("|", into: h)
        h = SimulatedGateway.fnv1a(String(attempt), into: h)
        h = SimulatedGateway.fnv1a("|failure", into: h)
        var random = SeededGenerator(seed: seed, stream: h)
        guard random.unitDouble() < failureRate else { return nil }
        switch random.uniform(below: 3) {
        case 0: return GatewayError(kind: .rateLimited, status: 429, model: model, detail: "injected")
        case 1: return GatewayError(kind: .server, status: 503, model: model, detail: "injected")
        default: return GatewayError(kind: .timeout, model: model, detail: "injected")
        }
    }
}
