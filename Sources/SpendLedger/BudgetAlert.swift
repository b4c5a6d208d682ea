public import Foundation
public import ModelSelection

/// A budget event the ledger recorded, exactly once per (kind, scope, window, threshold), in the transaction of the
/// reservation or settlement that caused it, so every process sharing the ledger sees one and a restart neither
/// repeats nor misses it.
public struct BudgetAlert: Sendable, Hashable, Codable {
    /// What happened.
    public struct Kind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The name as stored and sent.
        public var rawValue: String
        /// Creates a kind.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A window's committed spend reached a threshold share of its limit.
        public static let threshold = Kind(rawValue: "threshold")
        /// A critical call pushed a window's settled spend over its limit.
        public static let criticalOverLimit = Kind(rawValue: "critical-over-limit")
        /// A provider billed more than the call's reservation (``EntryFlags/overReservation``).
        public static let overReservation = Kind(rawValue: "over-reservation")
        /// The name.
        public var description: String { rawValue }
    }

    /// The alert's id in the ledger (increasing).
    public var id: Int64
    /// What happened.
    public var kind: Kind
    /// The scope's name, or `nil` for the global budget.
    public var scope: String?
    /// The window's period (`nil` for an over-reservation, which is about one entry).
    public var period: BudgetAlertThreshold.Period?
    /// The window's key (`2026-12-02`, `2026-12`), `nil` for an over-reservation.
    public var windowKey: String?
    /// The threshold crossed, for ``Kind/threshold``.
    public var thresholdPartsPerMillion: Int64?
    /// The window's committed spend (or for an over-reservation, the billed cost) when it fired.
    public var spent: MicroDollars
    /// The window's limit (or for an over-reservation, the reserved estimate).
    public var limit: MicroDollars?
    /// The entry whose reservation or settlement fired it.
    public var entryID: Int64?
    /// When it fired (the call's time).
    public var firedAt: Date
    /// When a delivery (webhook) succeeded, or `nil` while pending.
    public var deliveredAt: Date?
    /// Delivery attempts so far.
    public var attempts: Int = 0

    /// Creates an alert.
    public init(
        id: Int64, kind: Kind, scope: String?, period: BudgetAlertThreshold.Period?, windowKey: String?, thresholdPartsPerMillion: Int64?,
        spent: MicroDollars, limit: MicroDollars?, entryID: Int64?, firedAt: Date, deliveredAt: Date? = nil, attempts: Int = 0
    ) {
        self.attempts = attempts
        self.id = id
        self.kind = kind
        self.scope = scope
        self.period = period
        self.windowKey = windowKey
        self.thresholdPartsPerMillion = thresholdPartsPerMillion
        self.spent = spent
        self.limit = limit
        self.entryID = entryID
        self.firedAt = firedAt
        self.deliveredAt = deliveredAt
    }

    /// One line for a log: `budget alert: scope tag:agent=scanner day 2026-12-02 reached 80% ($4.0000 of $5.0000)`.
    public var summary: String {
        let whereText = (scope.map { "scope \($0)" } ?? "global budget") + (period.map { " \($0.rawValue) \(windowKey ?? "")" } ?? "")
        switch kind {
        case .threshold:
            let t = BudgetAlertThreshold.percentText(thresholdPartsPerMillion ?? 0)
            return "budget alert: \(whereText) reached \(t)% (\(spent) of \(limit.map { "\($0)" } ?? "unlimited"))"
        case .criticalOverLimit:
            return "budget alert: a critical call pushed \(whereText) over its limit (\(spent) of \(limit.map { "\($0)" } ?? "unlimited"))"
        case .overReservation:
            return "budget alert: entry \(entryID.map(String.init) ?? "?") was billed \(spent), more than its reservation of \(limit.map { "\($0)" } ?? "?")"
        default:
            return "budget alert: \(kind) on \(whereText)"
        }
    }
}
