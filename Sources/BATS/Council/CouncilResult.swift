public import Gateway
public import ModelSelection

/// What a council answered, which members answered, and what each cost.
public struct CouncilResult: Sendable {
    /// How one seat ended.
    public enum Status: String, Sendable, Hashable {
        /// The member answered (its reply may still have had no extractable answer).
        case answered
        /// Every model tried for the seat failed at the provider.
        case failed
        /// The seat did not fit the budget (the council sat without it), or its fallback did not.
        case refused
        /// Cancelled before answering: agreement was reached first, or the caller went away.
        case cancelled
        /// The judge was not needed (the members agreed), and its reservation was released.
        case notNeeded = "not-needed"
    }

    /// One seat (or the judge).
    public struct Seat: Sendable {
        /// The seat's position, from 1 (0 for the judge).
        public var index: Int
        /// The model the seat was reserved for.
        public var model: ModelID
        /// How it ended.
        public var status: Status
        /// The normalized answer, when the member answered and the extractor found one.
        public var answer: String?
        /// The reply, when the member answered.
        public var response: ChatResponse?
        /// The routed call's record, when it answered (its ``RouteRecord/model`` is the model that answered after
        /// any fallback).
        public var record: RouteRecord?
        /// What the seat cost: the settled call, plus lost replies settled at their estimate.
        public var cost: MicroDollars
        /// Why it failed, was refused or was cancelled.
        public var detail: String?
    }

    /// How the answer was decided.
    public enum Decision: String, Sendable, Hashable {
        /// More than half of the answering members gave it.
        case majority
        /// The most common answer without a majority (a tie goes to the earliest seat).
        case plurality
        /// `k` members agreed before the rest finished.
        case agreement
        /// The judge picked it.
        case judge
        /// No member gave an extractable answer; ``CouncilResult/response`` is the first reply.
        case noAnswer = "no-answer"
    }

    /// The council's name.
    public var council: String
    /// The group id shared by every entry (the caller's request id).
    public var groupID: String
    /// The tier the council ran at.
    public var tier: Complexity
    /// The winning normalized answer.
    public var answer: String?
    /// The reply that carries it (the earliest seat that gave it).
    public var response: ChatResponse
    /// The seat whose reply was chosen (from 1).
    public var chosenSeat: Int
    /// How the answer was decided.
    public var decision: Decision
    /// Votes per normalized answer.
    public var votes: [String: Int]
    /// Every seat, in order.
    public var seats: [Seat]
    /// The judge, for a judged council.
    public var judge: Seat?
    /// Everything the council cost (seats and judge).
    public var cost: MicroDollars
    /// Notes on what happened (a seat left empty for budget, a judge reply that named no answer).
    public var notes: [String]

    /// The seats that answered.
    public var answered: [Seat] { seats.filter { $0.status == .answered } }
}
