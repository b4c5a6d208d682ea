/// US equity market days and hours, computed from fixed rules so output never depends on the platform's
/// time-zone database.
///
/// Market days are Monday to Friday except NYSE full-day holidays (New Year's Day, Martin Luther King Jr. Day,
/// Washington's Birthday, Good Friday, Memorial Day, Juneteenth, Independence Day, Labor Day, Thanksgiving,
/// Christmas; a Saturday holiday is observed on Friday, a Sunday one on Monday). Hours are 09:30–16:00
/// America/New_York, with US daylight saving time (second Sunday of March to first Sunday of November).
enum MarketCalendar {
    /// Whether a day (days since 1970-01-01) is a market day.
    static func isMarketDay(_ day: Int64, skipHolidays: Bool) -> Bool {
        let weekday = Timestamp.weekday(days: day)
        guard weekday != 0 && weekday != 6 else { return false }
        return !skipHolidays || !isHoliday(day)
    }

    /// The UTC offset of New York on a day, in seconds (−4 h in daylight saving time, else −5 h).
    static func newYorkOffsetSeconds(_ day: Int64) -> Int64 {
        let year = Timestamp.civil(days: day).year
        let dstStart = nthWeekday(year: year, month: 3, weekday: 0, n: 2)
        let dstEnd = nthWeekday(year: year, month: 11, weekday: 0, n: 1)
        return day >= dstStart && day < dstEnd ? -4 * 3600 : -5 * 3600
    }

    /// The UTC instant of a local New York time on a day, in nanoseconds.
    static func newYorkInstant(day: Int64, secondsOfDay: Int64) -> Int64 {
        (day * 86_400 + secondsOfDay - newYorkOffsetSeconds(day)) * Timestamp.nanosPerSecond
    }

    static func isHoliday(_ day: Int64) -> Bool {
        let year = Timestamp.civil(days: day).year
        for holiday in holidays(year: year) + holidays(year: year + 1) where holiday == day { return true }
        return false
    }

    /// The observed NYSE full-day holidays of a year.
    static func holidays(year: Int) -> [Int64] {
        func observed(_ month: Int, _ dayOfMonth: Int) -> Int64 {
            let d = Timestamp.days(year: year, month: month, day: dayOfMonth)
            switch Timestamp.weekday(days: d) {
            case 6: return d - 1
            case 0: return d + 1
            default: return d
            }
        }
        var days: [Int64] = [
            observed(1, 1),
            nthWeekday(year: year, month: 1, weekday: 1, n: 3),
            nthWeekday(year: year, month: 2, weekday: 1, n: 3),
            easter(year: year) - 2,
            lastWeekday(year: year, month: 5, weekday: 1),
            observed(7, 4),
            nthWeekday(year: year, month: 9, weekday: 1, n: 1),
            nthWeekday(year: year, month: 11, weekday: 4, n: 4),
            observed(12, 25),
        ]
        if year >= 2022 { days.append(observed(6, 19)) }
        return days
    }

    /// The n-th given weekday (0 = Sunday) of a month.
    static func nthWeekday(year: Int, month: Int, weekday: Int, n: Int) -> Int64 {
        let first = Timestamp.days(year: year, month: month, day: 1)
        let shift = Int64((weekday - Timestamp.weekday(days: first) + 7) % 7)
        return first + shift + Int64(7 * (n - 1))
    }

    static func lastWeekday(year: Int, month: Int, weekday: Int) -> Int64 {
        let last = Timestamp.days(year: year, month: month, day: Timestamp.daysInMonth(year: year, month: month))
        return last - Int64((Timestamp.weekday(days: last) - weekday + 7) % 7)
    }

    /// Easter Sunday (anonymous Gregorian algorithm).
    static func easter(year y: Int) -> Int64 {
        let a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4
        let f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30
        let i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return Timestamp.days(year: y, month: month, day: day)
    }
}
