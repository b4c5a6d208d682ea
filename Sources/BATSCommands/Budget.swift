import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

extension BATSCommand {
    /// `bats budget`: spent, reserved and remaining for today and this month.
    struct Budget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show spent, reserved and remaining budget for today and this month.",
            discussion: "Without budget flags or a configuration file's budget, the limits and time zone last recorded in the ledger apply.")

        @Option(help: "The ledger file (default: the configuration file's ledger.path).")
        var ledger: String?

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        @Option(help: "Output format: table or json.")
        var format: OutputFormat = .table

        @Option(help: "The moment to report on, RFC 3339 (default: now).", transform: ArgumentTransform.instant)
        var at: Date?

        func validate() throws {
            if format == .csv { throw ValidationError("--format must be table or json") }
        }

        func run() async throws {
            let settings = try deployment.load()
            let file = settings.file
            let ledger = try settings.requiredLedgerPath(ledger)
            // The ledger is checked here, not in validate(): a missing file is one line on stderr, not a usage error.
            try InputFile.checkExistingLedger(ledger)
            let date = at ?? Date()
            // Without flags or a file's budget, only read; with them, record the change (with its time) and show the result.
            var config = budget.setsSomething(file: file) ? try budget.ledgerConfiguration(forLedger: ledger, file: file) : try readOnlyLedgerConfiguration()
            config.busyTimeout = .seconds(10)
            let l = try SQLiteLedger(path: ledger, configuration: config, now: date)
            let s = try l.snapshotNow(at: date)
            let zone = try l.timeZone(at: date)
            let forecasts = try l.forecast(at: date)
            if format == .json {
                print(try encodeJSON(BudgetJSON(timeZone: zone, snapshot: s, forecasts: forecasts)))
                return
            }
            print("window      key          limit        spent     critical     reserved    remaining")
            let rows = [("", s.daily, s.monthly)] + s.scopes.map { ("  scope \($0.name)", $0.daily, $0.monthly) }
            for (suffix, day, month) in rows {
                for (name, w) in [("today", day), ("this month", month)] {
                    let f = { (m: MicroDollars?) in (m?.formatted(decimals: 4) ?? "unlimited").leftPad(12) }
                    print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(w.key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(w.limit)) \(f(w.settled)) \(f(w.criticalSettled)) \(f(w.reserved)) \(f(w.remaining))\(suffix)")
                }
            }
            print("")
            print("forecast  month         spent    burn/day     month-end    runs out  per day left  budget")
            for fc in forecasts {
                let f = fc.forecast
                print("          \(fc.monthKey.padding(toLength: 7, withPad: " ", startingAt: 0)) \(fc.monthSpent.formatted(decimals: 4).leftPad(12)) \(f.burnRatePerDay.formatted(decimals: 4).leftPad(11)) \(f.projectedMonthEnd.formatted(decimals: 4).leftPad(13)) \((f.runOutDay ?? "-").leftPad(11)) \((f.dailyAllowance?.formatted(decimals: 4) ?? "unlimited").leftPad(13))  \(fc.scope.map { "scope \($0)" } ?? "global")")
            }
            print("time zone \(zone)")
        }
    }
}

/// The JSON shape of `bats budget --format json`: `time_zone`, `day` and `month`, keys sorted.
///
/// To add a field, add a property and its key to `CodingKeys`.
struct BudgetJSON: Encodable {
    /// One window; money as dollars (``JSONDollars``), `limit_usd` and `remaining_usd` `null` when unlimited.
    struct Window: Encodable {
        var key: String
        var limit: JSONDollars
        var settled: JSONDollars
        var criticalSettled: JSONDollars
        var reserved: JSONDollars
        var remaining: JSONDollars

        init(_ w: BudgetSnapshot.Window) {
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
    struct Scope: Encodable {
        var name: String
        var day: Window
        var month: Window
    }

    /// One forecast: `scope` (absent for the global budget), `month`, `month_spent_usd`, `burn_rate_per_day_usd`,
    /// `projected_month_end_usd`, `runs_out_on` (`null`: it lasts), `daily_allowance_usd` (`null`: no monthly limit),
    /// `weekday_aware`, `days_used`.
    struct Forecast: Encodable {
        var scope: String?
        var month: String
        var monthSpent: JSONDollars
        var burnRate: JSONDollars
        var projected: JSONDollars
        var runsOutOn: String?
        var allowance: JSONDollars
        var weekdayAware: Bool
        var daysUsed: Int

        init(_ f: WindowForecast) {
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

        func encode(to encoder: any Encoder) throws {
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

    var timeZone: String
    var day: Window
    var month: Window
    var scopes: [Scope]
    var forecast: [Forecast]

    init(timeZone: String, snapshot: BudgetSnapshot, forecasts: [WindowForecast] = []) {
        self.timeZone = timeZone
        day = Window(snapshot.daily)
        month = Window(snapshot.monthly)
        scopes = snapshot.scopes.map { Scope(name: $0.name, day: Window($0.daily), month: Window($0.monthly)) }
        forecast = forecasts.map(Forecast.init)
    }

    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone", day, month, scopes, forecast
    }
}
