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

    /// Creates an amount from whole dollars, for constants such as `.dollars(50)`.
    ///
    /// An amount that does not fit (more than about $9.2 trillion) saturates at ``max`` or ``min`` rather than trap;
    /// build amounts computed at run time with ``init(dollars:)`` and parse amounts that come from input with
    /// ``init(parsing:)``, which both refuse them.
    /// - Parameter dollars: Whole dollars.
    public static func dollars(_ dollars: Int64) -> MicroDollars {
        let (v, o) = dollars.multipliedReportingOverflow(by: 1_000_000)
        return o ? (dollars < 0 ? .min : .max) : MicroDollars(micros: v)
    }

    /// Creates an amount from cents, for constants such as `.cents(5)` (five cents) or `.cents(1_250)` ($12.50).
    ///
    /// The count is an `Int32`, so every value fits (at most about $21.4 million) and a literal out of range is a
    /// compile-time error, not a trap or a saturated amount. For a count computed at run time, use
    /// ``init(cents:)``, which throws on overflow.
    /// - Parameter cents: Whole cents (may be negative).
    /// - Returns: The amount, exactly.
    public static func cents(_ cents: Int32) -> MicroDollars {
        MicroDollars(micros: Int64(cents) * 10_000)
    }

    /// Creates an amount from a count of whole dollars computed at run time, checked.
    /// - Parameter dollars: Whole dollars (may be negative).
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/multiplication``) when the amount
    ///   does not fit in 64-bit micro-dollars (more than about $9.2 trillion).
    public init(dollars: Int64) throws(MoneyError) {
        let (v, o) = dollars.multipliedReportingOverflow(by: 1_000_000)
        guard !o else { throw .overflow(.multiplication, operands: ["\(dollars) dollars", "1000000"]) }
        self.init(micros: v)
    }

    /// Creates an amount from a count of whole cents computed at run time, checked.
    /// - Parameter cents: Whole cents (may be negative).
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/multiplication``) when the amount
    ///   does not fit in 64-bit micro-dollars (more than about $9.2 trillion).
    public init(cents: Int64) throws(MoneyError) {
        let (v, o) = cents.multipliedReportingOverflow(by: 10_000)
        guard !o else { throw .overflow(.multiplication, operands: ["\(cents) cents", "10000"]) }
        self.init(micros: v)
    }

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
        let d = Swift.max(0, Swift.min(6, decimals))
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

    // MARK: - Checked arithmetic

    /// The largest amount, $9,223,372,036,854.775807.
    public static let max = MicroDollars(micros: .max)
    /// The smallest (most negative) amount, −$9,223,372,036,854.775808.
    public static let min = MicroDollars(micros: .min)

    /// Adds an amount, exactly.
    /// - Parameter other: The amount to add.
    /// - Returns: `self + other`.
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/addition``) when the result does
    ///   not fit in 64-bit micro-dollars.
    public func adding(_ other: MicroDollars) throws(MoneyError) -> MicroDollars {
        let (v, o) = rawValue.addingReportingOverflow(other.rawValue)
        guard !o else { throw .overflow(.addition, operands: [description, other.description]) }
        return MicroDollars(micros: v)
    }

    /// Subtracts an amount, exactly.
    /// - Parameter other: The amount to subtract.
    /// - Returns: `self − other`.
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/subtraction``) when the result
    ///   does not fit in 64-bit micro-dollars.
    public func subtracting(_ other: MicroDollars) throws(MoneyError) -> MicroDollars {
        let (v, o) = rawValue.subtractingReportingOverflow(other.rawValue)
        guard !o else { throw .overflow(.subtraction, operands: [description, other.description]) }
        return MicroDollars(micros: v)
    }

    /// Multiplies the amount by a whole count, exactly.
    /// - Parameter count: The count (may be negative).
    /// - Returns: `self × count`.
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/multiplication``) when the
    ///   result does not fit in 64-bit micro-dollars.
    public func multiplied(by count: Int64) throws(MoneyError) -> MicroDollars {
        let (v, o) = rawValue.multipliedReportingOverflow(by: count)
        guard !o else { throw .overflow(.multiplication, operands: [description, String(count)]) }
        return MicroDollars(micros: v)
    }

    /// The exact total of a sequence of amounts (zero when it is empty).
    /// - Parameter amounts: The amounts.
    /// - Returns: Their sum.
    /// - Throws: ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/sum``) at the first amount that
    ///   takes the running total out of 64-bit micro-dollars; its operands are that running total and that amount.
    public static func sum(_ amounts: some Sequence<MicroDollars>) throws(MoneyError) -> MicroDollars {
        var total: Int64 = 0
        for a in amounts {
            let (v, o) = total.addingReportingOverflow(a.rawValue)
            guard !o else { throw .overflow(.sum, operands: [MicroDollars(micros: total).description, a.description]) }
            total = v
        }
        return MicroDollars(micros: total)
    }

    // MARK: - Trapping arithmetic (deprecated)

    // These trap on overflow. They stay only until the spend ledger moves to the checked forms above; nothing in
    // ModelSelection, Replay or the commands uses them.

    /// Adds two amounts; traps on overflow.
    @available(*, deprecated, message: "traps on overflow; use adding(_:), which throws MoneyError")
    public static func + (lhs: MicroDollars, rhs: MicroDollars) -> MicroDollars { .init(micros: lhs.rawValue + rhs.rawValue) }
    /// Subtracts two amounts; traps on overflow.
    @available(*, deprecated, message: "traps on overflow; use subtracting(_:), which throws MoneyError")
    public static func - (lhs: MicroDollars, rhs: MicroDollars) -> MicroDollars { .init(micros: lhs.rawValue - rhs.rawValue) }
    /// Adds `rhs` to `lhs`; traps on overflow.
    @available(*, deprecated, message: "traps on overflow; use adding(_:) or MicroDollars.sum(_:), which throw MoneyError")
    public static func += (lhs: inout MicroDollars, rhs: MicroDollars) { lhs.rawValue += rhs.rawValue }
    /// Subtracts `rhs` from `lhs`; traps on overflow.
    @available(*, deprecated, message: "traps on overflow; use subtracting(_:), which throws MoneyError")
    public static func -= (lhs: inout MicroDollars, rhs: MicroDollars) { lhs.rawValue -= rhs.rawValue }
    /// Multiplies an amount by an integer count; traps on overflow.
    @available(*, deprecated, message: "traps on overflow; use multiplied(by:), which throws MoneyError")
    public static func * (lhs: MicroDollars, rhs: Int64) -> MicroDollars { .init(micros: lhs.rawValue * rhs) }

    /// Orders amounts.
    public static func < (lhs: MicroDollars, rhs: MicroDollars) -> Bool { lhs.rawValue < rhs.rawValue }
}
