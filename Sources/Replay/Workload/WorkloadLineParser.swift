import ModelSelection

/// A lean, allocation-light parser for one native JSONL line (a flat JSON object), with errors that name the field.
///
/// Unknown fields are skipped (for forward compatibility); `null` means absent for optional fields.
struct WorkloadLineParser {
    /// The largest token count accepted in any token field.
    static let maxTokens = 1_000_000_000

    let file: String
    let line: Int
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    enum Key: Int {
        case ts, id, task, complexity, inputTokens, outputTokens, maxOutputTokens, tags, outcomes, cachedInputTokens, unknown

        static let names: [(Key, [UInt8])] = [
            (.ts, Array("ts".utf8)), (.id, Array("id".utf8)), (.task, Array("task".utf8)),
            (.complexity, Array("complexity".utf8)), (.inputTokens, Array("input_tokens".utf8)),
            (.outputTokens, Array("output_tokens".utf8)), (.maxOutputTokens, Array("max_output_tokens".utf8)),
            (.tags, Array("tags".utf8)), (.outcomes, Array("outcomes".utf8)),
            (.cachedInputTokens, Array("cached_input_tokens".utf8)),
        ]

        var name: String {
            switch self {
            case .ts: "ts"
            case .id: "id"
            case .task: "task"
            case .complexity: "complexity"
            case .inputTokens: "input_tokens"
            case .outputTokens: "output_tokens"
            case .maxOutputTokens: "max_output_tokens"
            case .tags: "tags"
            case .outcomes: "outcomes"
            case .cachedInputTokens: "cached_input_tokens"
            case .unknown: "?"
            }
        }
    }

