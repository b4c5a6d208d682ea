public import ModelSelection

/// Several models asked the same question, their answers combined: a council (``Router/council(_:_:logger:)``).
///
/// - **Reservation.** The members (and the judge) are reserved as one unit (``SpendLedger/BudgetLedger/reserveGroup(_:at:choose:)``):
///   when not all fit, the council sits with those that do if they are at least ``minimumMembers``, else it is refused.
/// - **Critical.** A critical task's council seats the pinned model in every seat: never refused, never another model.
/// - **Failures.** A member whose provider fails moves down the tier's chain to a model not already seated (reserved
///   on its own then); a critical member retries the pinned model.
public struct Council: Sendable {
    /// One seat of the council.
    public enum Member: Sendable, Hashable, CustomStringConvertible {
        /// This catalog model.
        case model(ModelID)
        /// The first model of this tier's chain not already seated (the tier's first model when all are).
        case tier(Complexity)

        /// `model:ID` or `tier:NAME`.
        public var description: String {
            switch self {
            case .model(let m): "model:\(m)"
            case .tier(let t): "tier:\(t)"
            }
        }
    }

    /// How the members' answers become the council's.
    public enum Aggregation: Sendable, Hashable, CustomStringConvertible {
        /// Every member answers; the answer most members gave wins (a tie goes to the earliest seat among the tied).
        case majority
        /// The first answer `k` members agree on wins at once: the members still running are cancelled and their
        /// reservations released. Without `k` agreeing, as ``majority``.
        case firstAgreement(Int)
        /// Every member answers; this model, shown the question and the numbered answers, picks one. When the members
        /// agree (or one answered) the judge is not called and its reservation is released.
        case judge(ModelID)

        /// `majority`, `first-agreement:K` or `judge:MODEL`.
        public var description: String {
            switch self {
            case .majority: "majority"
            case .firstAgreement(let k): "first-agreement:\(k)"
            case .judge(let m): "judge:\(m)"
            }
        }
    }

    /// The council's name (recorded on every member's entry as ``SpendLedger/GroupTag/council``).
    public var name: String
    /// The seats, in order.
    public var members: [Member]
    /// The fewest seats worth convening: with fewer fitting the budget, the council is refused.
    public var minimumMembers: Int
    /// How answers are combined.
    public var aggregation: Aggregation
    /// How a reply becomes the answer voted on.
    public var extractor: AnswerExtractor
    /// The judge's completion cap (tokens).
    public var judgeMaxOutputTokens: Int

    /// Creates a council.
    /// - Parameters:
    ///   - name: Its name.
    ///   - members: The seats (at least one).
    ///   - minimumMembers: The fewest worth convening (default: all; clamped to 1 … seats).
    ///   - aggregation: How answers are combined.
    ///   - extractor: How a reply becomes an answer.
    ///   - judgeMaxOutputTokens: The judge's completion cap.
    public init(
        name: String, members: [Member], minimumMembers: Int? = nil, aggregation: Aggregation = .majority, extractor: AnswerExtractor = .text,
        judgeMaxOutputTokens: Int = 256
    ) {
        self.name = name
        self.members = members
        self.minimumMembers = min(max(1, minimumMembers ?? members.count), max(1, members.count))
        self.aggregation = aggregation
        self.extractor = extractor
        self.judgeMaxOutputTokens = max(1, judgeMaxOutputTokens)
    }
}
