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

    /// A scope's windows (a tag value, task kind, tier or caller key with its own budget under the global one).
    public struct Scope: Sendable, Hashable {
        /// The scope's name (`tag:agent=scanner`, `key:desk-a/tag:agent=scanner`).
        public var name: String
        /// Today's window of the scope.
        public var daily: Window
        /// This month's window of the scope.
        public var monthly: Window

        /// Creates a scope's state.
        public init(name: String, daily: Window, monthly: Window) {
            self.name = name
            self.daily = daily
            self.monthly = monthly
        }
    }

    /// One window of the snapshot, named: the one that binds a call.
    public struct Binding: Sendable, Hashable, CustomStringConvertible {
        /// The scope's name, or `nil` for the global budget.
        public var scope: String?
        /// Whether it is the day window (else the month).
        public var isDaily: Bool
        /// The window's key.
        public var key: String
        /// What a non-critical call may still take in it.
        public var available: MicroDollars

        /// `scope tag:agent=scanner day 2026-12-02` or `global month 2026-12`.
        public var description: String { "\(scope.map { "scope \($0)" } ?? "global") \(isDaily ? "day" : "month") \(key)" }
    }

    /// Today's window.
    public var daily: Window
    /// This month's window.
    public var monthly: Window
    /// The windows of the scopes the call belongs to (empty when it belongs to none, or for the global view).
    public var scopes: [Scope]

    /// Creates a snapshot.
    public init(daily: Window, monthly: Window, scopes: [Scope] = []) {
        self.daily = daily
        self.monthly = monthly
        self.scopes = scopes
    }

    /// Every window with its name: the global day and month, then each scope's.
    public var allWindows: [(scope: String?, isDaily: Bool, window: Window)] {
        var out: [(scope: String?, isDaily: Bool, window: Window)] = [(nil, true, daily), (nil, false, monthly)]
        for s in scopes {
            out.append((s.name, true, s.daily))
            out.append((s.name, false, s.monthly))
        }
        return out
    }

    /// The limited window with the least available for a non-critical call (the one that binds it), or `nil` when
    /// every window is unlimited. Ties go to the global budget, then the day, then scopes in order.
    /// - Parameter reservePartsPerMillion: The share of each limit kept for critical calls.
    public func binding(reservePartsPerMillion: Int64) -> Binding? {
        var best: Binding?
        func consider(_ scope: String?, _ isDaily: Bool, _ w: Window) {
            guard let a = w.available(reservePartsPerMillion: reservePartsPerMillion) else { return }
            if best == nil || a < best!.available { best = Binding(scope: scope, isDaily: isDaily, key: w.key, available: a) }
        }
        consider(nil, true, daily)
        consider(nil, false, monthly)
        for s in scopes {
            consider(s.name, true, s.daily)
            consider(s.name, false, s.monthly)
        }
        return best
    }

    /// A snapshot with no limits and nothing spent.
    public static let unlimited = BudgetSnapshot(daily: .init(limit: nil), monthly: .init(limit: nil))
}
