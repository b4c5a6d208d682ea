import Foundation
import ModelSelection
import Testing

@testable import SpendLedger

/// The month-end forecast: exact figures on constructed series.
@Suite("Budget forecast")
struct ForecastTests {
    static let utc = BudgetCalendar()

    /// Days `first...last` of November 2026 spending `spend(day)`.
    static func november(_ days: ClosedRange<Int>, _ spend: (Int) -> MicroDollars) -> [BudgetForecast.Day] {
        days.map { BudgetForecast.Day(key: "2026-11-\($0 < 10 ? "0" : "")\($0)", spend: spend($0)) }
    }

    static func sum(_ days: [BudgetForecast.Day]) -> MicroDollars { MicroDollars(micros: days.reduce(0) { $0 + $1.spend.rawValue }) }

    @Test("Flat spend: the rate, the month-end, the run-out day and the daily allowance")
    func flat() {
        let history = Self.november(1...10) { _ in .dollars(1) }
        let f = BudgetForecast(
            history: history, today: .zero, monthSpent: Self.sum(history), monthlyLimit: .dollars(25),
            now: LedgerFixture.utc("2026-11-11T00:00:00Z"), calendar: Self.utc, configuration: .init(weekdayMinimumDays: 100))
        #expect(f.burnRatePerDay == .dollars(1))
        // $10 so far, 20 days left (today included) at $1.
        #expect(f.projectedMonthEnd == .dollars(30))
        // Day 25 reaches $25 exactly; day 26 passes it.
        #expect(f.runOutDay == "2026-11-26")
        #expect(f.dailyAllowance == MicroDollars(micros: 750_000))
        #expect(!f.weekdayAware && f.daysUsed == 10)
    }

    @Test("Recent days weigh more: a rising series projects above its flat average")
    func rising() {
        let history = Self.november(1...10) { MicroDollars.cents(Int32($0) * 10) }
        let f = BudgetForecast(
            history: history, today: .zero, monthSpent: Self.sum(history), monthlyLimit: nil, now: LedgerFixture.utc("2026-11-11T00:00:00Z"),
            calendar: Self.utc, configuration: .init(weekdayMinimumDays: 100))
        let average = Self.sum(history).rawValue / 10
        #expect(f.burnRatePerDay.rawValue > average && f.burnRatePerDay <= .dollars(1))
        #expect(f.runOutDay == nil && f.dailyAllowance == nil)
    }

    @Test("Weekday-aware: a weekday-only spender is projected to spend nothing at weekends")
    func weekdays() throws {
        // 2026-11-02 is a Monday. Three weeks of $1 on weekdays, nothing at weekends.
        let history = Self.november(1...21) { d in
            let weekday = (d + 6) % 7  // 0 = Sunday for November 2026 (the 1st is a Sunday)
            return weekday == 0 || weekday == 6 ? .zero : .dollars(1)
        }
        let f = BudgetForecast(
            history: history, today: .zero, monthSpent: Self.sum(history), monthlyLimit: nil, now: LedgerFixture.utc("2026-11-22T00:00:00Z"),
            calendar: Self.utc)
        #expect(f.weekdayAware)
        // 15 so far; the 22nd (Sunday) and 28th–29th are weekend days; 23–27 and 30 are 6 weekdays at about $1.
        let expected = 15.0 + 6.0
        let projected = Double(f.projectedMonthEnd.rawValue) / 1e6
        #expect(abs(projected - expected) < 0.01, "projected \(projected)")
        // A flat rate would have said 15 + 9 × 15/21.
        #expect(abs(projected - (15 + 9 * 15.0 / 21)) > 0.4)
    }

    @Test("No spend, and a month already over its limit")
    func edges() {
        let none = BudgetForecast(
            history: [], today: .zero, monthSpent: .zero, monthlyLimit: .dollars(30), now: LedgerFixture.utc("2026-11-01T12:00:00Z"), calendar: Self.utc)
        #expect(none.burnRatePerDay == .zero && none.projectedMonthEnd == .zero && none.runOutDay == nil)
        #expect(none.dailyAllowance == .dollars(1))
        let over = BudgetForecast(
            history: Self.november(1...5) { _ in .dollars(10) }, today: .dollars(1), monthSpent: .dollars(51), monthlyLimit: .dollars(40),
            now: LedgerFixture.utc("2026-11-06T12:00:00Z"), calendar: Self.utc)
        #expect(over.runOutDay == "2026-11-06" && over.dailyAllowance == .zero)
    }

