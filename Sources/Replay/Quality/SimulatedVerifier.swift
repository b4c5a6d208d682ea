/// A cascade verifier replayed from outcome labels: a seeded coin whose odds depend on whether the answer is correct.
///
/// Defined by two numbers, each in `0...1` (precision > 0):
/// - **recall** = P(accept | correct): the share of correct answers the verifier accepts;
/// - **precision** = P(correct | accept): the share of accepted answers that are correct.
///
/// Precision fixes the chance of accepting a wrong answer once the model's base rate `q` (the share of its labelled
/// answers on the workload that are correct, from ``QualityLadder``) is known: by Bayes,
/// `P(accept | wrong) = recall × q × (1 − precision) ÷ (precision × (1 − q))`, capped at 1 (when precision is below the
/// base rate even accepting every answer cannot reach it; the verifier then accepts all). With `q = 1` or `q = 0` it is
/// 0. An answer of a model with no label on the task is accepted with the verifier's overall acceptance rate for that
/// model, `recall × q + P(accept | wrong) × (1 − q)` (or `recall` when the base rate is unknown).
///
/// `precision = recall = 1` is a perfect verifier: it accepts every correct answer and no wrong one.
public struct SimulatedVerifier: Sendable, Hashable, CustomStringConvertible {
    /// P(correct | accept).
    public var precision: Double
    /// P(accept | correct).
    public var recall: Double

    /// Creates a verifier model.
    /// - Parameters:
    ///   - precision: P(correct | accept), in `(0, 1]`.
    ///   - recall: P(accept | correct), in `[0, 1]`.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for a value out of range.
    public init(precision: Double, recall: Double) throws(ReplayError) {
        guard precision.isFinite, precision > 0, precision <= 1 else {
            throw ReplayError(.invalidArgument, "a verifier's precision must be in (0, 1], got \(precision)")
        }
        guard recall.isFinite, recall >= 0, recall <= 1 else {
            throw ReplayError(.invalidArgument, "a verifier's recall must be in [0, 1], got \(recall)")
        }
        self.precision = precision
        self.recall = recall
    }

    /// A verifier that accepts every correct answer and no wrong one.
    public static let perfect = SimulatedVerifier(uncheckedPrecision: 1, recall: 1)

    private init(uncheckedPrecision: Double, recall: Double) {
        precision = uncheckedPrecision
        self.recall = recall
    }

    /// P(accept | wrong) for a model whose labelled answers are correct with share `baseRate`.
    /// - Parameter baseRate: The model's share of correct labelled answers.
    /// - Returns: The chance of accepting one of its wrong answers.
    public func falseAcceptance(baseRate q: Double) -> Double {
        guard q > 0, q < 1 else { return 0 }
        return min(1, recall * q * (1 - precision) / (precision * (1 - q)))
    }

    /// The chance of accepting an answer.
    /// - Parameters:
    ///   - correct: The answer's label (`nil`: the model has no label on the task).
    ///   - baseRate: The model's share of correct labelled answers on the workload (`nil`: unknown).
    /// - Returns: A probability in `0...1`.
    public func acceptance(correct: Bool?, baseRate: Double?) -> Double {
        switch correct {
        case true?: return recall
        case false?: return falseAcceptance(baseRate: baseRate ?? 0)
        case nil:
            guard let q = baseRate else { return recall }
            return recall * q + falseAcceptance(baseRate: q) * (1 - q)
        }
    }

    /// `PRECISION/RECALL`, as `--compare cascade:0.9/0.8` takes it.
    public var description: String { "\(Self.text(precision))/\(Self.text(recall))" }

    static func text(_ x: Double) -> String {
        var s = String(format: "%.4f", x)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
