public import Foundation
public import SpendLedger

/// Where a PostgreSQL ledger lives, parsed from `postgres://user@host:port/db`, with the password resolved from the
/// environment or a file, never from what is printed.
///
/// Accepted forms: `postgres://` or `postgresql://`, `user@host:port/db`, a host in brackets for IPv6, and
/// `?host=/dir` for a Unix socket directory (as libpq). Query options: `sslmode=disable|prefer|require`
/// (default `prefer`), `passfile=PATH`, `application_name=NAME`. A password in the URL itself is accepted but
/// discouraged (it shows in process lists); ``description`` never shows it.
public struct PostgresLedgerURL: Sendable, Hashable, CustomStringConvertible {
    /// TLS to the server.
    public enum TLSMode: String, Sendable, Hashable { case disable, prefer, require }

    /// The TCP host, or `nil` with ``socketPath``.
    public var host: String?
    /// The TCP port.
    public var port: Int
    /// The Unix socket file (`DIR/.s.PGSQL.PORT`), when `?host=/DIR` was given.
    public var socketPath: String?
    /// The role.
    public var user: String
    /// The database.
    public var database: String
    /// TLS.
    public var tls: TLSMode
    /// A password file named by the URL (`passfile=`), read like `PGPASSFILE`.
    public var passfile: String?
    /// The `application_name` the server shows for these connections (`pg_stat_activity`), if given.
    public var applicationName: String?
    /// A password written in the URL (discouraged).
    var inlinePassword: String?

    /// The environment variable with the password.
    public static let passwordVariable = "BATS_LEDGER_PASSWORD"
    /// The environment variable naming a file that holds the password (its first line).
    public static let passwordFileVariable = "BATS_LEDGER_PASSWORD_FILE"

    /// Whether `text` names a PostgreSQL ledger (rather than an SQLite file).
    public static func isPostgres(_ text: String) -> Bool {
        let lower = text.prefix(13).lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Throws: ``LedgerError`` (`invalid-configuration`) naming what is wrong, without the password.
    public init(_ text: String) throws {
        func bad(_ why: String) -> LedgerError {
            LedgerError(kind: .invalidConfiguration, message: "the ledger URL \(Self.redacted(text)) is not usable: \(why)")
        }
        guard Self.isPostgres(text), let c = URLComponents(string: text) else {
            throw bad("expected postgres://user@host:port/database")
        }
        let items = c.queryItems ?? []
        func item(_ n: String) -> String? { items.first { $0.name == n }?.value }
        for i in items where !["sslmode", "passfile", "host", "application_name", "port"].contains(i.name) {
            throw bad("unknown option '\(i.name)' (known: sslmode, passfile, host, port, application_name)")
        }
        let socketDir = item("host").flatMap { $0.hasPrefix("/") ? $0 : nil }
        // An IPv6 literal keeps its brackets in URLComponents (`[::1]`): the socket address is without them.
        let literal = c.host.map { $0.hasPrefix("[") && $0.hasSuffix("]") ? String($0.dropFirst().dropLast()) : $0 }
        host = literal.flatMap { $0.isEmpty ? nil : $0 } ?? (socketDir == nil ? "localhost" : nil)
        if let h = item("host"), !h.hasPrefix("/") { host = h }
        let portNumber: Int
        if let p = c.port {
            portNumber = p
        } else if let p = item("port") {
            guard let v = Int(p) else { throw bad("port '\(p)' is not a number") }
            portNumber = v
        } else {
            portNumber = 5432
        }
        guard (1...65535).contains(portNumber) else { throw bad("port \(portNumber) is out of range") }
        port = portNumber
        socketPath = socketDir.map { "\($0)/.s.PGSQL.\(portNumber)" }
        guard let u = c.user, !u.isEmpty else { throw bad("it names no user (postgres://USER@host/db)") }
        user = u
        let db = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        guard !db.isEmpty, !db.contains("/") else { throw bad("it names no database (postgres://user@host/DATABASE)") }
        database = db
        switch item("sslmode") ?? "prefer" {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        case let other: throw bad("sslmode '\(other)' is unknown (disable, prefer, require)")
        }
        passfile = item("passfile")
        applicationName = item("application_name")
        inlinePassword = c.password
    }

    /// The URL without any password.
    public var description: String {
        var s = "postgres://\(user)@"
        if let host { s += host.contains(":") ? "[\(host)]" : host }
        s += ":\(port)/\(database)"
        if let socketPath { s += "?host=\((socketPath as NSString).deletingLastPathComponent)" }
        return s
    }

    /// `text` with any password replaced by `***`, for messages about a URL that did not parse.
    public static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// The password: `BATS_LEDGER_PASSWORD` or `PGPASSWORD`, else the file `BATS_LEDGER_PASSWORD_FILE`, else the URL's
    /// own, else the first matching line of the URL's `passfile`, `PGPASSFILE` or `~/.pgpass` (`host:port:db:user:password`,
    /// `*` matching anything); `nil` when none is set (trust or peer authentication).
    /// - Throws: ``LedgerError`` when a named password file cannot be read.
    public func password(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        if let p = environment[Self.passwordVariable] ?? environment["PGPASSWORD"], !p.isEmpty { return p }
        if let file = environment[Self.passwordFileVariable], !file.isEmpty {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw LedgerError(kind: .invalidConfiguration, message: "cannot read the password file \(file) (\(Self.passwordFileVariable))")
            }
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        if let inlinePassword { return inlinePassword.removingPercentEncoding ?? inlinePassword }
        let pgpass = passfile ?? environment["PGPASSFILE"] ?? environment["HOME"].map { $0 + "/.pgpass" }
        guard let pgpass, let text = try? String(contentsOfFile: pgpass, encoding: .utf8) else { return nil }
        let hostName = host ?? "localhost"
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = Self.pgpassFields(String(line))
            guard f.count == 5 else { continue }
            func match(_ pattern: String, _ value: String) -> Bool { pattern == "*" || pattern == value }
            if match(f[0], hostName), match(f[1], String(port)), match(f[2], database), match(f[3], user) { return f[4] }
        }
        return nil
    }

    /// A `.pgpass` line's fields (`\:` and `\\` escaped).
    static func pgpassFields(_ line: String) -> [String] {
        var fields: [String] = [], cur = "", escaped = false
        for ch in line {
            if escaped { cur.append(ch); escaped = false } else if ch == "\\" { escaped = true } else if ch == ":" && fields.count < 4 {
                fields.append(cur)
                cur = ""
            } else { cur.append(ch) }
        }
        fields.append(cur)
        return fields
    }
}
