// MARK: - Objects inside a line

extension WorkloadLineParser {
    mutating func parseTags() throws(ReplayError) -> [String: String] {
        if consumeNull() { return [:] }
        let start = i
        guard peek() == UInt8(ascii: "{") else {
            try skipValue(field: .tags)
            throw invalid(.tags, "must be an object of strings, got \(quoteRaw(from: start))")
        }
        var tags: [String: String] = [:]
        try forEachMember(field: .tags, naming: "a tag name") { (p, name) throws(ReplayError) in
            let valueStart = p.i
            guard p.peek() == UInt8(ascii: "\"") else {
                try p.skipValue(field: .tags)
                throw p.invalid(.tags, "tag '\(name)' must be a string, got \(p.quoteRaw(from: valueStart))")
            }
            tags[name] = try p.parseString(field: .tags)
        }
        return tags
    }

    /// Reads the members of the JSON object at `i` (which must be `{`), calling `body` with each member's name once
    /// `i` is at its value; `body` must consume the value.
    /// - Parameters:
    ///   - field: The field named in errors.
    ///   - what: What a member's name is, for the error when one is missing (`a tag name`).
    ///   - body: Reads one member's value.
    mutating func forEachMember(
        field: Key, naming what: String, _ body: (inout WorkloadLineParser, String) throws(ReplayError) -> Void
    ) throws(ReplayError) {
        i += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw malformed("expected \(what)", field: field) }
            let name = try parseString(field: field)
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw malformed("expected ':'", field: field) }
            i += 1
            skipWhitespace()
            try body(&self, name)
            skipWhitespace()
            let c = peek()
            if c == UInt8(ascii: ",") {
                i += 1
                continue
            }
            if c == UInt8(ascii: "}") {
                i += 1
                return
            }
            throw malformed("expected ',' or '}'", field: field)
        }
    }
}
