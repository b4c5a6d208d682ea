import Foundation

/// How big a budget lease a host asks for: enough for its recent burn over a horizon, bounded by a share of what
/// is left and by a fixed amount, and no more than one call's estimate near the end of a budget.
///
/// Pure: the burn rate is fed the host's holds with their times (µs), so the policy is a state machine with time
/// injected (`LeasePolicyTests` drive it with a virtual clock).
public struct LeasePolicy: Sendable, Hashable {
    /// The bounds and horizon.
    public struct Configuration: Sendable, Hashable {
        /// The largest share of a window's remaining budget one lease may take, in parts per million (100,000 = 10%).
        public var maxSharePartsPerMillion: Int64
        /// The largest lease, in micro-dollars.
        public var maxAmount: Int64
        /// How long a lease should last at the recent burn rate.
        public var horizon: Duration
        /// Below this many call estimates of room left in a window, a lease is exactly one call's estimate (a single
        /// reservation): the last dollars go to whichever host asks, never stranded on an idle one.
        public var exactBelowCalls: Int64
        /// The burn rate's half-life.
        public var halfLife: Duration

        /// Creates a configuration.
        public init(
            maxSharePartsPerMillion: Int64 = 100_000, maxAmount: Int64 = 5_000_000, horizon: Duration = .seconds(10), exactBelowCalls: Int64 = 20,
            halfLife: Duration = .seconds(5)
        ) {
            self.maxSharePartsPerMillion = maxSharePartsPerMillion
            self.maxAmount = maxAmount
            self.horizon = horizon
            self.exactBelowCalls = exactBelowCalls
            self.halfLife = halfLife
        }
    }

    /// The bounds.
    public var configuration: Configuration
    /// Recent spend per second (micro-dollars), decayed.
    public private(set) var burnPerSecond: Double = 0
    private var lastAt: Int64?
    /// Twice the last grant when it was used up within half the horizon (slow start: a host whose burn rate has not
    /// caught up yet doubles its lease each time, as TCP grows its window), else 0.
    public private(set) var growthFloor: Int64 = 0
    private var lastGrantAt: Int64?

    /// Creates a policy with no history.
    public init(configuration: Configuration = .init()) { self.configuration = configuration }

    /// Records a hold of `amount` at `micros`.
    public mutating func record(_ amount: Int64, at micros: Int64) {
        let halfLife = Double(configuration.halfLife.components.seconds) + Double(configuration.halfLife.components.attoseconds) / 1e18
        if let lastAt, micros > lastAt, halfLife > 0 {
            let dt = Double(micros - lastAt) / 1e6
            burnPerSecond *= Self.pow2(-dt / halfLife)
        }
        // Each hold adds its amount spread over one half-life (an exponential average of the rate).
        if halfLife > 0 { burnPerSecond += Double(max(0, amount)) * 0.693_147 / halfLife }
        lastAt = max(lastAt ?? micros, micros)
    }

    /// The lease to ask for when `available` is what every window of the call has left and `estimate` is its cost.
    /// Never below the estimate (the caller checks it fits), never above the share of `available` nor the maximum,
    /// and exactly the estimate near the end of the budget.
    public func size(available: Int64, estimate: Int64) -> Int64 {
        let estimate = max(0, estimate)
        guard available > 0 else { return estimate }
        let (endMark, overflow) = estimate.multipliedReportingOverflow(by: max(1, configuration.exactBelowCalls))
        if !overflow, available <= endMark { return estimate }
        let horizon = Double(configuration.horizon.components.seconds) + Double(configuration.horizon.components.attoseconds) / 1e18
        let burn = burnPerSecond * horizon
        let wanted = max(burn >= Double(Int64.max / 2) ? Int64.max / 2 : Int64(burn), growthFloor)
        let share = Int64((Int128(available) * Int128(configuration.maxSharePartsPerMillion)) / 1_000_000)
        let cap = min(share, configuration.maxAmount)
        return max(estimate, min(max(wanted, estimate.multipliedReportingOverflow(by: 4).overflow ? estimate : estimate * 4), cap))
    }

    /// Records a lease granted at `micros`: when the previous one went within half the horizon, the next is at least
    /// twice this one (still bounded by the share of what is left and the maximum).
    public mutating func granted(_ amount: Int64, at micros: Int64) {
        let half = (configuration.horizon / 2).components
        let halfMicros = half.seconds.multipliedReportingOverflow(by: 1_000_000).partialValue &+ half.attoseconds / 1_000_000_000_000
        if let t = lastGrantAt, micros >= t, micros - t < halfMicros {
            let (doubled, o) = max(0, amount).multipliedReportingOverflow(by: 2)
            growthFloor = o ? Int64.max / 2 : doubled
        } else {
            growthFloor = 0
        }
        lastGrantAt = micros
    }

    static func pow2(_ x: Double) -> Double { pow(2, x) }
}
