import SpendLedger
import Yams

extension DeploymentParser {
    // MARK: - Server

    /// The keys of `server`.
    static let serverKeys = ["host", "port", "keys_file", "keys", "max_body_bytes", "shutdown_grace"]

    /// `server`: the address and port of `bats serve`, its caller keys (a keys file and inline entries, hashed
    /// only), its body limit and its shutdown grace.
    ///
    /// A key with its own budget must not also have a `key:NAME` scope in `budget.scopes` (the budget is given once).
    /// - Parameter scopes: The scopes of `budget.scopes`, for that check.
    mutating func server(_ node: Node?, scopes: [BudgetScope]) -> DeploymentConfiguration.Server? {
        guard let node else { return .init() }
        guard let t = reader.table(node, at: "server", keys: Self.serverKeys) else { return nil }
        let before = reader.errors.count
        var s = DeploymentConfiguration.Server()
        s.origin.file = reader.file
        if let v = t["host"], let host = reader.string(v, at: t.path("host")) {
            if Self.isHost(host) { s.host = host } else {
                reader.invalid(
                    v, t.path("host"), "\(NodeReader.shown(host)) is not an address to listen on, such as 127.0.0.1, 0.0.0.0, ::1 or localhost")
            }
        }
        if let v = t["port"] { s.port = reader.int(v, at: t.path("port"), in: 0...65_535) }
        if let v = t["keys_file"], let path = reader.string(v, at: t.path("keys_file")) {
            if SecretDetector.looksLikeSecret(path) {
                secret(
                    v, t.path("keys_file"),
                    "keys_file names the caller keys FILE, and this value looks like a secret; " + SecretDetector.callerKeyAdvice)
            } else {
                s.keysFile = resolve(path)
            }
        }
        if let v = t["keys"], let entries = reader.callerKeys(v, at: t.path("keys")) {
            for problem in CallerKeys.problems(entries) { reader.add(problem) }
            let configured = Set(scopes.map(\.name))
            for e in entries where e.key.daily != nil || e.key.monthly != nil {
                let scope = BudgetScope([.callerKey(e.key.name)]).name
                guard configured.contains(scope) else { continue }
                reader.add(.invalidValue(
                    file: reader.file, line: e.line, column: e.column, key: "\(e.path).name",
                    message: "caller key \(e.key.name) has its own budget here and scope \(scope) in budget.scopes too: give it once"))
            }
            s.keys = entries.map(\.key)
            for e in entries { s.origin.positions[e.key.name] = .init(line: e.line, column: e.column) }
        }
        if let v = t["max_body_bytes"] {
            s.maxBodyBytes = reader.int(v, at: t.path("max_body_bytes"), in: DeploymentConfiguration.Server.maxBodyBytesRange)
        }
        if let v = t["shutdown_grace"] {
            s.shutdownGrace = reader.duration(v, at: t.path("shutdown_grace"), max: DeploymentConfiguration.Server.maxShutdownGrace)
        }
        return reader.errors.count == before ? s : nil
    }

    /// Whether a string can be an address to listen on: an IPv4 or IPv6 address or a host name (letters, digits,
    /// `.`, `-`, `:`), at most 253 characters.
    static func isHost(_ s: String) -> Bool {
        guard (1...253).contains(s.count), !s.hasPrefix("-"), !s.hasPrefix(".") else { return false }
        return s.unicodeScalars.allSatisfy { ($0 != "_" && SecretDetector.isBase64URL($0)) || $0 == "." || $0 == ":" }
    }
}
