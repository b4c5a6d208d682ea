public import ModelSelection
import SpendLedger

extension ReplayReport {
    /// What one budget scope spent and how its budget bound, in a replay.
    public struct Scope: Sendable, Hashable {
        /// The scope's name (`tag:agent=scanner`).
        public var name: String
        /// Its daily limit (`nil`: none).
        public var dailyLimit: MicroDollars?
        /// Its monthly limit (`nil`: none).
        public var monthlyLimit: MicroDollars?
        /// Tasks settled in the scope.
        public var tasks = 0
        /// All settled spend of the scope.
        public var spend = MicroDollars.zero
        /// Settled non-critical spend.
        public var nonCriticalSpend = MicroDollars.zero
        /// The largest non-critical spend of one day.
        public var maxDayNonCriticalSpend = MicroDollars.zero
        /// The largest non-critical spend of one month.
        public var maxMonthNonCriticalSpend = MicroDollars.zero
        /// Refusals this scope's budget bound.
        public var refusals = 0
        /// Downgrades this scope's budget bound.
        public var downgrades = 0
        /// The scope's day windows in key order (spend by model, for a chart of the scope).
        public var days: [Window] = []

        /// Creates an empty row.
        public init(name: String, dailyLimit: MicroDollars?, monthlyLimit: MicroDollars?) {
            self.name = name
            self.dailyLimit = dailyLimit
            self.monthlyLimit = monthlyLimit
        }

        /// Non-critical spend passed a limit in some window (never expected).
        public var nonCriticalOverBudget: Bool {
            (dailyLimit.map { maxDayNonCriticalSpend > $0 } ?? false) || (monthlyLimit.map { maxMonthNonCriticalSpend > $0 } ?? false)
        }
    }
}

/// Per-scope tallies while a replay runs.
struct ScopeTally {
    var rows: [String: ReplayReport.Scope] = [:]
    /// Non-critical spend per scope and window (`scope|d|key`, `scope|m|key`).
    var windows: [String: MicroDollars] = [:]
    /// Per scope, its day windows.
    var days: [String: [String: ReplayReport.Window]] = [:]

    init(_ scopes: [BudgetScope]) {
        for s in scopes { rows[s.name] = .init(name: s.name, dailyLimit: s.daily, monthlyLimit: s.monthly) }
    }

    /// A settled task in `scopes`.
    mutating func settled(_ scopes: [String], model: ModelID, cost: MicroDollars, critical: Bool, day: String, month: String) throws {
        for s in scopes {
            guard var row = rows[s] else { continue }
            row.tasks += 1
            row.spend = try row.spend.adding(cost)
            var w = days[s, default: [:]][day] ?? .init(key: day)
            w.tasks += 1
            w.spend = try w.spend.adding(cost)
            if critical { w.criticalSpend = try w.criticalSpend.adding(cost) } else { w.nonCriticalSpend = try w.nonCriticalSpend.adding(cost) }
            w.byModel[model.rawValue] = try w.byModel[model.rawValue, default: .zero].adding(cost)
            w.limit = row.dailyLimit
            days[s, default: [:]][day] = w
            if !critical {
                row.nonCriticalSpend = try row.nonCriticalSpend.adding(cost)
                let d = try windows[s + "|d|" + day, default: .zero].adding(cost), m = try windows[s + "|m|" + month, default: .zero].adding(cost)
                windows[s + "|d|" + day] = d
                windows[s + "|m|" + month] = m
                row.maxDayNonCriticalSpend = max(row.maxDayNonCriticalSpend, d)
                row.maxMonthNonCriticalSpend = max(row.maxMonthNonCriticalSpend, m)
            }
            rows[s] = row
        }
    }

    /// A refusal or downgrade a window bound (counted for its scope, when it is a scope's).
    mutating func bound(by binding: BudgetSnapshot.Binding?, refusal: Bool) {
        guard let s = binding?.scope, rows[s] != nil else { return }
        if refusal { rows[s]!.refusals += 1 } else { rows[s]!.downgrades += 1 }
    }

    var sorted: [ReplayReport.Scope] {
        rows.values.sorted { $0.name < $1.name }.map { r in
            var r = r
            r.days = (days[r.name] ?? [:]).values.sorted { $0.key < $1.key }
            return r
        }
    }
}
