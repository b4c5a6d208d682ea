public import ModelSelection

extension ReplayReport {
    /// How often the answers a replay returned were correct, by the workload's outcome labels.
    ///
    /// An answer counts once per task: the answer the policy kept (a cascade's accepted or last step, a council's
    /// majority). It is ``correct`` or ``wrong`` when the model that gave it has a label on the task, and
    /// ``unlabelled`` otherwise: shown, never guessed. Refused and failed tasks have no answer and are not counted.
    public struct Quality: Sendable, Hashable {
        /// Answers whose label says correct.
        public var correct = 0
        /// Answers whose label says wrong.
        public var wrong = 0
        /// Answers by a model with no label on the task.
        public var unlabelled = 0

        /// Creates an empty tally.
        public init() {}

        /// Answers with a label (correct or wrong).
        public var labelled: Int { correct + wrong }

        /// The share of labelled answers that are correct (`nil` when there are none).
        public var share: Double? { labelled == 0 ? nil : Double(correct) / Double(labelled) }

        /// Counts one answer.
        /// - Parameter grade: The answer's grade.
        public mutating func add(_ grade: Grade) {
            switch grade {
            case .correct: correct += 1
            case .wrong: wrong += 1
            case .unlabelled: unlabelled += 1
            }
        }

        /// The share as a percentage with one decimal (`85.7%`), or `n/a`.
        public var percentText: String { share.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a" }
    }

    /// The grade of one kept answer.
    public enum Grade: Sendable, Hashable {
        /// The answering model's label says correct.
        case correct
        /// The answering model's label says wrong.
        case wrong
        /// The answering model has no label on the task.
        case unlabelled

        /// The grade of `model`'s answer to `task`, from its label.
        /// - Parameters:
        ///   - model: The model that answered.
        ///   - task: The task.
        /// - Returns: `.correct` or `.wrong` from the label, `.unlabelled` without one.
        public static func of(_ model: ModelID, on task: WorkloadTask) -> Grade {
            guard let label = task.outcomes[model] else { return .unlabelled }
            return label.correct ? .correct : .wrong
        }
    }
}

