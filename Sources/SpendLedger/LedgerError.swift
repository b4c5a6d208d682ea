/// A ledger operation that failed, with the file and what SQLite said.
public struct LedgerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The kind's name.
        public var rawValue: String
        /// Creates a kind.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The file is not an SQLite database.
        public static let notALedger = Kind(rawValue: "not-a-ledger")
        /// The database is damaged.
        public static let corrupt = Kind(rawValue: "corrupt")
        /// The file or its folder cannot be written.
        public static let readOnly = Kind(rawValue: "read-only")
        /// Another process held the ledger locked past the busy timeout.
        public static let locked = Kind(rawValue: "locked")
        /// The ledger was written by a newer BATS (unknown migrations).
        public static let newerSchema = Kind(rawValue: "newer-schema")
        /// The file cannot be opened or created.
        public static let cannotOpen = Kind(rawValue: "cannot-open")
        /// No reservation has that id.
        public static let unknownReservation = Kind(rawValue: "unknown-reservation")
        /// The reservation was already settled or released.
        public static let alreadyFinished = Kind(rawValue: "already-finished")
        /// A non-critical reservation would pass a window's limit (the selector's choice did not fit).
        public static let wouldExceedBudget = Kind(rawValue: "would-exceed-budget")
        /// A configuration value is invalid (a negative limit, a zero time-to-live).
        public static let invalidConfiguration = Kind(rawValue: "invalid-configuration")
        /// An IANA time-zone name is unknown.
        public static let unknownTimeZone = Kind(rawValue: "unknown-time-zone")
        /// A `--tz` or configured zone differs from the zone the ledger's windows follow (fixed when it was created).
        public static let timeZoneMismatch = Kind(rawValue: "time-zone-mismatch")
        /// An amount that cannot be recorded: negative, absurd (over ``LedgerStore``'s per-call ceiling), or a total
        /// that would overflow 64 bits.
        public static let invalidAmount = Kind(rawValue: "invalid-amount")
        /// A command that only reads was given a path where no ledger exists.
        public static let notFound = Kind(rawValue: "not-found")
        /// The path is a directory, a device or another file that cannot hold a ledger.
        public static let notAFile = Kind(rawValue: "not-a-file")
        /// An I/O error under the ledger (its WAL or file deleted or moved while open, a full disk, a failing device).
        public static let ioError = Kind(rawValue: "io-error")
        /// The chain key is missing, unexpected or wrong for this ledger.
        public static let chainKey = Kind(rawValue: "chain-key")
        /// Another SQLite error.
        public static let database = Kind(rawValue: "database")
        /// The kind's name.
        public var description: String { rawValue }
    }

    /// The kind.
    public var kind: Kind
    /// The ledger file, when known.
    public var path: String?
    /// The SQLite result code, when SQLite reported one.
    public var sqliteCode: Int32?
    /// What happened, in words.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, path: String? = nil, sqliteCode: Int32? = nil, message: String) {
        self.kind = kind
        self.path = path
        self.sqliteCode = sqliteCode
        self.message = message
    }

    static func unknownTimeZone(_ name: String) -> LedgerError {
        .init(kind: .unknownTimeZone, message: "unknown time zone '\(name)' (use an IANA name such as UTC or America/New_York)")
    }

    /// A description naming the kind, the file and SQLite's code.
    public var description: String {
        var s = "ledger error (\(kind))"
        if let path { s += " in \(path)" }
        s += ": \(message)"
        if let sqliteCode { s += " [SQLite code \(sqliteCode)]" }
        return s
    }
}
