import ModelSelection
import Yams

/// A YAML mapping's entries by key, with the key path they sit at.
struct NodeTable {
    /// One entry: the key's text, the key's node (for its line) and the value.
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    /// The mapping itself (its line is the first key's).
    let node: Node
    /// The mapping's key path (`budget`, `budget.scopes[1]`); empty at the top level.
    let path: String
    /// The entries, in file order.
    let entries: [Entry]

    /// The value of a key, if present.
    subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }

    /// Whether a key is present.
    func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The node of a key itself (its line is the key's, where a table value's line is its first child's).
    func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }

    /// The key path of a key in this table.
    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Reads typed values out of a composed YAML tree, collecting every problem with its line and key path instead of
/// stopping at the first.
///
/// Each reader returns `nil` after recording why; the caller then skips what depends on the value.
struct NodeReader {
    /// How errors name the file.
    let file: String
    /// The problems found so far.
    private(set) var errors: [ConfigurationError] = []

    init(file: String) { self.file = file }

    // MARK: - Reporting

    /// The line and column of a node (1-based).
    static func position(of node: Node) -> (line: Int, column: Int) { (node.mark?.line ?? 1, node.mark?.column ?? 1) }

    /// Records a problem.
    mutating func add(_ error: ConfigurationError) { errors.append(error) }

    /// Records a value outside its domain.
    mutating func invalid(_ node: Node, _ key: String, _ message: String) {
        let p = Self.position(of: node)
        add(.invalidValue(file: file, line: p.line, column: p.column, key: key, message: message))
    }

    /// Records a value of the wrong shape.
    mutating func wrongType(_ node: Node, _ key: String, _ message: String) {
        let p = Self.position(of: node)
        add(.wrongType(file: file, line: p.line, column: p.column, key: key, message: message))
    }

    /// Records a missing key of a table.
    mutating func missing(_ key: String, in table: NodeTable, _ message: String) {
        let p = Self.position(of: table.node)
        add(.missingKey(file: file, line: p.line, column: p.column, key: table.path(key), message: message))
    }

    // MARK: - Shapes

    /// What a node is, for messages.
    static func shape(of node: Node) -> String {
        switch node {
        case .mapping: "a table"
        case .sequence: "a list"
        case .scalar: "a value"
        case .alias: "an alias"
        }
    }