    /// Parses one non-blank line.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String, line: Int) throws(ReplayError) -> WorkloadTask {
        var parser = WorkloadLineParser(file: file, line: line, b: bytes)
        return try parser.parseObject()
    }

    /// Whether a line holds only whitespace.
    static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    // MARK: - Errors

    func malformed(_ message: String, field: Key? = nil) -> ReplayError {
        let at = i < b.count ? "at column \(i + 1)" : "at end of line (truncated?)"
        return ReplayError(.malformedLine, "invalid JSON \(at): \(message)", file: file, line: line, field: field?.name)
    }

    func invalid(_ key: Key, _ message: String) -> ReplayError {
        ReplayError(.invalidField, message, file: file, line: line, field: key.name)
    }

    // MARK: - Object

    mutating func parseObject() throws(ReplayError) -> WorkloadTask {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else { throw malformed("expected '{'") }
        i += 1
        var ts: Int64?
        var id: String?
        var task: String?
        var complexity: Complexity?
        var input: Int?
        var output: Int?
        var maxOutput: Int?
        var cached: Int?
        var tags: [String: String] = [:]
        var outcomes: [ModelID: WorkloadTask.Outcome] = [:]
        var seen: UInt16 = 0

        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw malformed("expected a field name") }
                let key = try parseKey()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw malformed("expected ':'", field: key) }
                i += 1
                skipWhitespace()
                if key != .unknown {
                    let bit = UInt16(1) << UInt16(key.rawValue)
                    if seen & bit != 0 {
                        throw ReplayError(.malformedLine, "duplicate field", file: file, line: line, field: key.name)
                    }
                    seen |= bit
                }
                switch key {
                case .ts: ts = try parseTimestamp()
                case .id: id = try parseOptionalString(key)
                case .task:
                    task = try parseOptionalString(key)
                    if task?.isEmpty == true { throw invalid(.task, "must not be empty") }
                case .complexity: complexity = try parseComplexity()
                case .inputTokens: input = try parseTokens(key, minimum: 1)
                case .outputTokens: output = try parseTokens(key, minimum: 0)
                case .maxOutputTokens:
                    if consumeNull() { maxOutput = nil } else { maxOutput = try parseTokens(key, minimum: 1) }
                case .cachedInputTokens:
                    if consumeNull() { cached = nil } else { cached = try parseTokens(key, minimum: 0) }
                case .tags: tags = try parseTags()
                case .outcomes: outcomes = try parseOutcomes()
                case .unknown: try skipValue(field: key)
                }
                skipWhitespace()
                let c = peek()
                if c == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "}") {
                    i += 1
                    break
                }
                throw malformed("expected ',' or '}'", field: key)
            }
        }
        skipWhitespace()
        guard i == b.count else { throw malformed("unexpected text after the object") }

        guard let ts else { throw ReplayError(.missingField, "is required", file: file, line: line, field: "ts") }
        guard let input else {
            throw ReplayError(.missingField, "is required", file: file, line: line, field: "input_tokens")
        }
        guard let output else {
            throw ReplayError(.missingField, "is required", file: file, line: line, field: "output_tokens")
        }
        guard task != nil || complexity != nil else {
            throw ReplayError(
                .missingField, "a task needs 'task' or 'complexity' (or both)", file: file, line: line,
                field: "complexity")
        }
        if let cached, cached > input {
            throw invalid(.cachedInputTokens, "must be at most input_tokens (\(input)), got \(cached)")
        }
        if let maxOutput, maxOutput < output {
            throw invalid(.maxOutputTokens, "must be at least output_tokens (\(output)), got \(maxOutput)")
        }
        if let maxOutput, let over = outcomes.first(where: { ($0.value.outputTokens ?? 0) > maxOutput }) {
            throw invalid(
                .outcomes,
                "'\(over.key)': output_tokens (\(over.value.outputTokens ?? 0)) must be at most max_output_tokens (\(maxOutput))")
        }
        return WorkloadTask(
            epochNanoseconds: ts, id: id, task: task, complexity: complexity, inputTokens: input,
            outputTokens: output, maxOutputTokens: maxOutput, tags: tags, outcomes: outcomes, cachedInputTokens: cached)
    }

    // MARK: - Fields

    mutating func parseKey() throws(ReplayError) -> Key {
        let start = i + 1
        var j = start
        while j < b.count, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\") { j += 1 }
        if j < b.count, b[j] == UInt8(ascii: "\"") {
            i = j + 1
            let len = j - start
            for (key, name) in Key.names where name.count == len {
                var equal = true
                for k in 0..<len where name[k] != b[start + k] {
                    equal = false
                    break
                }
                if equal { return key }
            }
            return .unknown
        }
        let bytes = try parseStringBytes(field: nil)
        return Key.names.first { $0.1 == bytes }?.0 ?? .unknown
    }

    mutating func parseTimestamp() throws(ReplayError) -> Int64 {
        let start = i
        let c = peek()
        if c == UInt8(ascii: "\"") {
            let bytes = try parseStringBytes(field: .ts)
            let parsed = bytes.withUnsafeBufferPointer { Timestamp.parseRFC3339($0) }
            guard let parsed else {
                throw invalid(.ts, "must be an RFC 3339 timestamp or epoch seconds, got \(quoteRaw(from: start))")
            }
            return parsed
        }
        if c == UInt8(ascii: "-") || (c.map { $0 &- UInt8(ascii: "0") < 10 } ?? false) {
            let number = try scanNumber(field: .ts)
            if let nanos = number.epochNanoseconds(b) { return nanos }
            throw invalid(.ts, "epoch seconds out of range, got \(quoteRaw(from: start))")
        }
        try skipValue(field: .ts)
        throw invalid(.ts, "must be an RFC 3339 timestamp or epoch seconds, got \(quoteRaw(from: start))")
    }

    mutating func parseOptionalString(_ key: Key) throws(ReplayError) -> String? {
        if consumeNull() { return nil }
        let start = i
        guard peek() == UInt8(ascii: "\"") else {
            try skipValue(field: key)
            throw invalid(key, "must be a string, got \(quoteRaw(from: start))")
        }
        return try parseString(field: key)
    }

    mutating func parseComplexity() throws(ReplayError) -> Complexity? {
        let start = i
        guard let name = try parseOptionalString(.complexity) else { return nil }
        guard let value = Complexity(rawValue: name) else {
            throw invalid(
                .complexity,
                "must be one of simple, medium, complex, reasoning, critical, got \(quoteRaw(from: start))")
        }
        return value
    }

    mutating func parseTokens(_ key: Key, minimum: Int) throws(ReplayError) -> Int {
        let start = i
        let expectation = minimum > 0 ? "must be a positive integer" : "must be a non-negative integer"
        let c = peek()
        guard c == UInt8(ascii: "-") || (c.map { $0 &- UInt8(ascii: "0") < 10 } ?? false) else {
            try skipValue(field: key)
            throw invalid(key, "\(expectation), got \(quoteRaw(from: start))")
        }
        let number = try scanNumber(field: key)
        guard !number.negative, !number.hasFraction, !number.hasExponent, let value = number.integerValue(b),
            value >= minimum
        else {
            throw invalid(key, "\(expectation), got \(quoteRaw(from: start))")
        }
        guard value <= Self.maxTokens else { throw invalid(key, "must be at most \(Self.maxTokens), got \(value)") }
        return value
    }

    // MARK: - Lexing

    @inline(__always) func peek() -> UInt8? { i < b.count ? b[i] : nil }

    @inline(__always) mutating func skipWhitespace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 }
    }

    mutating func consumeNull() -> Bool {
        guard b.count - i >= 4, b[i] == UInt8(ascii: "n"), b[i + 1] == UInt8(ascii: "u"),
            b[i + 2] == UInt8(ascii: "l"), b[i + 3] == UInt8(ascii: "l")
        else { return false }
        i += 4
        return true
    }

    func quoteRaw(from start: Int) -> String {
        ReplayError.quote(UnsafeBufferPointer(rebasing: b[start..<max(start, min(i, b.count))]))
    }

    mutating func parseString(field: Key?) throws(ReplayError) -> String {
        // Fast path: no escapes.
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<j]), as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { break }
            j += 1
        }
        let bytes = try parseStringBytes(field: field)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a JSON string at `i` (which must be a quote), decoding escapes into UTF-8 bytes.
    mutating func parseStringBytes(field: Key?) throws(ReplayError) -> [UInt8] {
        i += 1
        var out: [UInt8] = []
        while true {
            guard i < b.count else { throw malformed("unterminated string", field: field) }
            let c = b[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                return out
            case UInt8(ascii: "\\"):
                guard i < b.count else { throw malformed("unterminated string", field: field) }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4(field: field)
                    if (0xD800..<0xDC00).contains(scalar), b.count - i >= 6, b[i] == UInt8(ascii: "\\"),
                        b[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        let low = try parseHex4(field: field)
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            scalar = 0xFFFD
                        }
                    }
                    let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: UTF8.encode(value)!)
                default:
                    i -= 1
                    throw malformed("invalid escape in string", field: field)
                }
            default:
                guard c >= 0x20 else {
                    i -= 1
                    throw malformed("control character in string", field: field)
                }
                out.append(c)
            }
        }
    }

    mutating func parseHex4(field: Key?) throws(ReplayError) -> UInt32 {
        guard b.count - i >= 4 else { throw malformed("truncated \\u escape", field: field) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw malformed("invalid \\u escape", field: field)
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func scanNumber(field: Key) throws(ReplayError) -> NumberToken {
        var token = NumberToken()
        if peek() == UInt8(ascii: "-") {
            token.negative = true
            i += 1
        }
        token.intStart = i
        while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
        token.intEnd = i
        guard token.intEnd > token.intStart else { throw malformed("invalid number", field: field) }
        if peek() == UInt8(ascii: ".") {
            i += 1
            token.hasFraction = true
            token.fracStart = i
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            token.fracEnd = i
            guard token.fracEnd > token.fracStart else { throw malformed("invalid number", field: field) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            i += 1
            token.hasExponent = true
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
            let expStart = i
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            guard i > expStart else { throw malformed("invalid number", field: field) }
        }
        token.end = i
        return token
    }

    /// Skips any JSON value (iteratively, so deep nesting cannot overflow the stack).
    mutating func skipValue(field: Key) throws(ReplayError) {
        var depth = 0
        repeat {
            skipWhitespace()
            guard let c = peek() else { throw malformed("truncated value", field: field) }
            switch c {
            case UInt8(ascii: "\""):
                _ = try parseStringBytes(field: field)
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { throw malformed("unexpected '\(Character(Unicode.Scalar(c)))'", field: field) }
                depth -= 1
                i += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { throw malformed("expected a value", field: field) }
                i += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try scanNumber(field: field)
            default:
                let literals: [[UInt8]] = [Array("true".utf8), Array("false".utf8), Array("null".utf8)]
                guard let literal = literals.first(where: { lit in
                    b.count - i >= lit.count && (0..<lit.count).allSatisfy { b[i + $0] == lit[$0] }
                }) else { throw malformed("expected a value", field: field) }
                i += literal.count
            }
        } while depth > 0
    }
}
