public import ModelSelection

extension WorkloadTask {
    /// How one model did on a task: an outcome label, as graded offline (for example by RouteLLM's evaluations).
    ///
    /// Written in a workload line as `"outcomes": {"MODEL": {"correct": true, "output_tokens": 212}}`, where `MODEL`
    /// is a catalog id and `output_tokens` is optional.
    public struct Outcome: Sendable, Hashable {
        /// Whether the model's answer was graded correct.
        public var correct: Bool
        /// The completion tokens that model produced for this task, if known; a replay then settles that model's
        /// calls at this count instead of the task's ``WorkloadTask/outputTokens``.
        public var outputTokens: Int?

        /// Creates a label.
        /// - Parameters:
        ///   - correct: Whether the answer was graded correct.
        ///   - outputTokens: The completion tokens the model produced, if known (≥ 0).
        public init(correct: Bool, outputTokens: Int? = nil) {
            self.correct = correct
            self.outputTokens = outputTokens
        }
    }

    /// The completion tokens a call on `model` produces in a replay: the model's label's count when it has one,
    /// else the task's recorded ``outputTokens``.
    /// - Parameter model: The model the call runs on.
    /// - Returns: The completion tokens to settle.
    public func outputTokens(on model: ModelID) -> Int {
        outcomes[model]?.outputTokens ?? outputTokens
    }

    /// The largest completion count recorded for the task: its ``outputTokens`` or any label's count.
    public var largestOutputTokens: Int {
        outcomes.values.reduce(outputTokens) { max($0, $1.outputTokens ?? 0) }
    }
}
