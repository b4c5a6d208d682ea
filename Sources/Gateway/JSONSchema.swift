import Foundation

/// A JSON Schema subset for checking a model's answer: the keywords a structured reply needs, and an error at load
/// for any other, so a schema never passes for checking what it does not check.
///
/// Keywords: `type` (one or a list of `object`, `array`, `string`, `number`, `integer`, `boolean`, `null`),
/// `properties`, `required`, `additionalProperties` (a boolean), `items`, `minItems`, `maxItems`, `enum`, `const`,
/// `minimum`, `maximum`, `minLength`, `maxLength`, `pattern`; `$schema`, `title`, `description` and `$id` are ignored.
public struct JSONSchema: Sendable, Hashable {
    /// A schema that cannot be used.
    public struct LoadError: Error, Sendable, Hashable, CustomStringConvertible {
        /// Where in the schema (`properties.side.type`).
        public var path: String
        /// What is wrong.
        public var message: String
        /// `schema at PATH: MESSAGE`.
        public var description: String { "schema at \(path.isEmpty ? "(root)" : path): \(message)" }
    }

    /// The schema document.
    public let document: JSONValue

    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const", "minimum", "maximum",
        "minLength", "maxLength", "pattern", "$schema", "title", "description", "$id",
    ]
    static let types: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]

    /// Checks and keeps a schema.
    /// - Throws: ``LoadError`` for an unsupported keyword, a wrong keyword type, or a bad pattern.
    public init(_ document: JSONValue) throws(LoadError) {
        try Self.check(document, path: "")
        self.document = document
    }

    /// Parses a schema from JSON text.
    /// - Throws: ``LoadError``.
    public init(json: String) throws(LoadError) {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) } catch {
            throw LoadError(path: "", message: "not JSON: \(error)")
        }
        try self.init(value)
    }

    /// The first way `value` breaks the schema, or `nil` when it conforms.
    public func violation(of value: JSONValue) -> String? { Self.violation(value, document, path: "$") }

    // MARK: - Loading

    private static func check(_ s: JSONValue, path: String) throws(LoadError) {
        guard case .object(let o) = s else { throw LoadError(path: path, message: "a schema must be an object") }
        func at(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
        for (k, v) in o {
            guard keywords.contains(k) else { throw LoadError(path: at(k), message: "unsupported keyword '\(k)'") }
            switch k {
            case "type":
                let names: [JSONValue] = if case .array(let a) = v { a } else { [v] }
                for n in names {
                    guard case .string(let t) = n, types.contains(t) else { throw LoadError(path: at(k), message: "must name JSON types") }
                }
            case "properties":
                guard case .object(let props) = v else { throw LoadError(path: at(k), message: "must be an object of schemas") }
                for (name, sub) in props { try check(sub, path: at("properties.\(name)")) }
            case "items": try check(v, path: at(k))
            case "required":
                guard case .array(let a) = v, a.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                    throw LoadError(path: at(k), message: "must be an array of property names")
                }
            case "additionalProperties":
                guard case .bool = v else { throw LoadError(path: at(k), message: "must be true or false") }
            case "enum":
                guard case .array = v else { throw LoadError(path: at(k), message: "must be an array") }
            case "minItems", "maxItems", "minLength", "maxLength":
                guard case .integer(let n) = v, n >= 0 else { throw LoadError(path: at(k), message: "must be a non-negative integer") }
            case "minimum", "maximum":
                guard number(v) != nil else { throw LoadError(path: at(k), message: "must be a number") }
            case "pattern":
                guard case .string(let p) = v, (try? Regex(p)) != nil else { throw LoadError(path: at(k), message: "must be a valid regular expression") }
            default: break
            }
        }
    }

    // MARK: - Validation

    private static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .integer(let i): Double(i)
        case .number(let d): d
        default: nil
        }
    }

    private static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func violation(_ v: JSONValue, _ s: JSONValue, path: String) -> String? {
        guard case .object(let o) = s else { return nil }
        if let t = o["type"] {
            let listed: [JSONValue] = if case .array(let a) = t { a } else { [t] }
            let names: [String] = listed.compactMap { if case .string(let n) = $0 { n } else { nil } }
            let actual = typeName(v)
            let ok = names.contains(actual) || (actual == "integer" && names.contains("number"))
                || (actual == "number" && names.contains("integer") && number(v).map { $0 == $0.rounded() } == true)
            if !ok { return "\(path) is \(actual), expected \(names.joined(separator: " or "))" }
        }
        if case .array(let options) = o["enum"], !options.contains(where: { equal($0, v) }) { return "\(path) is not one of the allowed values" }
        if let c = o["const"], !equal(c, v) { return "\(path) is not the required value" }
        if let n = number(v) {
            if let m = o["minimum"].flatMap(number), n < m { return "\(path) is below the minimum \(m)" }
            if let m = o["maximum"].flatMap(number), n > m { return "\(path) is above the maximum \(m)" }
        }
        if case .string(let text) = v {
            if case .integer(let m) = o["minLength"], text.count < m { return "\(path) is shorter than \(m)" }
            if case .integer(let m) = o["maxLength"], text.count > m { return "\(path) is longer than \(m)" }
            if case .string(let p) = o["pattern"], let r = try? Regex(p), (try? r.firstMatch(in: text)) == nil {
                return "\(path) does not match \(p)"
            }
        }
        if case .array(let items) = v {
            if case .integer(let m) = o["minItems"], items.count < m { return "\(path) has fewer than \(m) items" }
            if case .integer(let m) = o["maxItems"], items.count > m { return "\(path) has more than \(m) items" }
            if let sub = o["items"] {
                for (i, item) in items.enumerated() { if let e = violation(item, sub, path: "\(path)[\(i)]") { return e } }
            }
        }
        if case .object(let fields) = v {
            if case .array(let req) = o["required"] {
                for case .string(let k) in req where fields[k] == nil { return "\(path) lacks the required field '\(k)'" }
            }
            let props: [String: JSONValue] = if case .object(let p) = o["properties"] { p } else { [:] }
            for (k, sub) in props.sorted(by: { $0.key < $1.key }) {
                if let fv = fields[k], let e = violation(fv, sub, path: "\(path).\(k)") { return e }
            }
            if case .bool(false) = o["additionalProperties"], let extra = fields.keys.sorted().first(where: { props[$0] == nil }) {
                return "\(path) has the field '\(extra)', which the schema does not allow"
            }
        }
        return nil
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = number(a), let y = number(b) { return x == y }
        return a == b
    }
}
