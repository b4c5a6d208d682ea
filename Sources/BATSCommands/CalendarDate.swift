import Foundation
import Replay

/// A day `YYYY-MM-DD` of the proleptic Gregorian calendar, checked: `2026-02-30` and `2026-13-45` are refused.
struct CalendarDate: Comparable, CustomStringConvertible {
    var year: Int
    var month: Int
    var day: Int

    /// Parses exactly `YYYY-MM-DD` (four-digit year 0000…9999) naming a day that exists.
    init?(parsing text: String) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = Self.digits(b[0..<4]), let m = Self.digits(b[5..<7]), let d = Self.digits(b[8..<10]),
            (1...12).contains(m), d >= 1, d <= Timestamp.daysInMonth(year: y, month: m)
        else { return nil }
        (year, month, day) = (y, m, d)
    }

    var description: String {
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Days since 1970-01-01.
    var daysSinceEpoch: Int64 { Timestamp.days(year: year, month: month, day: day) }

    static func < (a: CalendarDate, b: CalendarDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    static func digits(_ b: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for c in b {
            let d = c &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }

    // MARK: - RFC 3339 times

    /// Parses an RFC 3339 time such as `2026-11-21T15:00:00Z`, `2026-11-21T10:00:00.250-05:00`, strictly: the date
    /// must exist, hours 00…23, minutes 00…59, seconds 00…59 (a leap second 60 is refused), offset `Z` or ±HH:MM.
    /// - Returns: The instant, or `nil` when the text is not such a time.
    static func parseTime(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, let date = CalendarDate(parsing: String(decoding: b[0..<10], as: UTF8.self)),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let h = digits(b[11..<13]), let mi = digits(b[14..<16]), let s = digits(b[17..<19]), h < 24, mi < 60, s < 60
        else { return nil }
        var i = 19
        var fraction = 0.0
        if b[i] == UInt8(ascii: ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            guard i > start, i - start <= 9, let f = Double("0." + String(decoding: b[start..<i], as: UTF8.self)) else { return nil }
            fraction = f
        }
        var offset = 0
        guard i < b.count else { return nil }
        switch b[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard b.count - i == 6, b[i + 3] == UInt8(ascii: ":"), let oh = digits(b[(i + 1)..<(i + 3)]), let om = digits(b[(i + 4)..<(i + 6)]),
                oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = date.daysSinceEpoch * 86_400 + Int64(h * 3600 + mi * 60 + s - offset)
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
