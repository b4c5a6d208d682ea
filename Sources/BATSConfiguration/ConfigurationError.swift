/// One problem in a deployment configuration file: the file, the line, the key and what is wrong.
///
/// Its description is one line, `FILE:LINE: KEY: MESSAGE`, such as
/// `bats.yaml:14: routing.chains.complex[1]: unknown model 'kimi-k3' (the catalog has …)`. A message never repeats a
/// value that may be a secret (a key written inline is named, never printed).
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unreadable
        case syntax
        case unknownKey
        case missingKey
        case wrongType
        case invalidValue
        case unknownModel
        case inlineSecret
        case unwritable
    }

    private let code: Code
    /// The configuration file as it was named (a path, or the source name given for a string).
    public let file: String
    /// The line of the offending key or value, counted from 1.
    public let line: Int
    /// The column of the offending key or value, counted from 1 in Unicode scalars.
    public let column: Int
    /// The key path of the offending value, such as `budget.scopes[2].daily` or `routing.chains.complex[1]`; empty
    /// for a problem with the whole file (it cannot be read, it is not YAML).
    public let key: String
    /// What is wrong, and how to fix it.
    public let message: String

    private init(_ code: Code, file: String, line: Int, column: Int, key: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// The file could not be read.
    static func unreadable(file: String, message: String) -> ConfigurationError {
        .init(.unreadable, file: file, line: 1, column: 1, key: "", message: message)
    }

    /// The file is not well-formed YAML (a bad indent, an unclosed quote, a key given twice).
    static func syntax(file: String, line: Int, column: Int, key: String = "", message: String) -> ConfigurationError {
        .init(.syntax, file: file, line: line, column: column, key: key, message: message)
    }

    /// A key this version of BATS does not know (a typo must not be ignored).
    static func unknownKey(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.unknownKey, file: file, line: line, column: column, key: key, message: message)
    }

    /// A required key is missing.
    static func missingKey(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.missingKey, file: file, line: line, column: column, key: key, message: message)
    }

    /// A value of the wrong shape: a list where a table belongs, a table where a number belongs.
    static func wrongType(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.wrongType, file: file, line: line, column: column, key: key, message: message)
    }

    /// A value outside its domain: a negative limit, an unknown time zone, a bad scope name.
    static func invalidValue(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.invalidValue, file: file, line: line, column: column, key: key, message: message)
    }

    /// A chain names a model the catalog does not have, or one it cannot use.
    static func unknownModel(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.unknownModel, file: file, line: line, column: column, key: key, message: message)
    }

    /// A secret (an API key) is written in the file instead of named by its environment variable.
    static func inlineSecret(file: String, line: Int, column: Int, key: String, message: String) -> ConfigurationError {
        .init(.inlineSecret, file: file, line: line, column: column, key: key, message: message)
    }

    /// A file (a caller keys file) could not be written.
    static func unwritable(file: String, message: String) -> ConfigurationError {
        .init(.unwritable, file: file, line: 1, column: 1, key: "", message: message)
    }

    // MARK: - Kinds

    /// Whether the file could not be read.
    public var isUnreadable: Bool { code == .unreadable }
    /// Whether the file is not well-formed YAML.
    public var isSyntaxError: Bool { code == .syntax }
    /// Whether a key is unknown.
    public var isUnknownKey: Bool { code == .unknownKey }
    /// Whether a required key is missing.
    public var isMissingKey: Bool { code == .missingKey }
    /// Whether a value has the wrong shape.
    public var isWrongType: Bool { code == .wrongType }
    /// Whether a value is outside its domain.
    public var isInvalidValue: Bool { code == .invalidValue }
    /// Whether a chain names a model the catalog lacks or cannot use.
    public var isUnknownModel: Bool { code == .unknownModel }
    /// Whether a secret is written inline.
    public var isInlineSecret: Bool { code == .inlineSecret }

    /// Whether a file could not be written.
    public var isUnwritable: Bool { code == .unwritable }

    /// Whether two errors are of the same kind (ignoring their context).
    public func isSameKind(as other: ConfigurationError) -> Bool { code == other.code }

    /// `FILE:LINE: KEY: MESSAGE`, or `FILE:LINE: MESSAGE` for a problem with the whole file.
    public var description: String {
        key.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(key): \(message)"
    }
}

extension ConfigurationError {
    /// Every problem found in one configuration file, in the order of the file.
    ///
    /// Loading checks the whole file before it fails, so that one run of `bats config check` lists every mistake.
    public struct List: Error, Hashable, Sendable, CustomStringConvertible {
        /// The problems, by line; never empty.
        public let errors: [ConfigurationError]

        /// Creates a list, sorted by line then column (the order is stable for problems on one line).
        /// - Parameter errors: The problems; must not be empty.
        public init(_ errors: [ConfigurationError]) {
            self.errors = errors.enumerated()
                .sorted { ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset) }
                .map(\.element)
        }

        /// One problem a line.
        public var description: String { errors.map(\.description).joined(separator: "\n") }
    }
}
