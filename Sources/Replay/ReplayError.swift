/// An error from loading, importing, generating or replaying a workload.
///
/// Errors that come from a file carry its name, the 1-based line number and the field, and print as
/// `workload.jsonl:17: field 'input_tokens': must be a positive integer, got -5`. The description quotes
/// at most a short prefix of the offending value; it never prints a whole line.
public struct ReplayError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: - Codes

    private enum Kind: Hashable, Sendable {
        case invalidField
        case missingField
        case malformedLine
        case invalidHeader
        case invalidMix
        case invalidArgument
        case io
        case overflow
    }

    /// What went wrong, without its context. Compare errors by code: `error.code == .invalidField`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// A field has the wrong type or a value out of range.
        public static let invalidField = Code(.invalidField)
        /// A required field is absent.
        public static let missingField = Code(.missingField)
        /// The line is not a well-formed record (truncated or invalid JSON, wrong column count).
        public static let malformedLine = Code(.malformedLine)
        /// A CSV file does not start with the expected header.
        public static let invalidHeader = Code(.invalidHeader)
        /// A tier mix such as `simple=0.5,medium=0.5` is invalid.
        public static let invalidMix = Code(.invalidMix)
        /// A parameter (days, time scale, date) is invalid.
        public static let invalidArgument = Code(.invalidArgument)
        /// A file could not be opened, read or written.
        public static let io = Code(.io)
        /// A count or total does not fit in its integer type (a token total, a day number).
        public static let overflow = Code(.overflow)

        /// The code's name.
        public var description: String {
            switch kind {
            case .invalidField: "invalidField"
            case .missingField: "missingField"
            case .malformedLine: "malformedLine"
            case .invalidHeader: "invalidHeader"
            case .invalidMix: "invalidMix"
            case .invalidArgument: "invalidArgument"
            case .io: "io"
            case .overflow: "overflow"
            }
        }
    }

    // MARK: - Context

    /// What went wrong.
    public var code: Code
    /// The file's last path component (or a name given for in-memory data), if the error comes from a file.
    public var file: String?
    /// The 1-based line number in ``file``, if any.
    public var line: Int?
    /// The field or column at fault, if any.
    public var field: String?
    /// A human-readable explanation, e.g. `must be a positive integer, got -5`.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - message: A human-readable explanation.
    ///   - file: The file name, if any.
    ///   - line: The 1-based line number, if any.
    ///   - field: The field or column, if any.
    public init(_ code: Code, _ message: String, file: String? = nil, line: Int? = nil, field: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
        self.field = field
    }

    /// `file:line: field 'name': message`, leaving out the parts that are unknown.
    public var description: String {
        var out = ""
        if let file {
            out += file
            if let line { out += ":\(line)" }
            out += ": "
        } else if let line {
            out += "line \(line): "
        }
        if let field {
            out += code == .invalidHeader ? "column '\(field)': " : "field '\(field)': "
        }
        out += message
        return out
    }
}

extension ReplayError {
    /// Quotes a short prefix of a raw value for an error message.
    static func quote(_ bytes: some Collection<UInt8>) -> String {
        let limit = 40
        let prefix = bytes.prefix(limit)
        var text = String(decoding: prefix, as: UTF8.self)
        if bytes.count > limit { text += "…" }
        return text
    }
}
