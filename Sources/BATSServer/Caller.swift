/// Who sent a request: the caller key's name and the tags it carries (never its secret).
public struct Caller: Sendable, Hashable {
    /// The key's name, recorded with each call and used by scopes `key:NAME`.
    public var name: String
    /// Tags every call with this key records; they win over the `X-BATS-Tags` header's.
    public var tags: [String: String]

    /// Creates a caller.
    public init(name: String, tags: [String: String] = [:]) {
        self.name = name
        self.tags = tags
    }
}

/// Looks up a presented bearer secret; `nil` when no key matches. It must compare in constant time and never log.
public typealias CallerAuthenticator = @Sendable (_ secret: String) -> Caller?

extension Caller {
    /// Reads `X-BATS-Tags: agent=scanner,symbol=AAPL`: comma-separated `key=value` pairs, keys and values of at most
    /// 128 bytes, at most 32 pairs.
    static func tags(header: String?) throws(OpenAIError) -> [String: String] {
        guard let header, !header.trimmed.isEmpty else { return [:] }
        var tags: [String: String] = [:]
        for pair in header.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmed }
            guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 128, parts[1].utf8.count <= 128 else {
                throw .invalidRequest("X-BATS-Tags must be comma-separated key=value pairs, such as agent=scanner,symbol=AAPL", param: "X-BATS-Tags")
            }
            tags[parts[0]] = parts[1]
        }
        if tags.count > 32 { throw .invalidRequest("X-BATS-Tags has more than 32 tags", param: "X-BATS-Tags") }
        return tags
    }
}
