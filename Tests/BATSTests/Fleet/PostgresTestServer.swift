import FleetLedger
import Foundation
import Logging
import PostgresNIO
import SpendLedger
import Testing

/// The PostgreSQL server the fleet tests use: `.ci/run` starts a throwaway cluster (Scripts/pg-cluster) and exports
/// its URL; locally, start one the same way. In CI (`BATS_REQUIRE_POSTGRES=1`) a missing server fails the tests.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment
    /// The role's URL (`postgres://bats@127.0.0.1:PORT/bats`).
    static let url = environment["BATS_TEST_POSTGRES_URL"]
    static let password = environment["BATS_TEST_POSTGRES_PASSWORD"]
    /// Whether the tests must have a server (CI).
    static let required = environment["BATS_REQUIRE_POSTGRES"] == "1"
    /// Whether the PostgreSQL cases run.
    static var enabled: Bool { url != nil || required }

    /// How long a test's ledger operation may take: the whole suite runs at once on 2 cores, with 8 `bats simulate`
    /// processes of the fleet test queueing on the same server, so one operation may wait far past the default 10 s.
    static let operationTimeout: Duration = .seconds(60)

    static let howTo = """
        PostgreSQL tests need a server: d=$(mktemp -d /tmp/bats-pg-XXXXXX) && Scripts/pg-cluster start "$d" && source "$d/env" \
        (then swift test; Scripts/pg-cluster stop "$d" afterwards). Debian: apt-get install postgresql
        """

    /// The server's URL, or a failure naming how to get one.
    static func serverURL() throws -> PostgresLedgerURL {
        guard let url else { throw LedgerError(kind: .unreachable, message: "no PostgreSQL server for the tests. " + howTo) }
        return try PostgresLedgerURL(url)
    }

    /// A new, empty database on the test server, and its URL.
    static func freshDatabase(_ label: String = "t") async throws -> PostgresLedgerURL {
        let server = try serverURL()
        let name = "bats_\(label)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let config = PostgresConnection.Configuration(
            host: server.host ?? "127.0.0.1", port: server.port, username: server.user, password: password, database: server.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: Logger(label: "bats.test.pg"))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "bats.test.pg"))
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        var url = server
        url.database = name
        return url
    }

    /// Runs SQL on a test database (tampering, inspection).
    static func execute(_ url: PostgresLedgerURL, _ sql: String) async throws {
        let config = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1", port: url.port, username: url.user, password: password, database: url.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 2, logger: Logger(label: "bats.test.pg"))
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "bats.test.pg"))
    }

    /// One integer from a query on a test database.
    static func integer(_ url: PostgresLedgerURL, _ sql: String) async throws -> Int64 {
        let config = PostgresConnection.Configuration(
            host: url.host ?? "127.0.0.1", port: url.port, username: url.user, password: password, database: url.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 3, logger: Logger(label: "bats.test.pg"))
        let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "bats.test.pg"))
        var value: Int64 = 0
        for try await v in rows.decode(Int64.self) { value = v }
        try await connection.close()
        return value
    }
}
