public import Foundation

/// Budget windows on the calendar of one time zone: a day runs from local midnight to local midnight
/// (23 or 25 hours on DST days), a month is the calendar month.
public struct BudgetCalendar: Sendable, Hashable {
    /// One window: its key and its bounds.
    public struct Window: Sendable, Hashable {
        /// `2026-11-21` for a day, `2026-11` for a month.
        public var key: String
        /// The first instant of the window.
        public var start: Date
        /// The first instant after the window.
        public var end: Date

        /// Whether `date` falls in the window.
        public func contains(_ date: Date) -> Bool { date >= start && date < end }
    }

    /// The time zone windows follow.
    public let timeZone: TimeZone
    /// The zone's name as configured (`UTC`, `America/New_York`).
    public let zoneName: String
    private let calendar: Calendar

    /// Creates a calendar for a time zone.
    /// - Parameter timeZone: The zone; windows follow its local midnights.
    public init(timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.init(timeZone: timeZone, name: timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier)
    }

    private init(timeZone: TimeZone, name: String) {
        self.timeZone = timeZone
        self.zoneName = name
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        self.calendar = c
    }

    /// Creates a calendar from an IANA zone name.
    /// - Parameter identifier: An IANA name such as `America/New_York`.
    /// - Throws: ``LedgerError`` when the name is not a known zone.
    public init(timeZoneIdentifier identifier: String) throws {
        guard let tz = TimeZone(identifier: identifier) else { throw LedgerError.unknownTimeZone(identifier) }
        self.init(timeZone: tz, name: identifier)
    }

    /// The day containing `date`.
    public func day(containing date: Date) -> Window {
        let start = calendar.startOfDay(for: date)
        let end = calendar.date(byAdding: .day, value: 1, to: start)!
        let c = calendar.dateComponents([.year, .month, .day], from: start)
        return Window(key: "\(pad(c.year!, 4))-\(pad(c.month!, 2))-\(pad(c.day!, 2))", start: start, end: end)
    }

    /// The month containing `date`.
    public func month(containing date: Date) -> Window {
        let c = calendar.dateComponents([.year, .month], from: date)
        let start = calendar.date(from: DateComponents(year: c.year, month: c.month, day: 1))!
        let end = calendar.date(byAdding: .month, value: 1, to: start)!
        return Window(key: "\(pad(c.year!, 4))-\(pad(c.month!, 2))", start: start, end: end)
    }

    /// The month key of a day key (`2026-11-21` → `2026-11`).
    public static func monthKey(ofDay dayKey: String) -> String { String(dayKey.prefix(7)) }

    private func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// Two calendars are the same when their zones are.
    public static func == (lhs: BudgetCalendar, rhs: BudgetCalendar) -> Bool { lhs.zoneName == rhs.zoneName }
    /// Hashes the zone.
    public func hash(into hasher: inout Hasher) { hasher.combine(zoneName) }
}

/// Remembers the current day and month windows so most calls skip calendar arithmetic.
struct WindowCache: Sendable {
    var zone: String?
    var day: BudgetCalendar.Window?
    var month: BudgetCalendar.Window?

    mutating func windows(for date: Date, calendar: BudgetCalendar) -> (day: BudgetCalendar.Window, month: BudgetCalendar.Window) {
        if zone != calendar.zoneName {
            zone = calendar.zoneName
            day = nil
            month = nil
        }
        if let d = day, d.contains(date), let m = month, m.contains(date) { return (d, m) }
        let d = calendar.day(containing: date)
        let m = (month?.contains(date) ?? false) ? month! : calendar.month(containing: date)
        day = d
        month = m
        return (d, m)
    }
}
