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
        public var key: String
        public var limit: JSONDollars
        public var settled: JSONDollars
        public var criticalSettled: JSONDollars
        public var reserved: JSONDollars
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
        public var name: String
        public var day: Window
        public var month: Window
    }

    /// One forecast: `scope` (absent for the global budget), `month`, `month_spent_usd`, `burn_rate_per_day_usd`,
    /// `projected_month_end_usd`, `runs_out_on` (`null`: it lasts), `daily_allowance_usd` (`null`: no monthly limit),
    /// `weekday_aware`, `days_used`.
    public struct Forecast: Encodable, Sendable {
        public var scope: String?
        public var month: String
        public var monthSpent: JSONDollars
        public var burnRate: JSONDollars
        public var projected: JSONDollars
        public var runsOutOn: String?
        public var allowance: JSONDollars
        public var weekdayAware: Bool
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

    public var timeZone: String
    public var day: Window
    public var month: Window
    public var scopes: [Scope]
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

    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone", day, month, scopes, forecast, asOf = "as_of", today, thisMonth = "this_month", days, recent
    }

    /// Writes the document; the server-only parts only when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(day, forKey: .day)
        try c.encode(month, forKey: .month)
        try c.encode(scopes, forKey: .scopes)
        try c.encode(forecast, forKey: .forecast)
        try c.encodeIfPresent(asOf, forKey: .asOf)
        try c.encodeIfPresent(today, forKey: .today)
        try c.encodeIfPresent(thisMonth, forKey: .thisMonth)
        try c.encodeIfPresent(days, forKey: .days)
        try c.encodeIfPresent(recent, forKey: .recent)
    }
}
