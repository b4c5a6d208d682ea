/// Exact, platform-independent calendar arithmetic and RFC 3339 parsing and formatting (proleptic Gregorian, UTC).
///
/// Uses Howard Hinnant's `days_from_civil` algorithms rather than `Calendar`, so results never depend on
/// the platform's time-zone database or locale.
/// RFC 3339 and civil-date arithmetic on integers (no `Calendar`), shared by workloads and the command line.
public enum Timestamp {
    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * nanosPerSecond

    /// The first and last days whose every instant fits in Int64 epoch nanoseconds
    /// (1677-09-21T00:12:43Z … 2262-04-11T23:47:16Z), one day in from each end: 1677-09-22 … 2262-04-10.
    static let firstSupportedDay = days(year: 1677, month: 9, day: 22)
    static let lastSupportedDay = days(year: 2262, month: 4, day: 10)
    /// `1677-09-22…2262-04-10`, for messages.
    static let supportedRange = "1677-09-22…2262-04-10"

    // MARK: - Civil dates

    /// Days since 1970-01-01 for a civil date of the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day number (days since 1970-01-01).
    static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        return (y, m, d)
    }

    /// 0 = Sunday … 6 = Saturday.
    static func weekday(days: Int64) -> Int {
        Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4).
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    /// The number of days in a month (1…12) of a year, leap years included.
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DD` for a day number.
    static func dateString(days: Int64) -> String {
        let c = civil(days: days)
        var out = [UInt8]()
        out.reserveCapacity(10)
        appendDigits(&out, c.year, width: 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, c.month, width: 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, c.day, width: 2)
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `YYYY-MM-DD` into a day number.
    static func parseDate(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = digits(b, 0, 4), let m = digits(b, 5, 2), let d = digits(b, 8, 2),
            (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m)
        else { return nil }
        return days(year: y, month: m, day: d)
    }

    // MARK: - Formatting

    /// RFC 3339 in UTC: no fraction for whole seconds, else 3, 6 or 9 fractional digits (the fewest that are exact).
    static func format(_ nanos: Int64) -> String {
        var out = [UInt8]()
        out.reserveCapacity(30)
        append(nanos, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func append(_ nanos: Int64, to out: inout [UInt8]) {
        let (day, nanoOfDay) = nanos.quotientAndRemainderFlooring(nanosPerDay)
        let c = civil(days: day)
        let secs = Int(nanoOfDay / nanosPerSecond)
        let frac = Int(nanoOfDay % nanosPerSecond)
        appendDigits(&out, c.year, width: 4)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, c.month, width: 2)
        out.append(UInt8(ascii: "-"))
        appendDigits(&out, c.day, width: 2)
        out.append(UInt8(ascii: "T"))
        appendDigits(&out, secs / 3600, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secs / 60 % 60, width: 2)
        out.append(UInt8(ascii: ":"))
        appendDigits(&out, secs % 60, width: 2)
        if frac != 0 {
            out.append(UInt8(ascii: "."))
            if frac % 1_000_000 == 0 {
                appendDigits(&out, frac / 1_000_000, width: 3)
            } else if frac % 1_000 == 0 {
                appendDigits(&out, frac / 1_000, width: 6)
            } else {
                appendDigits(&out, frac, width: 9)
            }
        }
        out.append(UInt8(ascii: "Z"))
    }

    static func appendDigits(_ out: inout [UInt8], _ value: Int, width: Int) {
        var v = value
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            repeat {
                buf[n] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                n += 1
            } while v > 0 && n < 10
            while n < width && n < 10 {
                buf[n] = UInt8(ascii: "0")
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }

    // MARK: - Parsing

    @inline(__always)
    static func digits(_ b: some RandomAccessCollection<UInt8>, _ offset: Int, _ count: Int) -> Int? {
        var v = 0
        var i = b.index(b.startIndex, offsetBy: offset)
        for _ in 0..<count {
            let c = b[i] &- UInt8(ascii: "0")
            guard c < 10 else { return nil }
            v = v * 10 + Int(c)
            i = b.index(after: i)
        }
        return v
    }

    /// Parses `YYYY-MM-DD[T| ]HH:MM:SS[.f+][Z|±HH:MM]` (offset optional, meaning UTC) into epoch nanoseconds.
    ///
    /// The separator may be `T`, `t` or a space; digits beyond nanoseconds are truncated.
    /// - Returns: Nanoseconds, or `nil` when the text is not such a timestamp or a field is out of range.
    static func parseRFC3339(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        let n = b.count
        guard n >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = digits(b, 0, 4), let month = digits(b, 5, 2), let day = digits(b, 8, 2),
            let hour = digits(b, 11, 2), let minute = digits(b, 14, 2), let second = digits(b, 17, 2),
            (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var frac: Int64 = 0
        if i < n && b[i] == UInt8(ascii: ".") {
            i += 1
            var count = 0
            while i < n, b[i] &- UInt8(ascii: "0") < 10 {
                if count < 9 { frac = frac * 10 + Int64(b[i] &- UInt8(ascii: "0")) }
                count += 1
                i += 1
            }
            guard count > 0 else { return nil }
            for _ in count..<max(count, 9) { frac *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if i < n {
            switch b[i] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                i += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard n - i == 6, b[i + 3] == UInt8(ascii: ":"),
                    let oh = digits(b, i + 1, 2), let om = digits(b, i + 4, 2), oh < 24, om < 60
                else { return nil }
                offsetSeconds = Int64(oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
                i += 6
            default:
                return nil
            }
        }
        guard i == n else { return nil }
        let secs = days(year: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second) - offsetSeconds
        let (scaled, o1) = secs.multipliedReportingOverflow(by: nanosPerSecond)
        let (total, o2) = scaled.addingReportingOverflow(frac)
        return o1 || o2 ? nil : total
    }
}
