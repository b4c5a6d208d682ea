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
