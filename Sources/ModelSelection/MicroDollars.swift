/// An exact amount of money in integer micro-dollars (1 USD = 1,000,000 µ$).
///
/// Every cost, limit and total in BATS is a `MicroDollars`; nothing is ever summed as a `Double`.
/// Amounts may be negative (a remaining budget after a critical call pushed a window over its limit).
/// It encodes as a JSON integer of micro-dollars.
public struct MicroDollars: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The amount in micro-dollars.
    public var rawValue: Int64

    /// Creates an amount from micro-dollars.
    /// - Parameter rawValue: The amount in micro-dollars.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// Creates an amount from micro-dollars.
    /// - Parameter micros: The amount in micro-dollars.
    public init(micros: Int64) { self.rawValue = micros }

    /// Zero dollars.
    public static let zero = MicroDollars(micros: 0)

    /// Creates an amount from whole dollars.
    /// - Parameter dollars: Whole dollars.
    public static func dollars(_ dollars: Int64) -> MicroDollars { MicroDollars(micros: dollars * 1_000_000) }

    /// Parses a decimal dollar amount such as `"12.50"`, `"0.000001"` or `"$3"` exactly, without floating point.
    ///
    /// - Parameter text: A decimal number with at most six fractional digits, optionally prefixed by `$`.
    /// - Returns: The amount, or `nil` when the text is not such a number or does not fit.
    public init?(parsing text: String) {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.hasPrefix("-") { negative = true; s = s.dropFirst() }
        if s.hasPrefix("$") { s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
            whole.allSatisfy({ $0.isASCII && $0.isNumber }),
            fraction.allSatisfy({ $0.isASCII && $0.isNumber }),
            fraction.count <= 6
        else { return nil }
        guard let w = whole.isEmpty ? 0 : Int64(whole) else { return nil }
        let f = Int64(fraction.padding(toLength: 6, withPad: "0", startingAt: 0)) ?? 0
        let (m, o1) = w.multipliedReportingOverflow(by: 1_000_000)
        let (v, o2) = m.addingReportingOverflow(f)
        guard !o1, !o2 else { return nil }
        self.rawValue = negative ? -v : v
    }

    /// The amount formatted as dollars with all six decimals, e.g. `$1.234567`.
    public var description: String { formatted(decimals: 6) }

    /// The amount as a decimal dollar string with all six fractional digits and no currency sign, e.g. `1.234567`.
    public var decimalString: String {
        let sign = rawValue < 0 ? "-" : ""
        let magnitude = rawValue.magnitude
        let whole = magnitude / 1_000_000
        let frac = String(magnitude % 1_000_000)
        return "\(sign)\(whole).\(String(repeating: "0", count: 6 - frac.count))\(frac)"
    }

    /// Formats the amount as dollars, rounding half away from zero to `decimals` places.
    /// - Parameter decimals: Fractional digits to show (0...6).
    /// - Returns: A string such as `$12.35`.
    public func formatted(decimals: Int = 2) -> String {
        let d = max(0, min(6, decimals))
        let unit = Int64(pow10(6 - d))
        let magnitude = rawValue.magnitude
        let rounded = (magnitude + UInt64(unit / 2)) / UInt64(unit)
        let scale = UInt64(pow10(d))
        let whole = rounded / scale
        let sign = rawValue < 0 && rounded != 0 ? "-" : ""
        guard d > 0 else { return "\(sign)$\(whole)" }
        let frac = String(rounded % scale)
        return "\(sign)$\(whole).\(String(repeating: "0", count: d - frac.count))\(frac)"
    }

    private func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { acc, _ in acc * 10 } }

    // MARK: - Arithmetic

    /// Adds two amounts.
    public static func + (lhs: MicroDollars, rhs: MicroDollars) -> MicroDollars { .init(micros: lhs.rawValue + rhs.rawValue) }
    /// Subtracts two amounts.
    public static func - (lhs: MicroDollars, rhs: MicroDollars) -> MicroDollars { .init(micros: lhs.rawValue - rhs.rawValue) }
    /// Adds `rhs` to `lhs`.
    public static func += (lhs: inout MicroDollars, rhs: MicroDollars) { lhs.rawValue += rhs.rawValue }
    /// Subtracts `rhs` from `lhs`.
    public static func -= (lhs: inout MicroDollars, rhs: MicroDollars) { lhs.rawValue -= rhs.rawValue }
    /// Multiplies an amount by an integer count.
    public static func * (lhs: MicroDollars, rhs: Int64) -> MicroDollars { .init(micros: lhs.rawValue * rhs) }
    /// Orders amounts.
    public static func < (lhs: MicroDollars, rhs: MicroDollars) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension MicroDollars {
    /// Computes `ceil(a × b / d)` for non-negative operands without intermediate overflow.
    /// - Returns: The result, or `nil` when it does not fit in 64 bits or `d` is zero.
    static func multiplyDivideRoundingUp(_ a: UInt64, _ b: UInt64, _ d: UInt64) -> UInt64? {
        guard d > 0 else { return nil }
        let (high, low) = a.multipliedFullWidth(by: b)
        guard high < d else { return nil }
        let (q, r) = d.dividingFullWidth((high, low))
        if r == 0 { return q }
        let (q1, o) = q.addingReportingOverflow(1)
        return o ? nil : q1
    }
}
