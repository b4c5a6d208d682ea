import Foundation
public import ModelSelection
public import Replay
public import SpendLedger

/// The budget as JSON, for `bats budget --format json` and `GET /v1/bats/budget`: `time_zone`, `day`, `month`,
/// `scopes` and `forecast`; the server adds `as_of`, `today`, `this_month` (spend by model, tier and agent), `days`
/// (this month, day by day) and `recent` (refusals and downgrades). Keys are sorted when encoded.
///
/// To add a field, add a property and its key to `CodingKeys`.
public struct BudgetDocument: Encodable, Sendable {
    /// One window; money as dollars (``JSONDollars``), `limit_usd` and `remaining_usd` `null` when unlimited.
    public struct Window: Encodable, Sendable {
        /// The window's key (`2026-12-03`, `2026-12`).
        public var key: String
        /// The limit; `null` when unlimited.
        public var limit: JSONDollars
        /// Settled spend, critical included.
        public var settled: JSONDollars
        /// Of it, critical calls.
        public var criticalSettled: JSONDollars
        /// Held by open reservations.
        public var reserved: JSONDollars
        /// The limit less settled and reserved; `null` when unlimited.
        public var remaining: JSONDollars

        /// A window's totals.
        public init(_ w: BudgetSnapshot.Window) {
            key = w.key
            limit = JSONDollars(w.limit)
            settled = JSONDollars(w.settled)
            criticalSettled = JSONDollars(w.criticalSettled)
            reserved = JSONDollars(w.reserved)
            remaining = JSONDollars(w.remaining)
        }

        enum CodingKeys: String, CodingKey {
            case key, limit = "limit_usd", settled = "settled_usd", criticalSettled = "critical_settled_usd", reserved = "reserved_usd"
            case remaining = "remaining_usd"
        }
    }

    /// One scope's windows.
    public struct Scope: Encodable, Sendable {
        /// The scope's name (`tag:agent=scanner`).
        public var name: String
        /// Its day window.
        public var day: Window
        /// Its month window.
        public var month: Window
    }

    /// One forecast: `scope` (absent for the global budget), `month`, `month_spent_usd`, `burn_rate_per_day_usd`,
    /// `projected_month_end_usd`, `runs_out_on` (`null`: it lasts), `daily_allowance_usd` (`null`: no monthly limit),
    /// `weekday_aware`, `days_used`.
    public struct Forecast: Encodable, Sendable {
        /// The scope, or `nil` for the global budget.
        public var scope: String?
        /// The month (`2026-12`).
        public var month: String
        /// Spent so far this month.
        public var monthSpent: JSONDollars
        /// The recent burn rate per day.
        public var burnRate: JSONDollars
        /// The projected month-end spend.
        public var projected: JSONDollars
        /// The day the monthly limit would run out, or `nil` if it lasts.
        public var runsOutOn: String?
        /// What each remaining day may spend; `null` without a monthly limit.
        public var allowance: JSONDollars
        /// Whether the burn rate tells weekdays from weekends.
        public var weekdayAware: Bool
        /// How many days of history the forecast used.
        public var daysUsed: Int

        /// A forecast.
        public init(_ f: WindowForecast) {
            scope = f.scope
            month = f.monthKey
            monthSpent = JSONDollars(f.monthSpent)
            burnRate = JSONDollars(f.forecast.burnRatePerDay)
            projected = JSONDollars(f.forecast.projectedMonthEnd)
            runsOutOn = f.forecast.runOutDay
            allowance = JSONDollars(f.forecast.dailyAllowance)
            weekdayAware = f.forecast.weekdayAware
            daysUsed = f.forecast.daysUsed
        }

        /// Writes the forecast; `scope` is left out for the global budget.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(scope, forKey: .scope)
            try c.encode(month, forKey: .month)
            try c.encode(monthSpent, forKey: .monthSpent)
            try c.encode(burnRate, forKey: .burnRate)
            try c.encode(projected, forKey: .projected)
            try c.encode(runsOutOn, forKey: .runsOutOn)
            try c.encode(allowance, forKey: .allowance)
            try c.encode(weekdayAware, forKey: .weekdayAware)
            try c.encode(daysUsed, forKey: .daysUsed)
        }

        enum CodingKeys: String, CodingKey {
            case scope, month, monthSpent = "month_spent_usd", burnRate = "burn_rate_per_day_usd", projected = "projected_month_end_usd"
            case runsOutOn = "runs_out_on", allowance = "daily_allowance_usd", weekdayAware = "weekday_aware", daysUsed = "days_used"
        }
    }

    /// The budget windows' time zone.
    public var timeZone: String
    /// Today's global window.
    public var day: Window
    /// This month's global window.
    public var month: Window
    /// Every configured scope's windows.
    public var scopes: [Scope]
    /// The month-end forecasts, global and per scope.
    public var forecast: [Forecast]

    /// The document of a snapshot and its forecasts.
    public init(timeZone: String, snapshot: BudgetSnapshot, forecasts: [WindowForecast] = []) {
        self.timeZone = timeZone
        day = Window(snapshot.daily)
        month = Window(snapshot.monthly)
        scopes = snapshot.scopes.map { Scope(name: $0.name, day: Window($0.daily), month: Window($0.monthly)) }
        forecast = forecasts.map(Forecast.init)
    }

    /// When the server read it (RFC 3339); `nil` for `bats budget`.
    public var asOf: String?
    /// Today's spend by model, tier and agent (server only).
    public var today: Breakdown?
    /// This month's spend by model, tier and agent (server only).
    public var thisMonth: Breakdown?
    /// This month, day by day (server only).
    public var days: [Day]?
    /// The latest refusals and downgrades, newest first (server only).
    public var recent: [Decision]?

    /// The keys; the synthesized encoding leaves the server-only parts out when they are `nil`.
    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone", day, month, scopes, forecast, asOf = "as_of", today, thisMonth = "this_month", days, recent
    }
}
