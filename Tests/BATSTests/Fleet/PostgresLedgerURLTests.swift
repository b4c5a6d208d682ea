import FleetLedger
import Foundation
import SpendLedger
import Testing

/// Choosing a PostgreSQL ledger by URL: the forms accepted, where the password comes from, and that it never shows.
@Suite("PostgreSQL ledger URLs and passwords")
struct PostgresLedgerURLTests {
    @Test("The forms: TCP, IPv6, a Unix socket, options, any case of the scheme")
    func forms() throws {
        let a = try PostgresLedgerURL("postgres://bats@db.internal:6432/spend?sslmode=require&application_name=desk-a")
        #expect(a.host == "db.internal" && a.port == 6432 && a.user == "bats" && a.database == "spend" && a.tls == .require)
        #expect(a.applicationName == "desk-a" && a.socketPath == nil)
        let b = try PostgresLedgerURL("postgresql://bats@[::1]/spend")
        #expect(b.host == "::1" && b.port == 5432 && b.tls == .prefer)
        #expect(b.description == "postgres://bats@[::1]:5432/spend")
        let c = try PostgresLedgerURL("postgres://bats@/spend?host=/var/run/postgresql&port=5433")
        #expect(c.host == nil && c.socketPath == "/var/run/postgresql/.s.PGSQL.5433")
        #expect(PostgresLedgerURL.isPostgres("POSTGRES://bats@h/db") && !PostgresLedgerURL.isPostgres("spend.sqlite"))
        #expect(try PostgresLedgerURL("PostgreSQL://bats@h/db").database == "db")
    }

    @Test("Malformed URLs are one clear error, and a password in them is never repeated", arguments: [
        ("postgres://h:5432/db", "names no user"),
        ("postgres://bats@h:5432/", "names no database"),
        ("postgres://bats@h:99999/db", "port"),
        ("postgres://bats:hunter2@h/db?sslmode=bogus", "sslmode 'bogus'"),
        ("postgres://bats:hunter2@h/db?timeout=5", "unknown option 'timeout'"),
    ])
    func malformed(_ text: String, _ says: String) throws {
        #expect {
            _ = try PostgresLedgerURL(text)
        } throws: { e in
            let m = "\(e)"
            return m.contains(says) && !m.contains("hunter2") && !m.contains("\n")
        }
    }

    @Test("The password: the environment, then a password file, then the URL, then a .pgpass file; never in the description")
    func passwordSources() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-pgpass-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("pw")
        try "from-file\nignored\n".write(to: file, atomically: true, encoding: .utf8)
        let pgpass = dir.appendingPathComponent("pgpass")
        try "# comment\nother:5432:*:bats:nope\ndb.internal:6432:spend:bats:from\\:pgpass\n".write(to: pgpass, atomically: true, encoding: .utf8)
        let url = try PostgresLedgerURL("postgres://bats@db.internal:6432/spend")
        #expect(try url.password(environment: ["BATS_LEDGER_PASSWORD": "from-env", "BATS_LEDGER_PASSWORD_FILE": file.path]) == "from-env")
        #expect(try url.password(environment: ["PGPASSWORD": "pg-env"]) == "pg-env")
        #expect(try url.password(environment: ["BATS_LEDGER_PASSWORD_FILE": file.path]) == "from-file")
        #expect(try url.password(environment: ["PGPASSFILE": pgpass.path]) == "from:pgpass")
        #expect(try url.password(environment: ["HOME": dir.path]) == nil)
        let inline = try PostgresLedgerURL("postgres://bats:in%40line@db.internal:6432/spend")
        #expect(try inline.password(environment: [:]) == "in@line")
        #expect(!inline.description.contains("line") && !"\(inline)".contains("in%40line"))
        #expect(throws: LedgerError.self) { try url.password(environment: ["BATS_LEDGER_PASSWORD_FILE": dir.appendingPathComponent("gone").path]) }
    }

    @Test("A wrong password, an unreachable server and a missing database are each one line, without the password",
          .enabled(if: PostgresTestServer.enabled, Comment(rawValue: PostgresTestServer.howTo)))
    func oneLineErrors() async throws {
        let server = try PostgresTestServer.serverURL()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bats-pgerr-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var missing = server
        missing.database = "bats_no_such_db"
        let cases: [(String, [String: String], String)] = [
            (server.description, ["BATS_LEDGER_PASSWORD": "wrong-secret-123"], "refused the login"),
            ("postgres://bats@127.0.0.1:1/bats", ["BATS_LEDGER_PASSWORD": "wrong-secret-123"], "cannot reach"),
            (missing.description, ["BATS_LEDGER_PASSWORD": PostgresTestServer.password ?? ""], "no database 'bats_no_such_db'"),
        ]
        for (url, env, says) in cases {
            let o = try await BATSChild.run(["audit", "--ledger", url], scratch: scratch, environment: env)
            let lines = o.stderr.split(separator: "\n")
            #expect(o.status == 1 && lines.count == 1 && o.stderr.contains(says), "\(o.stderr)")
            #expect(!o.stderr.contains("wrong-secret-123") && !o.stderr.contains(PostgresTestServer.password ?? "\u{0}"))
        }
    }
}
