/// Why the selector chose what it chose. Recorded with every ledger entry and shown by the audit.
public struct SelectionReason: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The reason's name as stored in the ledger and reports.
    public var rawValue: String
    /// Creates a reason.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The tier's preferred model fit the budget.
    public static let preferred = SelectionReason(rawValue: "preferred")
    /// A cheaper model down the chain was chosen because the preferred one did not fit the budget.
    public static let downgradedForBudget = SelectionReason(rawValue: "downgraded-for-budget")
    /// A model down the chain was chosen because a better one failed at the provider.
    public static let downgradedForProviderFailure = SelectionReason(rawValue: "downgraded-for-provider-failure")
    /// A critical task, pinned to the best model with no budget check.
    public static let pinnedCritical = SelectionReason(rawValue: "pinned-critical")
    /// The call named one model (embeddings, image generation), which fit the budget; there is no chain to fall down.
    public static let fixedModel = SelectionReason(rawValue: "fixed-model")
    /// Nothing in the chain fit the budget (or every candidate failed): the call is refused.
    public static let refused = SelectionReason(rawValue: "refused")

    /// The reason's name.
    public var description: String { rawValue }
}

/// The selector's decision for one call.
public struct Selection: Sendable, Hashable {
    /// Why a candidate model was passed over.
    public enum Skip: String, Sendable, Hashable, Codable {
        /// Its estimate did not fit the remaining daily or monthly budget.
        case budget
        /// The downgrade-threshold policy started the chain one step lower.
        case threshold
        /// It failed at the provider earlier in this call.
        case providerFailure = "provider-failure"
        /// It lacks a required capability (tools, vision) or the prompt exceeds its context window.
        case unsuitable
        /// Its estimate does not fit in 64-bit micro-dollars (absurd token counts): the call cannot be priced, so it
        /// cannot be budgeted. The candidate's ``Candidate/estimate`` is ``MicroDollars/max``.
        case unpriceable
    }

    /// A model the selector looked at, with its estimate and, when passed over, why.
    public struct Candidate: Sendable, Hashable {
        /// The model.
        public var model: ModelID
        /// Its estimated cost for this call (``MicroDollars/max`` when ``Skip/unpriceable``).
        public var estimate: MicroDollars
        /// Why it was passed over, or `nil` for the chosen model.
        public var skipped: Skip?
    }

    /// Why a call was refused: the budget left and the cheapest call that was possible.
    public struct Refusal: Sendable, Hashable {
        /// What today's window still had for a non-critical call (`nil`: unlimited).
        public var dailyAvailable: MicroDollars?
        /// What this month's window still had for a non-critical call (`nil`: unlimited).
        public var monthlyAvailable: MicroDollars?
        /// The cheapest estimate among the candidates that were not excluded for other reasons.
        public var cheapestEstimate: MicroDollars?
        /// The model of that cheapest estimate.
        public var cheapestModel: ModelID?
        /// Set when no candidate could be priced (its estimate overflowed): the call is refused for that, not for
        /// the budget. A critical call is refused only for this.
        public var priceOverflow: MoneyError? = nil
        /// The window that had the least room: the global day or month, or a scope's (what bound the call).
        public var binding: BudgetSnapshot.Binding? = nil

        /// What was available and the cheapest estimate, in words.
        public var summary: String {
            func f(_ m: MicroDollars?) -> String { m.map { "\($0)" } ?? "unlimited" }
            if let priceOverflow, cheapestEstimate == nil {
                return "the call cannot be priced, so it cannot be budgeted: \(priceOverflow)"
            }
            var text: String
            if let b = binding, b.scope != nil {
                text = "no model fits the budget of \(b) (available \(b.available))"
                text += "; global daily available \(f(dailyAvailable)), monthly available \(f(monthlyAvailable))"
            } else {
                text = "no model fits the budget: daily available \(f(dailyAvailable)), monthly available \(f(monthlyAvailable))"
            }
            if let c = cheapestEstimate, let m = cheapestModel { text += ", cheapest estimate \(c) on \(m)" }
            return text
        }
    }

    /// The tier the call ran at.
    public var tier: Complexity
    /// The chosen model, or `nil` when refused.
    public var model: ModelID?
    /// The chosen model's estimated cost (margin included); zero when refused.
    public var estimate: MicroDollars
    /// The prompt tokens the estimate assumed.
    public var inputTokens: Int
    /// The completion-token cap for the chosen model (the task's cap, bounded by the model's own maximum).
    public var maxOutputTokens: Int
    /// Why.
    public var reason: SelectionReason
    /// Every candidate looked at, in chain order.
    public var candidates: [Candidate]
    /// For a refusal, what was left and what the cheapest call would have cost.
    public var refusal: Refusal?
    /// For a critical call: its estimate exceeds what is left of today's limit.
    public var exceedsDailyLimit: Bool
    /// For a critical call: its estimate exceeds what is left of this month's limit.
    public var exceedsMonthlyLimit: Bool
    /// For a downgrade for budget: the window that had too little room for a better model.
    public var boundBy: BudgetSnapshot.Binding? = nil
    /// For a critical call: the scopes one of whose windows it exceeds.
    public var exceedsScopes: [String] = []

    /// Whether a model was chosen.
    public var isRefused: Bool { model == nil }
}
