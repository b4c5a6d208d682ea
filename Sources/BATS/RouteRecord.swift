public import Gateway
public import ModelSelection
public import SpendLedger

/// What the router decided and what it cost: the decision record returned with every routed call.
public struct RouteRecord: Sendable, Hashable {
    /// One model tried and how it ended.
    public struct Attempt: Sendable, Hashable {
        /// The model.
        public var model: ModelID
        /// The ledger entry of its reservation.
        public var entryID: Int64
        /// Why it failed, or `nil` for the attempt that answered.
        public var error: String?
    }

    /// The request id shared by every attempt's ledger entry.
    public var requestID: String
    /// The task kind, if given.
    public var taskKind: String?
    /// The tier the call ran at.
    public var tier: Complexity
    /// Whether the unknown-task rule supplied the tier.
    public var tierByUnknownRule: Bool
    /// The model that answered.
    public var model: ModelID
    /// Why that model.
    public var reason: SelectionReason
    /// The reserved estimate for that model.
    public var estimate: MicroDollars
    /// The settled cost.
    public var cost: MicroDollars
    /// The usage settled (reported, or estimated when ``usageEstimated``).
    public var usage: Usage
    /// Whether the usage was estimated (no usage in the reply, a cancelled stream).
    public var usageEstimated: Bool
    /// The images settled: how many an image-generation call returned; 0 for chat and embeddings calls.
    public var images: Int = 0
    /// The ledger entry of the settled attempt.
    public var entryID: Int64
    /// Every attempt, failed ones first.
    public var attempts: [Attempt]
    /// For a critical call: it was made although it exceeded the daily limit.
    public var exceedsDailyLimit: Bool
    /// For a critical call: it was made although it exceeded the monthly limit.
    public var exceedsMonthlyLimit: Bool
    /// The provider answered but the ledger could not be written within the router's settle deadline: the
    /// reservation stays open and will be charged at its estimate when it expires (``cost`` is what would have been
    /// settled). A warning was logged.
    public var settlementPending = false
    /// What the ledger flagged about the settlement (over the reservation, suspect usage, a lost reply).
    public var flags: EntryFlags = []
    /// The budget scopes the call counted in, by name.
    public var scopes: [String] = []
    /// For a downgrade for budget: the window (global or a scope's) that had too little room for a better model.
    public var boundBy: BudgetSnapshot.Binding? = nil
    /// The global day window right after the settlement, from the same ledger transaction, when the ledger reports it
    /// (``SpendLedger/SettlementReceipt/daily``); `nil` for a pending settlement.
    public var dailyAfter: BudgetSnapshot.Window? = nil
}

/// A routed call's reply and its decision record.
public struct RoutedResponse: Sendable {
    /// The provider's reply.
    public var response: ChatResponse
    /// What was decided and spent.
    public var record: RouteRecord
}
