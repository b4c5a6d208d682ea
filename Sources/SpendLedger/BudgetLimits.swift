public import ModelSelection

/// The budget a ledger enforces on non-critical spend: daily and monthly limits (`nil` means unlimited; zero is
/// legal, only critical calls run), the budgets of scopes under them, and the alert thresholds.
public struct BudgetLimits: Sendable, Hashable, Codable {
    /// The global limit for one calendar day.
    public var daily: MicroDollars?
    /// The global limit for one calendar month.
    public var monthly: MicroDollars?
    /// Budgets of scopes (tags, task kinds, tiers, caller keys), each under the global one.
    public var scopes: [BudgetScope]
    /// Alert thresholds on the global windows.
    public var alerts: [BudgetAlertThreshold]

    /// Creates limits.
    /// - Parameters:
    ///   - daily: Per-day limit, or `nil` for none.
    ///   - monthly: Per-month limit, or `nil` for none.
    ///   - scopes: Budgets of scopes under the global one.
    ///   - alerts: Alert thresholds on the global windows.
    public init(daily: MicroDollars?, monthly: MicroDollars?, scopes: [BudgetScope] = [], alerts: [BudgetAlertThreshold] = []) {
        self.daily = daily
        self.monthly = monthly
        self.scopes = scopes
        self.alerts = alerts
    }

    /// No limits.
    public static let unlimited = BudgetLimits(daily: nil, monthly: nil)

    /// The scope of a name, if configured.
    public func scope(named name: String) -> BudgetScope? { scopes.first { $0.name == name } }

    /// Checks that no limit is negative, that scope names are unique and well formed, and that thresholds are shares.
    /// - Throws: ``LedgerError`` with kind `invalidConfiguration`.
    public func validate() throws {
        for (name, v) in [("daily", daily), ("monthly", monthly)] {
            if let v, v < .zero {
                throw LedgerError(kind: .invalidConfiguration, message: "\(name) budget must not be negative (\(v))")
            }
        }
        var names: Set<String> = []
        for s in scopes {
            try s.validate()
            guard names.insert(s.name).inserted else {
                throw LedgerError(kind: .invalidConfiguration, message: "scope \(s.name) is configured twice")
            }
        }
        for a in alerts { try a.validate(in: "the global budget") }
    }

    private enum CodingKeys: String, CodingKey { case daily, monthly, scopes, alerts }

    /// Decodes limits; `scopes` and `alerts` may be missing.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        daily = try c.decodeIfPresent(MicroDollars.self, forKey: .daily)
        monthly = try c.decodeIfPresent(MicroDollars.self, forKey: .monthly)
        scopes = try c.decodeIfPresent([BudgetScope].self, forKey: .scopes) ?? []
        alerts = try c.decodeIfPresent([BudgetAlertThreshold].self, forKey: .alerts) ?? []
    }
}
