public import Foundation
public import ModelSelection

/// Where a month's spend is heading: the burn rate, the projected month-end, the day the monthly budget runs out, and
/// what each remaining day may spend so that the month lasts. Pure: its inputs are the daily spend and the moment.
///
/// **Method.** The burn rate is an exponentially weighted mean of the completed days (this month's and up to
/// ``Configuration/historyDays`` before), with a half-life of ``Configuration/halfLifeDays``, so a change of pace
/// shows within days while one odd day does not swing it. With at least two weeks of history the forecast is
/// weekday-aware: each weekday's factor is its mean spend over the mean of all days, and each remaining day is
/// projected at the rate times its weekday's factor (a trading agent spends nothing at weekends). Today counts what
/// it has spent plus the rate for the part of today still to come (by elapsed local time, so 23- and 25-hour days
/// are pro-rated correctly).
public struct BudgetForecast: Sendable, Hashable {
    /// The method's parameters.
    public struct Configuration: Sendable, Hashable {
        /// The half-life of a day's weight, in days.
        public var halfLifeDays: Double
        /// How many completed days before today are used, at most.
        public var historyDays: Int
        /// How many completed days are needed before weekday factors are used.
        public var weekdayMinimumDays: Int

        /// Creates parameters (defaults: half-life 7 days, 56 days of history, weekday factors from 14 days).
        public init(halfLifeDays: Double = 7, historyDays: Int = 56, weekdayMinimumDays: Int = 14) {
            self.halfLifeDays = halfLifeDays
            self.historyDays = historyDays
            self.weekdayMinimumDays = weekdayMinimumDays
        }
    }

    /// One day's spend.
    public struct Day: Sendable, Hashable {
        /// `YYYY-MM-DD`.
        public var key: String
        /// What it spent (settled, and charged at expiry).
        public var spend: MicroDollars

        /// Creates a day.
        public init(key: String, spend: MicroDollars) {
            self.key = key
            self.spend = spend
        }
    }

    /// The expected spend per day (the weighted rate; for a weekday-aware forecast, the mean over a week).
    public var burnRatePerDay: MicroDollars
    /// Spend so far this month plus the projection of the rest of it.
    public var projectedMonthEnd: MicroDollars
    /// The first day whose projected cumulative spend passes the monthly limit, or `nil` (no limit, or it lasts).
    public var runOutDay: String?
    /// What each remaining day (today included) may spend so the month lasts: (limit − spent − held) / days left;
    /// `nil` without a monthly limit, zero when nothing is left.
    public var dailyAllowance: MicroDollars?
    /// Whether weekday factors were used.
    public var weekdayAware: Bool
    /// How many completed days the rate was computed from.
    public var daysUsed: Int

