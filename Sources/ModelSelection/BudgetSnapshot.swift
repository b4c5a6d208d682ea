/// The state of the budget windows at one moment, as the selector sees it.
public struct BudgetSnapshot: Sendable, Hashable {
    /// One budget window (a calendar day or month): its limit and what is spent and held.
    public struct Window: Sendable, Hashable {
        /// The window's key: `2026-11-21` for a day, `2026-11` for a month.
        public var key: String
        /// The limit; `nil` means unlimited.
        public var limit: MicroDollars?
        /// Settled spend in the window, critical included.
        public var settled: MicroDollars
        /// Open reservations in the window, critical included.
        public var reserved: MicroDollars
        /// Settled spend of critical calls (part of ``settled``).
        public var criticalSettled: MicroDollars

        /// Creates a window state.
        public init(key: String = "", limit: MicroDollars?, settled: MicroDollars = .zero, reserved: MicroDollars = .zero, criticalSettled: MicroDollars = .zero) {
            self.key = key
            self.limit = limit
            self.settled = settled
            self.reserved = reserved
            self.criticalSettled = criticalSettled
        }

        /// limit − settled − reserved; `nil` when unlimited. Negative after a critical call overran the window.
        ///
        /// Computed exactly; a result below ``MicroDollars/min`` (only possible with corrupt totals) is given as
        /// ``MicroDollars/min``, so every non-negative estimate still compares as not fitting.
        public var remaining: MicroDollars? { limit.map { Self.clamped(Int128($0.rawValue) - Int128(settled.rawValue) - Int128(reserved.rawValue)) } }

        /// What a non-critical call may still take, leaving `reserveShare` parts per million of the limit to critical calls.
        ///
        /// Computed exactly and clamped to ``MicroDollars/min``...``MicroDollars/max`` like ``remaining``.
        /// - Parameter reservePartsPerMillion: The share of the limit kept for critical calls (0...1,000,000).
        /// - Returns: The amount available, or `nil` when unlimited.
        public func available(reservePartsPerMillion: Int64) -> MicroDollars? {
            guard let limit else { return nil }
            let kept = Int128(limit.rawValue) * Int128(reservePartsPerMillion) / 1_000_000
            return Self.clamped(Int128(limit.rawValue) - kept - Int128(settled.rawValue) - Int128(reserved.rawValue))
        }

        private static func clamped(_ v: Int128) -> MicroDollars {
            v < Int128(Int64.min) ? .min : v > Int128(Int64.max) ? .max : MicroDollars(micros: Int64(v))
        }
    }

    /// Today's window.
    public var daily: Window
    /// This month's window.
    public var monthly: Window

    /// Creates a snapshot.
    public init(daily: Window, monthly: Window) {
        self.daily = daily
        self.monthly = monthly
    }

    /// A snapshot with no limits and nothing spent.
    public static let unlimited = BudgetSnapshot(daily: .init(limit: nil), monthly: .init(limit: nil))
}
