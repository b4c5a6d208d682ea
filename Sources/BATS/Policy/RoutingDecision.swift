public import ModelSelection

/// What the routing policy decided for one call, in a form live runs and replays share: the model, why, every model
/// tried, and the cost. Two runs of the same workload with the same failures decide the same.
public struct RoutingDecision: Sendable, Hashable, CustomStringConvertible {
    /// How the call ended.
    public enum Outcome: String, Sendable, Hashable {
        /// A model answered and the call was settled.
        case answered
        /// The budget refused it.
        case refused
        /// Every model it could use failed, or the gateway refused it.
        case failed
    }

    /// The request id.
    public var requestID: String
    /// How the call ended.
    public var outcome: Outcome
    /// The model that answered (`nil` when none did).
    public var model: ModelID?
    /// Why that model.
    public var reason: SelectionReason?
    /// Every model tried, in order (the last one answered when the outcome is ``Outcome/answered``).
    public var attempts: [ModelID]
    /// The settled cost (zero when nothing answered and nothing was billed).
    public var cost: MicroDollars

    /// The decision of a call that answered.
    /// - Parameter record: Its decision record.
    public init(_ record: RouteRecord) {
        requestID = record.requestID
        outcome = .answered
        model = record.model
        reason = record.reason
        attempts = record.attempts.map(\.model)
        cost = record.cost
    }

    /// The decision of a call that ended with a routing error.
    /// - Parameter error: The error.
    public init(_ error: RoutingError) {
        requestID = error.requestID
        outcome = error.kind == .budgetExhausted ? .refused : .failed
        model = nil
        reason = nil
        attempts = error.attempts.map(\.model)
        cost = .zero
    }

    /// `ID OUTCOME MODEL (REASON) via A,B COST`.
    public var description: String {
        "\(requestID) \(outcome.rawValue) \(model?.rawValue ?? "-") (\(reason.map { "\($0)" } ?? "-")) via \(attempts.map(\.rawValue).joined(separator: ",")) \(cost)"
    }
}
