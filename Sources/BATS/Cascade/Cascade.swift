public import ModelSelection

/// Cheapest first, escalating on a rejected answer: a cascade (``Router/cascade(_:_:logger:)``).
///
/// Each step is a routed call on one model (reserved, charged, never swapped); a verifier reads its answer. On a
/// rejection, or a provider failure, the next step is tried while the budget allows; a step the budget refuses ends
/// the cascade with the best answer so far. Every attempt is charged and recorded with the group id, the cascade's
/// name and its step, and the result shows the path and why each step escalated. A critical task's cascade is one
/// call on the pinned model.
public struct Cascade: Sendable {
    /// The cascade's name (recorded as ``SpendLedger/GroupTag/council`` on every step's entry).
    public var name: String
    /// The models, cheapest first; empty for the task's tier chain read from its cheapest model up.
    public var steps: [ModelID]
    /// What each answer must pass.
    public var verifier: Verifier

    /// Creates a cascade.
    /// - Parameters:
    ///   - name: Its name.
    ///   - steps: The models, cheapest first (empty: the tier's chain, reversed).
    ///   - verifier: What each answer must pass.
    public init(name: String, steps: [ModelID] = [], verifier: Verifier) {
        self.name = name
        self.steps = steps
        self.verifier = verifier
    }
}

/// What a cascade answered, and the path it took.
public struct CascadeResult: Sendable {
    /// One step of the path.
    public struct Step: Sendable {
        /// The step's model.
        public var model: ModelID
        /// Its routed call's record, when the model answered.
        public var record: RouteRecord?
        /// The verifier's verdict on its answer (`nil` when it did not answer).
        public var verdict: Verdict?
        /// Why the cascade went past this step (`nil` for the last step taken).
        public var escalation: String?
        /// What the step cost: its call plus a judge verifier's call.
        public var cost: MicroDollars
        /// A judge verifier's call, when one was made.
        public var verifierRecord: RouteRecord?
    }

    /// How the cascade ended.
    public enum Outcome: String, Sendable, Hashable {
        /// A step's answer was accepted.
        case accepted
        /// Every step was tried and none was accepted: the last answer is returned.
        case exhausted
        /// The budget refused the next step: the best answer so far (the last one) is returned.
        case budget
    }

    /// The cascade's name.
    public var cascade: String
    /// The group id shared by every entry (the caller's request id).
    public var groupID: String
    /// The tier it ran at.
    public var tier: Complexity
    /// The returned reply (the accepted one, else the last).
    public var response: RoutedResponse
    /// How it ended.
    public var outcome: Outcome
    /// Every step taken, in order.
    public var path: [Step]
    /// Everything it cost (every attempt and every judge call).
    public var cost: MicroDollars
}