    /// Whether a scalar is YAML's null (`~`, `null` or nothing, unquoted).
    static func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain || s.style == .any ? ["", "~", "null", "Null", "NULL"].contains(s.string) : false
    }

    /// A mapping's entries; keys not in `keys` are reported as unknown (with a suggestion), unless `keys` is `nil`.
    /// An unknown key that holds a secret is reported as one, with `secretAdvice` as the message.
    mutating func table(_ node: Node, at path: String, keys: [String]?, secretAdvice: String = SecretDetector.advice) -> NodeTable? {
        guard case .mapping(let mapping) = node else {
            wrongType(node, path, "must be a table of keys, not \(Self.shape(of: node))")
            return nil
        }
        var entries: [NodeTable.Entry] = []
        for (k, v) in mapping {
            guard case .scalar(let s) = k, !Self.isNull(s) else {
                wrongType(k, path, "a key must be a plain name")
                continue
            }
            let keyPath = path.isEmpty ? s.string : "\(path).\(s.string)"
            if let keys, !keys.contains(s.string) {
                unknownKey(k, named: s.string, at: keyPath, value: v, known: keys, secretAdvice: secretAdvice)
                continue
            }
            entries.append(.init(key: s.string, keyNode: k, value: v))
        }
        return NodeTable(node: node, path: path, entries: entries)
    }

    /// Reports a key that is not among `known`: a secret written inline when the key's name or its value says so
    /// (`api_key: sk-…`), else an unknown key with the nearest known one.
    mutating func unknownKey(
        _ keyNode: Node, named name: String, at keyPath: String, value: Node, known: [String],
        secretAdvice: String = SecretDetector.advice
    ) {
        let p = Self.position(of: keyNode)
        if SecretDetector.isSecretKeyName(name) || SecretDetector.containsSecret(value) {
            add(.inlineSecret(file: file, line: p.line, column: p.column, key: keyPath, message: secretAdvice))
            return
        }
        if name == "<<" {
            add(.unknownKey(file: file, line: p.line, column: p.column, key: keyPath,
                            message: "YAML merge keys (<<) are not supported: write the keys out (anchors and aliases work)"))
            return
        }
        let hint = Self.closest(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
        add(.unknownKey(file: file, line: p.line, column: p.column, key: keyPath,
                        message: "unknown key\(hint); known keys here: \(known.joined(separator: ", "))"))
    }

    /// A value as a message shows it: quoted, or withheld when it looks like a secret.
    static func shown(_ text: String) -> String {
        SecretDetector.looksLikeSecret(text) ? "the value (not shown: it looks like a secret)" : "'\(text)'"
    }

    /// A list's items.
    mutating func sequence(_ node: Node, at path: String) -> [Node]? {
        guard case .sequence(let seq) = node else {
            wrongType(node, path, "must be a list, not \(Self.shape(of: node))")
            return nil
        }
        return Array(seq)
    }

    /// A scalar's text; a table, a list or an empty value is reported.
    mutating func scalar(_ node: Node, at path: String, expected: String) -> String? {
        guard case .scalar(let s) = node else {
            wrongType(node, path, "must be \(expected), not \(Self.shape(of: node))")
            return nil
        }
        guard !Self.isNull(s) else {
            invalid(node, path, "has no value: give \(expected), or remove the key")
            return nil
        }
        return s.string
    }

    // MARK: - Values

    /// A non-empty string.
    mutating func string(_ node: Node, at path: String) -> String? {
        guard let s = scalar(node, at: path, expected: "a string") else { return nil }
        guard !s.isEmpty else {
            invalid(node, path, "must not be empty")
            return nil
        }
        return s
    }

    /// A list of non-empty strings, each with its node.
    mutating func strings(_ node: Node, at path: String) -> [(Node, String)]? {
        guard let items = sequence(node, at: path) else { return nil }
        var out: [(Node, String)] = []
        var ok = true
        for (i, item) in items.enumerated() {
            if let s = string(item, at: "\(path)[\(i)]") { out.append((item, s)) } else { ok = false }
        }
        return ok ? out : nil
    }

    /// The highest amount a budget may give, as for the `--daily-budget` flags.
    static let maxBudget = MicroDollars.dollars(1_000_000_000)

    /// A dollar amount written as a number or a string (`50`, `12.50`, `"$0.25"`), parsed exactly from its text.
    mutating func money(_ node: Node, at path: String) -> MicroDollars? {
        guard let text = scalar(node, at: path, expected: "a dollar amount such as 50 or 12.50") else { return nil }
        guard let m = MicroDollars(parsing: text) else {
            invalid(node, path, "\(Self.shown(text)) is not a dollar amount such as 50 or 12.50 (at most 6 decimals)")
            return nil
        }
        return m
    }

    /// A budget limit: an amount that is neither negative nor absurd.
    mutating func limit(_ node: Node, at path: String) -> MicroDollars? {
        guard let m = money(node, at: path) else { return nil }
        guard m >= .zero else {
            invalid(node, path, "a limit must not be negative (\(m.formatted(decimals: 6)))")
            return nil
        }
        guard m <= Self.maxBudget else {
            invalid(node, path, "a limit of \(m.formatted()) is absurd (at most \(Self.maxBudget.formatted()))")
            return nil
        }
        return m
    }

    /// A percentage such as `80%` or `12.5%` (at most 4 decimals), in parts per million of the whole.
    mutating func percent(_ node: Node, at path: String) -> Int64? {
        guard let text = scalar(node, at: path, expected: "a percentage such as 80%") else { return nil }
        guard text.hasSuffix("%"), let ppm = Self.partsPerMillion(percent: String(text.dropLast())) else {
            invalid(node, path, "\(Self.shown(text)) is not a percentage such as 80% or 12.5%")
            return nil
        }
        return ppm
    }

    /// `"12.5"` (percent) as parts per million (125,000); `nil` when not a non-negative decimal of at most 4 places.
    static func partsPerMillion(percent text: String) -> Int64? {
        guard !text.contains("$"), !text.hasPrefix("-"), let m = MicroDollars(parsing: text), m.rawValue % 100 == 0 else { return nil }
        return m.rawValue / 100
    }

    /// A whole number in a range.
    mutating func int(_ node: Node, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = scalar(node, at: path, expected: "a whole number") else { return nil }
        guard let n = Int(text.replacing("_", with: "")) else {
            invalid(node, path, "\(Self.shown(text)) is not a whole number")
            return nil
        }
        guard range.contains(n) else {
            invalid(node, path, "must be between \(range.lowerBound) and \(range.upperBound), got \(n)")
            return nil
        }
        return n
    }

    /// A duration: `250ms`, `5s`, `2m`, `1h`, or a number of seconds; positive and at most `max`.
    mutating func duration(_ node: Node, at path: String, max: Duration = .seconds(86_400)) -> Duration? {
        guard let text = scalar(node, at: path, expected: "a duration such as 5s or 250ms") else { return nil }
        guard let d = Self.duration(parsing: text) else {
            invalid(node, path, "\(Self.shown(text)) is not a duration such as 5s, 250ms, 2m or 1h")
            return nil
        }
        guard d > .zero, d <= max else {
            invalid(node, path, "must be above 0 and at most \(max), got \(text)")
            return nil
        }
        return d
    }

    /// Parses `250ms`, `5s`, `1.5s`, `2m`, `1h` or a bare number of seconds, exactly to the microsecond.
    static func duration(parsing text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1_000), ("s", 1_000_000), ("m", 60_000_000), ("h", 3_600_000_000)]
        var number = Substring(text), scale: Int64 = 1_000_000
        for (suffix, micros) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = micros
            break
        }
        guard !number.contains("$"), !number.hasPrefix("-"), let m = MicroDollars(parsing: String(number)) else { return nil }
        // m is the number in millionths: micros = m × scale / 1e6, exact when the result is whole.
        let (p, o) = m.rawValue.multipliedReportingOverflow(by: scale)
        guard !o, p % 1_000_000 == 0 else { return nil }
        return .microseconds(p / 1_000_000)
    }

    /// A tier name.
    mutating func tier(_ node: Node, at path: String) -> Complexity? {
        guard let text = string(node, at: path) else { return nil }
        guard let t = Complexity(rawValue: text) else {
            invalid(node, path, "unknown tier \(Self.shown(text)) (\(Self.tierNames))")
            return nil
        }
        return t
    }

    /// `simple, medium, complex, reasoning or critical`.
    static var tierNames: String {
        let names = Complexity.allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }

    // MARK: - Suggestions

    /// The known key nearest a misspelt one, within two edits.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between two short strings.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = Swift.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return row[b.count]
    }
}
