import Foundation
import Gateway

/// Turns a model's reply into the normalized answer a council votes on, or `nil` when the reply has none.
///
/// Built-ins: ``text`` (the whole reply, trimmed, case and spaces folded), ``jsonField(_:)`` (one field of the JSON
/// object in the reply), ``finalNumber`` (the last number: `#### 18`, `$1,250.00`), ``choiceLetter`` (a final
/// `A`…`E`). A caller's own closure works the same way through ``init(name:_:)``.
public struct AnswerExtractor: Sendable, CustomStringConvertible {
    /// The extractor's name, as configuration files and records write it.
    public let name: String
    private let body: @Sendable (String) -> String?

    /// Creates an extractor from a closure.
    /// - Parameters:
    ///   - name: Its name, for records.
    ///   - body: The normalized answer of a reply, or `nil` when it has none.
    public init(name: String, _ body: @escaping @Sendable (String) -> String?) {
        self.name = name
        self.body = body
    }

    /// The normalized answer of `reply`, or `nil`.
    public func callAsFunction(_ reply: String) -> String? { body(reply) }

    /// The name.
    public var description: String { name }

    /// The whole reply, trimmed, lower-cased, runs of white space made one space; `nil` when empty.
    public static let text = AnswerExtractor(name: "text") { reply in
        let folded = reply.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        return folded.isEmpty ? nil : folded
    }

    /// The last number in the reply (GSM8K's `#### 18`, `$1,250.00`, `-3.5`), without thousands separators, a plus
    /// sign or trailing zeros of a fraction: `1250`, `-3.5`.
    public static let finalNumber = AnswerExtractor(name: "final-number") { reply in
        var last: String?
        var current = ""
        var previous: Character = " "
        func flush() {
            let t = current.trimmingCharacters(in: CharacterSet(charactersIn: ".,"))
            if t.contains(where: \.isNumber) { last = t }
            current = ""
        }
        for c in reply {
            if c.isASCII, c.isNumber {
                if current.isEmpty, previous == "-" { current = "-" }
                current.append(c)
            } else if (c == "." || c == ","), !current.isEmpty {
                current.append(c)
            } else if !current.isEmpty {
                flush()
            }
            previous = c
        }
        if !current.isEmpty { flush() }
        guard var n = last?.replacingOccurrences(of: ",", with: "") else { return nil }
        if n.contains(".") {
            while n.hasSuffix("0") { n.removeLast() }
            if n.hasSuffix(".") { n.removeLast() }
        }
        return n == "-0" ? "0" : n
    }

    /// A final choice letter `A`…`E` (upper-cased): the last one standing alone (`Answer: (b)`, `B.`, `**C**`).
    public static let choiceLetter = AnswerExtractor(name: "choice-letter") { reply in
        let letters = Set("ABCDEabcde")
        let chars = Array(reply)
        var found: Character?
        for (i, c) in chars.enumerated() where letters.contains(c) {
            let before = i == 0 ? " " : chars[i - 1]
            let after = i + 1 < chars.count ? chars[i + 1] : " "
            if !before.isLetter, !before.isNumber, !after.isLetter, !after.isNumber { found = c }
        }
        return found.map { String($0).uppercased() }
    }

    /// One field of the JSON object in the reply (the first `{ … }` that parses, code fences allowed), by a dotted
    /// path (`decision`, `order.side`). Strings are trimmed and lower-cased; numbers and booleans written plainly.
    /// - Parameter path: The field's dotted path.
    public static func jsonField(_ path: String) -> AnswerExtractor {
        let keys = path.split(separator: ".").map(String.init)
        return AnswerExtractor(name: "json:\(path)") { reply in
            guard var value = JSONText.firstObject(in: reply) else { return nil }
            for k in keys {
                guard case .object(let object) = value, let next = object[k] else { return nil }
                value = next
            }
            return JSONText.normalized(value)
        }
    }

    /// Parses a configuration name: `text`, `final-number`, `choice-letter` or `json:PATH`.
    /// - Returns: The extractor, or `nil` for anything else.
    public static func named(_ name: String) -> AnswerExtractor? {
        switch name {
        case "text": return .text
        case "final-number": return .finalNumber
        case "choice-letter": return .choiceLetter
        default:
            guard name.hasPrefix("json:"), name.count > 5 else { return nil }
            return .jsonField(String(name.dropFirst(5)))
        }
    }
}

/// JSON found inside a model's reply.
enum JSONText {
    /// The first balanced `{ … }` of the reply that parses as a JSON object.
    static func firstObject(in reply: String) -> JSONValue? {
        let bytes = Array(reply.utf8)
        var start = 0
        while let open = bytes[start...].firstIndex(of: UInt8(ascii: "{")) {
            var depth = 0
            var inString = false
            var escaped = false
            for i in open..<bytes.count {
                let b = bytes[i]
                if inString {
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                if b == UInt8(ascii: "\"") { inString = true }
                if b == UInt8(ascii: "{") { depth += 1 }
                if b == UInt8(ascii: "}") {
                    depth -= 1
                    if depth == 0 {
                        if let v = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes[open...i])), case .object = v { return v }
                        break
                    }
                }
            }
            start = open + 1
        }
        return nil
    }

    /// The reply without a surrounding Markdown code fence.
    static func stripFences(_ reply: String) -> String {
        var t = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.hasPrefix("```") else { return t }
        if let nl = t.firstIndex(of: "\n") { t = String(t[t.index(after: nl)...]) } else { return t }
        if t.hasSuffix("```") { t.removeLast(3) }
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A value written for voting: strings trimmed and lower-cased, numbers and booleans plainly, others as sorted JSON.
    static func normalized(_ value: JSONValue) -> String? {
        switch value {
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            return t.isEmpty ? nil : t
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return "\(i)"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? "\(Int64(d))" : "\(d)"
        case .null: return nil
        case .array, .object:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
