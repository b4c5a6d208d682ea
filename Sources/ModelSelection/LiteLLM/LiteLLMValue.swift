import Foundation

/// One JSON value of a LiteLLM price map, with numbers kept as exact decimals.
///
/// `JSONSerialization` turns numbers into `Double`s (`1.875e-05` would come back as a binary fraction), so the map is
/// read with `JSONDecoder`, whose `Decimal` decoding parses the number's literal text digit for digit.
enum LiteLLMValue: Decodable, Sendable {
    case null
    case bool(Bool)
    /// A number, exactly as written.
    case number(Decimal)
    /// A number too large or too small for `Decimal` (beyond about 1e±165).
    case unrepresentableNumber
    case string(String)
    case array([LiteLLMValue])
    case object([String: LiteLLMValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Decimal.self) {
            self = .number(d)
        } else if (try? c.decode(Double.self)) != nil {
            self = .unrepresentableNumber
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([LiteLLMValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: LiteLLMValue].self))
        }
    }

    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number, .unrepresentableNumber: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