    /// Forecasts the month containing `now`.
    /// - Parameters:
    ///   - history: Completed days before today (any order; days of earlier months count for the rate only).
    ///   - today: What today has spent so far.
    ///   - monthSpent: What this month has spent so far, today included.
    ///   - held: Open reservations of this month (counted against the allowance, not the projection).
    ///   - monthlyLimit: The month's limit, or `nil`.
    ///   - now: The moment.
    ///   - calendar: The windows' calendar.
    ///   - configuration: The method's parameters.
    public init(
        history: [Day], today: MicroDollars, monthSpent: MicroDollars, held: MicroDollars = .zero, monthlyLimit: MicroDollars?, now: Date,
        calendar: BudgetCalendar, configuration: Configuration = .init()
    ) {
        let todayWindow = calendar.day(containing: now)
        let month = calendar.month(containing: now)
        let dayNumber = { (key: String) -> Int? in Self.dayNumber(key) }
        guard let todayNumber = dayNumber(todayWindow.key) else {
            self.init(burnRatePerDay: .zero, projectedMonthEnd: monthSpent, runOutDay: nil, dailyAllowance: nil, weekdayAware: false, daysUsed: 0)
            return
        }
        // The completed days used, newest first: every day from this month's first (or the first day recorded, if
        // earlier, within the history) to yesterday; a day without a record spent nothing (a weekend, a quiet day).
        var recorded: [Int: Int64] = [:]
        for d in history {
            guard let n = dayNumber(d.key), n < todayNumber, n >= todayNumber - configuration.historyDays else { continue }
            recorded[n, default: 0] &+= d.spend.rawValue
        }
        let monthStart = dayNumber(calendar.day(containing: month.start).key) ?? todayNumber
        let firstDay = min(recorded.keys.min() ?? monthStart, monthStart)
        let past: [(n: Int, spend: MicroDollars)] = firstDay < todayNumber
            ? (firstDay..<todayNumber).reversed().map { ($0, MicroDollars(micros: recorded[$0] ?? 0)) } : []
        // Weekday factors (ppm of the mean), from every day used.
        var factor: [Int: Int128] = [:]
        let weekdayAware = past.count >= configuration.weekdayMinimumDays
        if weekdayAware {
            var sums: [Int: (Int128, Int128)] = [:]
            var total = Int128(0)
            for d in past {
                let wd = Self.weekday(d.n)
                sums[wd, default: (0, 0)].0 += Int128(d.spend.rawValue)
                sums[wd, default: (0, 0)].1 += 1
                total += Int128(d.spend.rawValue)
            }
            let mean = total / Int128(past.count)
            for (wd, (s, n)) in sums where n > 0 && mean > 0 { factor[wd] = s / n * 1_000_000 / mean }
        }
        // Exponentially weighted mean of the days, each divided by its weekday's factor when weekday-aware (so a
        // weekend just past does not lower the weekdays to come); weights as integers (parts per million), money
        // summed in Int128.
        var weighted = Int128(0), weights = Int128(0)
        for d in past {
            var spend = Int128(d.spend.rawValue)
            if weekdayAware {
                guard let f = factor[Self.weekday(d.n)], f > 0 else { continue }
                spend = spend * 1_000_000 / f
            }
            let age = Double(todayNumber - d.n - 1)
            let w = Int128((pow(0.5, age / max(0.01, configuration.halfLifeDays)) * 1_000_000).rounded())
            weighted += spend * w
            weights += w
        }
        let rate = weights > 0 ? weighted / weights : 0
        func expected(_ n: Int) -> Int128 {
            guard weekdayAware else { return rate }
            return rate * (factor[Self.weekday(n)] ?? 1_000_000) / 1_000_000
        }
        // Today's remaining part, by elapsed local time.
        let length = Int128(LedgerStore.micros(todayWindow.end) - LedgerStore.micros(todayWindow.start))
        let left = max(0, min(length, Int128(LedgerStore.micros(todayWindow.end) - LedgerStore.micros(now))))
        var cumulative = Int128(monthSpent.rawValue) + (length > 0 ? expected(todayNumber) * left / length : 0)
        var runOut: String?
        let limit = monthlyLimit.map { Int128($0.rawValue) }
        if let limit, cumulative > limit { runOut = todayWindow.key }
        let lastNumber = dayNumber(calendar.day(containing: month.end.addingTimeInterval(-1)).key) ?? todayNumber
        if lastNumber > todayNumber {
            for n in (todayNumber + 1)...lastNumber {
                cumulative += expected(n)
                if runOut == nil, let limit, cumulative > limit { runOut = Self.dayKey(n) }
            }
        }
        var allowance: MicroDollars?
        if let limit {
            let remaining = limit - Int128(monthSpent.rawValue) - Int128(held.rawValue)
            let daysLeft = Int128(max(1, lastNumber - todayNumber + 1))
            allowance = Self.clamp(max(0, remaining) / daysLeft)
        }
        self.init(
            burnRatePerDay: Self.clamp(weekdayAware ? (todayNumber...(todayNumber + 6)).map(expected).reduce(0, +) / 7 : rate),
            projectedMonthEnd: Self.clamp(cumulative), runOutDay: runOut, dailyAllowance: allowance, weekdayAware: weekdayAware,
            daysUsed: past.count)
    }

    /// Creates a forecast from its figures.
    public init(
        burnRatePerDay: MicroDollars, projectedMonthEnd: MicroDollars, runOutDay: String?, dailyAllowance: MicroDollars?, weekdayAware: Bool,
        daysUsed: Int
    ) {
        self.burnRatePerDay = burnRatePerDay
        self.projectedMonthEnd = projectedMonthEnd
        self.runOutDay = runOutDay
        self.dailyAllowance = dailyAllowance
        self.weekdayAware = weekdayAware
        self.daysUsed = daysUsed
    }

    private static func clamp(_ v: Int128) -> MicroDollars {
        MicroDollars(micros: v > Int128(Int64.max) ? .max : v < 0 ? 0 : Int64(v))
    }

    // MARK: - Civil days

    /// Days since 1970-01-01 of a `YYYY-MM-DD` key, or `nil`.
    static func dayNumber(_ key: String) -> Int? {
        let parts = key.split(separator: "-")
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), (1...31).contains(d) else {
            return nil
        }
        // Howard Hinnant's days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The key of a day number.
    static func dayKey(_ n: Int) -> String {
        let z = n + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// 0 = Thursday (1970-01-01), … : only equality matters.
    static func weekday(_ n: Int) -> Int { ((n % 7) + 7) % 7 }
}
