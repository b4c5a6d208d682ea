public import SpendLedger

/// The configured caller keys, looked up by a presented bearer secret in constant time per key.
///
/// Build it from a keys file (``load(contentsOf:)``), from `server.keys` and `server.keys_file` of a deployment
/// (``DeploymentConfiguration/Server/callerKeys()``), or from keys in code (``init(_:)``). Each name and each digest
/// appears once.
public struct CallerKeys: Sendable {
    /// The keys, in the order they were configured.
    public var keys: [CallerKey]

    /// Creates the set from keys, checking them.
    /// - Parameter keys: The keys.
    /// - Throws: ``ConfigurationError`` (invalid value) for a name given twice, a digest given twice (two keys with
    ///   one secret), a name that is not ``CallerKey/isValidName(_:)``, a digest that is not 32 bytes, a tag that is
    ///   not ``CallerKey/isValidTag(key:value:)`` or a negative budget. Its key is `keys[INDEX]…`.
    public init(_ keys: [CallerKey]) throws(ConfigurationError) {
        let entries = keys.enumerated().map { Entry(key: $1, file: "<caller keys>", path: "keys[\($0)]", line: 1, column: 1) }
        if let first = Self.problems(entries).first { throw first }
        self.keys = keys
    }

    /// Keys already checked.
    init(checked keys: [CallerKey]) { self.keys = keys }

    /// Whether no key is configured.
    public var isEmpty: Bool { keys.isEmpty }

    /// The key whose digest equals SHA-256(secret), comparing every key's digest in constant time; nil when none.
    ///
    /// The secret is hashed once; then every key's digest is compared with all of its 32 bytes, whether an earlier
    /// key matched or not, so the time taken says nothing about how close a guess came. An empty secret matches
    /// nothing.
    /// - Parameter secret: The presented secret (the bearer token), exactly as sent.
    /// - Returns: The matching key, or `nil`.
    public func match(secret: String) -> CallerKey? {
        guard !secret.isEmpty else { return nil }
        let digest = CallerKey.digest(of: secret)
        var found: Int?
        for (i, key) in keys.enumerated() {
            let equal = Self.constantTimeEqual(digest, key.sha256)
            if equal, found == nil { found = i }
        }
        return found.map { keys[$0] }
    }

    /// Each key with a budget as a scope `key:NAME` with its limits; keys without a budget have no scope.
    ///
    /// Add them to the deployment's `BudgetLimits.scopes`; a call made with the key belongs to its scope when its
    /// `ScopedCall.callerKey` is the key's name.
    public var scopes: [BudgetScope] {
        keys.compactMap { key in
            guard key.daily != nil || key.monthly != nil else { return nil }
            return BudgetScope([.callerKey(key.name)], daily: key.daily, monthly: key.monthly)
        }
    }

    /// Whether two digests are equal, looking at every byte whatever the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

// MARK: - Checks

extension CallerKeys {
    /// One key with where it was configured, for messages.
    struct Entry: Sendable, Hashable {
        /// The key.
        var key: CallerKey
        /// How messages name its file.
        var file: String
        /// Its key path, `keys[2]` or `server.keys[0]`.
        var path: String
        /// The line of its entry (its name's line when known), from 1.
        var line: Int
        /// The column of its entry, from 1.
        var column: Int

        /// `line N` in the same file as `other`, else `FILE:LINE`.
        func place(from other: Entry) -> String { other.file == file ? "line \(line)" : "\(file):\(line)" }
    }

    /// Every problem of a list of keys, in order: bad names, digests, tags and budgets, then names and digests
    /// given twice (each named at the repeat, with where the first one is).
    static func problems(_ entries: [Entry]) -> [ConfigurationError] {
        var out: [ConfigurationError] = []
        var names: [String: Entry] = [:], digests: [[UInt8]: Entry] = [:]
        for e in entries {
            func invalid(_ field: String, _ message: String) {
                out.append(.invalidValue(file: e.file, line: e.line, column: e.column, key: "\(e.path)\(field)", message: message))
            }
            let key = e.key
            var ok = true
            if !CallerKey.isValidName(key.name) {
                invalid(".name", "\(NodeReader.shown(key.name)) is not a caller key name: use \(CallerKey.nameRule)")
                ok = false
            }
            if key.sha256.count != 32 {
                invalid(".sha256", "a digest is the 32 bytes of a SHA-256, not \(key.sha256.count)")
                ok = false
            } else if key.sha256 == CallerKey.digest(of: "") {
                invalid(".sha256", "this is the SHA-256 of an empty secret")
                ok = false
            }
            for (k, v) in key.tags.sorted(by: { $0.key < $1.key }) where !CallerKey.isValidTag(key: k, value: v) {
                invalid(".tags", "tag \(NodeReader.shown(k)) is not usable: \(CallerKey.tagRule), not looking like a secret")
                ok = false
            }
            for (field, limit) in [(".daily_budget", key.daily), (".monthly_budget", key.monthly)] {
                guard let limit, limit < .zero || limit > NodeReader.maxBudget else { continue }
                invalid(field, "a budget must be between $0 and \(NodeReader.maxBudget.formatted()), not \(limit.formatted(decimals: 6))")
                ok = false
            }
            guard ok else { continue }
            if let first = names[key.name] {
                invalid(".name", "caller key \(key.name) is configured twice (first at \(first.place(from: e)))")
                continue
            }
            if let first = digests[key.sha256] {
                invalid(
                    ".sha256",
                    "caller key \(key.name) has the same digest as \(first.key.name) (at \(first.place(from: e))): each key needs its own secret")
                continue
            }
            names[key.name] = e
            digests[key.sha256] = e
        }
        return out
    }
}
