public import ModelSelection

/// How audit rows are grouped.
public struct AuditGrouping: Sendable, Hashable, CustomStringConvertible {
    enum Base: Hashable, Sendable { case day, month, model, tier, task, tag(String) }
    let base: Base

    /// One row per day window.
    public static let day = AuditGrouping(base: .day)
    /// One row per month window.
    public static let month = AuditGrouping(base: .month)
    /// One row per model.
    public static let model = AuditGrouping(base: .model)
    /// One row per tier.
    public static let tier = AuditGrouping(base: .tier)
    /// One row per task kind.
    public static let task = AuditGrouping(base: .task)
    /// One row per value of a tag (`agent`, `symbol`).
    public static func tag(_ key: String) -> AuditGrouping { .init(base: .tag(key)) }

    /// Parses `day`, `month`, `model`, `tier`, `task` or `tag:KEY`.
    /// - Returns: The grouping, or `nil` for anything else.
    public init?(parsing text: String) {
        switch text {
        case "day": base = .day
        case "month": base = .month
        case "model": base = .model
        case "tier": base = .tier
        case "task": base = .task
        default:
            guard text.hasPrefix("tag:"), text.count > 4 else { return nil }
            base = .tag(String(text.dropFirst(4)))
        }
    }

    private init(base: Base) { self.base = base }

    /// The grouping as written on the command line.
    public var description: String {
        switch base {
        case .day: "day"
        case .month: "month"
        case .model: "model"
        case .tier: "tier"
        case .task: "task"
        case .tag(let k): "tag:\(k)"
        }
    }
}

/// One group of an audit: what was spent, on how many calls, and what is still open.
public struct AuditRow: Sendable, Hashable, Codable {
    /// The group's value (a day, a model, a tag value; `(none)` when absent).
    public var group: String
    /// Settled calls.
    public var calls: Int
    /// Settled spend.
    public var spend: MicroDollars
    /// Settled spend of critical calls.
    public var criticalSpend: MicroDollars
    /// Prompt tokens settled.
    public var inputTokens: Int
    /// Completion tokens settled.
    public var outputTokens: Int
    /// Calls settled from estimated usage.
    public var estimatedCalls: Int
    /// Refused calls.
    public var refused: Int
    /// Released attempts (provider failures, cancellations).
    public var released: Int
    /// Expired reservations (abandoned by a crashed process).
    public var expired: Int
    /// Reservations still open.
    public var openReservations: Int
    /// The amount still reserved.
    public var openReserved: MicroDollars
    /// Critical calls that pushed a window over its limit.
    public var overBudgetCritical: Int
    /// For day and month rows: the limit in force.
    public var limit: MicroDollars?

    /// Settled non-critical spend.
    public var nonCriticalSpend: MicroDollars { spend - criticalSpend }
    /// For day and month rows: non-critical spend passed the limit (this must never happen).
    public var nonCriticalOverLimit: Bool { limit.map { nonCriticalSpend > $0 } ?? false }
}

/// The result of an audit: rows, their totals, and the limits the ledger was opened with.
public struct AuditReport: Sendable, Hashable {
    /// The grouping.
    public var grouping: AuditGrouping
    /// One row per group, in group order.
    public var rows: [AuditRow]
    /// All rows added up.
    public var totals: AuditRow
    /// The limits recorded in the ledger, oldest first.
    public var limits: [RecordedLimits]
}
