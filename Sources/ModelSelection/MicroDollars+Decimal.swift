public import Foundation

extension MicroDollars {
    /// The amount in dollars as an exact `Decimal`, e.g. `1.234567` for 1,234,567 µ$.
    ///
    /// Every amount converts exactly (a `Decimal` holds 38 digits; an amount has at most 19). `JSONEncoder` writes a
    /// `Decimal` digit for digit, without trailing zeros (`0.5`, not `0.500000`): use it for money in JSON reports
    /// instead of a `Double`, which would round.
    public var decimalValue: Decimal {
        Decimal(sign: rawValue < 0 ? .minus : .plus, exponent: -6, significand: Decimal(rawValue.magnitude))
    }
}