    @Test("Today's remaining share follows local time on a 23-hour DST day")
    func dstDay() throws {
        let ny = try BudgetCalendar(timeZoneIdentifier: "America/New_York")
        // 2026-03-08 runs 05:00Z → 04:00Z next day (23 hours). At 15:00Z (11:00 EDT) 10 of its 23 hours have passed.
        let history = (1...7).map { BudgetForecast.Day(key: "2026-03-0\($0)", spend: .dollars(23)) }
        let f = BudgetForecast(
            history: history, today: .zero, monthSpent: .dollars(161), monthlyLimit: nil, now: LedgerFixture.utc("2026-03-08T15:00:00Z"),
            calendar: ny, configuration: .init(weekdayMinimumDays: 100))
        // 161 + 23 × 13/23 (today's rest) + 23 days × 23.
        #expect(f.projectedMonthEnd == .dollars(161 + 13 + 23 * 23))
    }

    @Test("The ledger's forecast, per window and scope, counts only what happened before the moment")
    func fromLedger() throws {
        let limits = BudgetLimits(daily: nil, monthly: .dollars(100), scopes: [ScopeTests.scope("tag:agent=scanner", monthly: .dollars(10))])
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: limits), now: LedgerFixture.utc("2026-11-01T00:00:00Z"))
        let t = LedgerFixture.task(.simple)
        for day in 1...12 {
            let at = LedgerFixture.utc("2026-11-\(day < 10 ? "0" : "")\(day)T12:00:00Z")
            let o = try l.reserveNow(ReservationRequest(requestID: "d\(day)", tags: ["agent": "scanner"], tier: .simple), at: at) {
                LedgerFixture.selector.select(t, budget: $0)
            }
            let r = try #require(LedgerFixture.reservation(o))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: .cents(50)), at: at)
        }
        // At midnight of the 11th: 10 days of $0.50 (the 11th and 12th are in the future).
        let fs = try l.forecast(at: LedgerFixture.utc("2026-11-11T00:00:00Z"), configuration: .init(weekdayMinimumDays: 100))
        #expect(fs.map(\.scope) == [nil, "tag:agent=scanner"])
        for f in fs {
            #expect(f.monthSpent == .dollars(5))
            #expect(f.forecast.burnRatePerDay == .cents(50))
            #expect(f.forecast.projectedMonthEnd == .dollars(15))
        }
        #expect(fs[1].forecast.runOutDay == "2026-11-21" && fs[0].forecast.runOutDay == nil)
        #expect(fs[1].forecast.dailyAllowance == .cents(25))
    }

    @Test("bats budget gives the same forecast in its table and its JSON")
    func command() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let limits = BudgetLimits(daily: nil, monthly: .dollars(100), scopes: [ScopeTests.scope("tag:agent=scanner", monthly: .dollars(10))])
        let l = try SQLiteLedger(path: path, configuration: .init(limits: limits), now: LedgerFixture.utc("2026-11-01T00:00:00Z"))
        let t = LedgerFixture.task(.simple)
        for day in 1...10 {
            let at = LedgerFixture.utc("2026-11-\(day < 10 ? "0" : "")\(day)T12:00:00Z")
            let o = try l.reserveNow(ReservationRequest(requestID: "d\(day)", tags: ["agent": "scanner"], tier: .simple), at: at) {
                LedgerFixture.selector.select(t, budget: $0)
            }
            let r = try #require(LedgerFixture.reservation(o))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 1, outputTokens: 1, cost: .cents(50)), at: at)
        }
        let json = try BATSBinary.run(["budget", "--ledger", path, "--at", "2026-11-11T00:00:00Z", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let forecasts = try #require(object["forecast"] as? [[String: Any]])
        #expect(forecasts.count == 2)
        let scanner = try #require(forecasts.first { $0["scope"] as? String == "tag:agent=scanner" })
        #expect(scanner["runs_out_on"] as? String == "2026-11-21")
        #expect((scanner["projected_month_end_usd"] as? NSNumber)?.doubleValue == 15)
        let table = try BATSBinary.run(["budget", "--ledger", path, "--at", "2026-11-11T00:00:00Z"])
        #expect(table.status == 0)
        let line = try #require(table.stdout.split(separator: "\n").first { $0.hasSuffix("scope tag:agent=scanner") && $0.contains("2026-11-21") })
        #expect(line.contains("$15.0000") && line.contains("$0.5000") && line.contains("$0.2500"))
    }
}
