import Foundation
import ModelSelection

/// Writes a value as one line of JSON with sorted keys. Every string is escaped by `JSONEncoder`, so a tag value with
/// quotes, backslashes, newlines or control characters still gives valid JSON.
/// - Throws: `EncodingError` (not expected for the report shapes: integers, strings, booleans and `Decimal`s).
func encodeJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Money in JSON: a number of dollars, exact to the micro-dollar (`1.234567`; trailing zeros dropped, so `0.5`), or
/// `null` when absent (an unlimited limit). The key is always written.
struct JSONDollars: Encodable {
    var amount: MicroDollars?

    init(_ amount: MicroDollars?) { self.amount = amount }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let amount { try c.encode(amount.decimalValue) } else { try c.encodeNil() }
    }
}
