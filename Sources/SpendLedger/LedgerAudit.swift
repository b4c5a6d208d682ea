public import ModelSelection

/// How audit rows are grouped.
public struct AuditGrouping: Sendable, Hashable, CustomStringConvertible {
    enum Base: Hashable, Sendable { case day, month, model, tier, task, tag(String) }
    let base: Base
    /// The name on the command line, for a grouping on one of BATS's own tags (`council`, `group`).
    private var name: String? = nil

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
    /// One row per council or cascade name (the ``GroupTag/council`` tag its members carry).
    public static let council = AuditGrouping(base: .tag(GroupTag.council), name: "council")
    /// One row per council or cascade call (the ``GroupTag/group`` tag: the caller's request id).
    public static let group = AuditGrouping(base: .tag(GroupTag.group), name: "group")

    /// Parses `day`, `month`, `model`, `tier`, `task`, `council`, `group` or `tag:KEY`.
    /// - Returns: The grouping, or `nil` for anything else.
    public init?(parsing text: String) {
        switch text {
        case "day": base = .day
        case "month": base = .month
        case "model": base = .model
        case "tier": base = .tier
        case "task": base = .task
        case "council": self = .council
        case "group": self = .group
        default:
            guard text.hasPrefix("tag:"), text.count > 4 else { return nil }
            base = .tag(String(text.dropFirst(4)))
        }
    }

    private init(base: Base, name: String? = nil) {
        self.base = base
        self.name = name
    }

    /// The grouping as written on the command line.
    public var description: String {
        if let name { return name }
        return switch base {
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
    /// Expired reservations (abandoned by a stopped process, or whose settlement failed), charged at their estimates.
    public var expired: Int
    /// Reservations still open.
    public var openReservations: Int
    /// The amount still reserved.
    public var openReserved: MicroDollars
    /// Critical calls that pushed a window over its limit.
    public var overBudgetCritical: Int
    /// For day and month rows: the limit in force at the window's last reservation.
    public var limit: MicroDollars?
    /// What expired reservations were charged (their estimates), not part of ``spend``.
    public var expiredCharged: MicroDollars = .zero
    /// Settled calls whose cost passed their reservation: the provider billed beyond the limits it was sent.
    public var overReservation: Int = 0
    /// Calls settled from their estimate because the reported usage was missing parts, malformed or implausible.
    public var usageSuspect: Int = 0
    /// Calls the provider answered whose reply was lost (too large, cut, timed out mid-body), settled from the estimate.
    public var replyLost: Int = 0
    /// Calls settled after they had expired (the actual cost replaced the estimate charged at expiry).
    public var settledAfterExpiry: Int = 0
    /// Grouped by a tag: the budget scope of the tag's value (`tag:agent=scanner`) when one is configured now.
    public var scope: String? = nil
    /// That scope's daily limit in force now.
    public var scopeDailyLimit: MicroDollars? = nil
    /// That scope's monthly limit in force now.
    public var scopeMonthlyLimit: MicroDollars? = nil

    /// Prompt tokens settled that were read from the provider's cache (part of ``inputTokens``).
    public var cachedInputTokens: Int = 0
    /// ``cachedInputTokens`` per model id, from which ``AuditReport/priceCacheSavings(with:)`` prices the saving.
    public var cachedInputTokensByModel: [String: Int] = [:]
    /// What the cache saved against the full input price (``ModelSelection/ModelCatalog/cacheSavings(cachedTokens:)``),
    /// once ``AuditReport/priceCacheSavings(with:)`` has priced it with a catalog; else `nil`.
    public var cacheSavings: MicroDollars? = nil

    /// The share of settled prompt tokens read from the cache (0...1), or `nil` when no prompt token was settled.
    public var cachedInputShare: Double? {
        inputTokens > 0 ? Double(cachedInputTokens) / Double(inputTokens) : nil
    }

    /// Settled non-critical spend.
    public var nonCriticalSpend: MicroDollars { MicroDollars(micros: spend.rawValue.subtractingReportingOverflow(criticalSpend.rawValue).partialValue) }
    /// Everything counted against the windows: settled spend and what expired reservations were charged.
    public var charged: MicroDollars { MicroDollars(micros: spend.rawValue.addingReportingOverflow(expiredCharged.rawValue).partialValue) }
}

/// A window where non-critical spend passed the limit in force when a reservation was made.
public struct BudgetBreach: Sendable, Hashable, Codable {
    /// `day` or `month`.
    public var period: String
    /// The window key.
    public var key: String
    /// The first non-critical entry whose reservation, with everything reserved before it in the window, ended above
    /// the limit in force when it was made.
    public var entryID: Int64
    /// What the window had been charged, through that entry.
    public var charged: MicroDollars
    /// The limit in force when that entry was reserved.
    public var limitThen: MicroDollars
    /// The limit in force now (`nil`: unlimited).
    public var limitNow: MicroDollars?
    /// Entries flagged ``EntryFlags/overReservation`` in the window through that entry: when there are any, the
    /// provider billed beyond the limits it was sent (the one exception the budget promise names).
    public var overReservations: Int
    /// The scope whose window it is, or `nil` for the global budget.
    public var scope: String? = nil
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
    /// Windows where non-critical spend passed the limit in force when it was reserved (the whole ledger, whatever
    /// the grouping or dates).
    public var breaches: [BudgetBreach] = []
}

extension AuditReport {
    /// Prices what the cache saved in every row and in the totals, at the catalog's prices.
    ///
    /// The ledger records cached tokens, not the prices they were billed at: the saving is what those tokens would
    /// have cost at the model's input price less their cost at its cached price, at the prices of `catalog` (the
    /// catalog in force, not necessarily the one each call was settled with). Models it lacks count for nothing.
    /// - Parameter catalog: The prices.
    /// - Throws: ``ModelSelection/MoneyError`` when a saving does not fit in 64-bit micro-dollars.
    public mutating func priceCacheSavings(with catalog: ModelCatalog) throws(MoneyError) {
        func saving(_ r: AuditRow) throws(MoneyError) -> MicroDollars {
            var byID: [ModelID: Int] = [:]
            for (k, v) in r.cachedInputTokensByModel { byID[ModelID(k)] = v }
            return try catalog.cacheSavings(cachedTokens: byID)
        }
        for i in rows.indices { rows[i].cacheSavings = try saving(rows[i]) }
        totals.cacheSavings = try saving(totals)
    }
}
