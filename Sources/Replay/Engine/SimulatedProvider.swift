public import Gateway

/// A provider that never leaves the process: usage is the recorded tokens, failures are injected from a seed.
///
/// Each attempt fails with probability ``failureRate``; a failure is a 429, a 503 or a timeout with equal odds.
public struct SimulatedProvider: Sendable {
    /// The chance that one attempt fails (0...1).
    public var failureRate: Double
    private var random: SeededGenerator

    /// Creates a provider.
    /// - Parameters:
    ///   - failureRate: The chance that one attempt fails.
    ///   - seed: The seed of the failure draws.
    public init(failureRate: Double, seed: UInt64) {
        self.failureRate = min(1, max(0, failureRate))
        self.random = SeededGenerator(seed: seed, stream: 0xFA11)
    }

    /// Draws the outcome of one attempt: `nil` for success, or the injected error.
    public mutating func attempt(model: String) -> GatewayError? {
        guard failureRate > 0, random.unitDouble() < failureRate else { return nil }
        switch random.uniform(below: 3) {
        case 0: return GatewayError(kind: .rateLimited, status: 429, model: model, detail: "injected")
        case 1: return GatewayError(kind: .server, status: 503, model: model, detail: "injected")
        default: return GatewayError(kind: .timeout, model: model, detail: "injected")
        }
    }
}
