public import Foundation
import GRDB
public import ModelSelection

/// The month-end forecast of the global budget or of one scope.
public struct WindowForecast: Sendable, Hashable {
    /// The scope's name, or `nil` for the global budget.
    public var scope: String?
    /// The month (`2026-12`).
    public var monthKey: String
    /// The month's limit, or `nil`.
    public var monthlyLimit: MicroDollars?
    /// What the month has spent so far (settled and charged at expiry).
    public var monthSpent: MicroDollars
    /// The forecast.
    public var forecast: BudgetForecast
}

extension SQLiteLedger {
    /// The month-end forecast at `date`, for the global budget and each configured scope, from the ledger's daily totals
    /// (``BudgetForecast`` describes the method). Only what happened before `date` counts, so a past moment can be
    /// forecast from a ledger that has the whole month.
    /// - Parameters:
    ///   - date: The moment.
    ///   - configuration: The method's parameters.
    /// - Returns: The global forecast first, then the scopes' by name.
    /// - Throws: ``LedgerError``.
    public func forecast(at date: Date, configuration: BudgetForecast.Configuration = .init()) throws -> [WindowForecast] {
        let limits = self.limits
        return try read { db in
            let state = try LedgerState.read(db)
            let calendar = try windowCache.calendar(state.zone(at: LedgerStore.micros(date)))
            let today = calendar.day(containing: date).key, month = calendar.month(containing: date).key
            let first = BudgetForecast.dayKey((BudgetForecast.dayNumber(today) ?? 0) - configuration.historyDays)
            let now = LedgerStore.micros(date)
            var out: [WindowForecast] = []
            for (scope, monthly) in [(String?.none, limits.monthly)] + limits.scopes.map({ (Optional($0.name), $0.monthly) }) {
                let days: [BudgetForecast.Day] = try Row.fetchAll(
                    db,
                    sql: scope == nil
                        ? "SELECT key, settled FROM budget_window WHERE period = 'day' AND key >= ? AND key < ?"
                        : "SELECT key, settled FROM scope_window WHERE period = 'day' AND key >= ? AND key < ? AND scope = ?",
                    arguments: scope == nil ? [first, today] : [first, today, scope]
                ).map { BudgetForecast.Day(key: $0[0], spend: MicroDollars(micros: $0[1])) }
                // Today so far, and what is held: from the entries made before `date`.
                let member = scope == nil ? "1" : "instr(char(10) || scopes || char(10), char(10) || ? || char(10)) > 0"
                let args: StatementArguments = scope == nil ? [today, now] : [today, now, scope]
                let spentToday = try Int64.fetchOne(
                    db,
                    sql: "SELECT COALESCE(SUM(actual_cost), 0) FROM entry WHERE day_key = ? AND created_at < ? AND status IN ('settled', 'expired') AND \(member)",
                    arguments: args) ?? 0
                let held = try Int64.fetchOne(
                    db,
                    sql: "SELECT COALESCE(SUM(est_cost), 0) FROM entry WHERE month_key = ? AND created_at < ? AND status = 'reserved' AND \(member)",
                    arguments: scope == nil ? [month, now] : [month, now, scope]) ?? 0
                var monthSpent = Int128(spentToday)
                for d in days where BudgetCalendar.monthKey(ofDay: d.key) == month { monthSpent += Int128(d.spend.rawValue) }
                let spent = MicroDollars(micros: monthSpent > Int128(Int64.max) ? .max : Int64(monthSpent))
                let f = BudgetForecast(
                    history: days, today: MicroDollars(micros: spentToday), monthSpent: spent, held: MicroDollars(micros: held), monthlyLimit: monthly,
                    now: date, calendar: calendar, configuration: configuration)
                out.append(WindowForecast(scope: scope, monthKey: month, monthlyLimit: monthly, monthSpent: spent, forecast: f))
            }
            return out
        }
    }
}
