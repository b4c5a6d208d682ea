/// How demanding a task is, which decides the model it starts from.
///
/// Tiers are ordered from cheapest to most important. ``critical`` tasks are pinned to the
/// best model and are never downgraded or refused for budget.
public enum Complexity: String, CaseIterable, Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    /// Parsing, extraction, classification.
    case simple
    /// Routine analysis.
    case medium
    /// Multi-step structuring with tools.
    case complex
    /// Long chains of reasoning.
    case reasoning
    /// Decisions that must always get the best model (placing a trade).
    case critical

    /// The tier's name.
    public var description: String { rawValue }

    private var rank: Int { Complexity.allCases.firstIndex(of: self)! }

    /// Orders tiers from `simple` to `critical`.
    public static func < (lhs: Complexity, rhs: Complexity) -> Bool { lhs.rank < rhs.rank }
}
