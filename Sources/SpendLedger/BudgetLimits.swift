public import ModelSelection

/// The daily and monthly limits on non-critical spend. `nil` means unlimited; zero is legal (only critical calls run).
public struct BudgetLimits: Sendable, Hashable, Codable {
    /// The limit for one calendar day.
    public var daily: MicroDollars?
    /// The limit for one calendar month.
    public var monthly: MicroDollars?

    /// Creates limits.
    /// - Parameters:
    ///   - daily: Per-day limit, or `nil` for none.
    ///   - monthly: Per-month limit, or `nil` for none.
    public init(daily: MicroDollars?, monthly: MicroDollars?) {
        self.daily = daily
        self.monthly = monthly
    }

    /// No limits.
    public static let unlimited = BudgetLimits(daily: nil, monthly: nil)

    /// Checks that no limit is negative.
    /// - Throws: ``LedgerError`` with kind `invalidConfiguration`.
    public func validate() throws {
        for (name, v) in [("daily", daily), ("monthly", monthly)] {
            if let v, v < .zero {
                throw LedgerError(kind: .invalidConfiguration, message: "\(name) budget must not be negative (\(v))")
            }
        }
    }
}
