import Foundation
import Logging
import NIOCore
import PostgresNIO
public import SpendLedger

extension LedgerError.Kind {
    /// The database server cannot be reached (refused, timed out, or it went away mid-operation).
    public static let unreachable = LedgerError.Kind(rawValue: "unreachable")
    /// The server refused the role or its password.
    public static let authenticationFailed = LedgerError.Kind(rawValue: "authentication-failed")
    /// The server has no such database.
    public static let noSuchDatabase = LedgerError.Kind(rawValue: "no-such-database")
}

extension PostgresLedger {
    /// One write transaction: BEGIN, `body` (which takes the state lock first), COMMIT, within the operation timeout.
    ///
    /// Shielded from the caller's cancellation: once started it commits or rolls back, never half-way, as the SQLite
    /// ledger's writes.
    func write<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, logger = self.logger
        return try await guarded {
            try await Task {
                try await client.withTransaction(logger: logger) { c in try await body(c) }
            }.value
        }
    }

    /// One read-only transaction at REPEATABLE READ (a consistent snapshot of every table).
    func readTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client, logger = self.logger
        return try await guarded {
            try await client.withConnection { c in
                try await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                do {
                    let v = try await body(c)
                    try await c.query("COMMIT", logger: logger)
                    return v
                } catch {
                    _ = try? await c.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs `op` within the operation timeout, counting it as a transaction and mapping PostgreSQL's errors.
    func guarded<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) async throws -> T {
        shared.transactions.add(1, ordering: .relaxed)
        let url = configuration.url, timeout = configuration.operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await op() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw LedgerError(kind: .unreachable, message: "the ledger database at \(url) did not answer within \(timeout)")
                }
                return value
            }
        } catch {
            throw Self.map(error, url: url)
        }
    }

    /// A PostgreSQL or connection error as a one-line ``LedgerError`` (never with the password).
    static func map(_ error: any Error, url: PostgresLedgerURL) -> any Error {
        if error is LedgerError || error is CancellationError { return error }
        if let t = error as? PostgresTransactionError {
            // What the transaction's body threw is the error; BEGIN's or COMMIT's otherwise.
            if let inner = t.closureError ?? t.beginError ?? t.commitError ?? t.rollbackError { return map(inner, url: url) }
        }
        if let e = error as? PSQLError {
            let state = e.serverInfo?[.sqlState]
            let message = e.serverInfo?[.message] ?? ""
            switch state {
            case "28P01", "28000":
                return LedgerError(kind: .authenticationFailed, message: "the ledger database at \(url) refused the login: \(message)")
            case "3D000":
                return LedgerError(kind: .noSuchDatabase, message: "the server at \(url) has no database '\(url.database)' (create it: createdb \(url.database))")
            case "57P01", "57P02", "57P03", "08006", "08001", "08004":
                return LedgerError(kind: .unreachable, message: "the ledger database at \(url) is not available: \(message)")
            case let s?:
                return LedgerError(kind: .database, message: "the ledger database at \(url) failed: \(message) [SQLSTATE \(s)]")
            case nil:
                break
            }
            switch e.code {
            case .authMechanismRequiresPassword:
                return LedgerError(
                    kind: .authenticationFailed,
                    message: "the ledger database at \(url) asks for a password: set \(PostgresLedgerURL.passwordVariable), \(PostgresLedgerURL.passwordFileVariable) or PGPASSFILE")
            case .sslUnsupported:
                return LedgerError(kind: .unreachable, message: "the ledger database at \(url) does not offer TLS, which sslmode=require asks for")
            default:
                let why = e.underlying.map { String(describing: $0) } ?? e.code.description
                return LedgerError(kind: .unreachable, message: "cannot reach the ledger database at \(url): \(why)")
            }
        }
        if error is ChannelError || error is IOError {
            return LedgerError(kind: .unreachable, message: "cannot reach the ledger database at \(url): \(error)")
        }
        return LedgerError(kind: .unreachable, message: "cannot reach the ledger database at \(url): \(error)")
    }

    /// Opens one connection and closes it: the first error a pool would hide.
    static func probe(_ config: PostgresClient.Configuration, url: PostgresLedgerURL, timeout: Duration, logger: Logger) async throws {
        var c = PostgresConnection.Configuration(
            host: config.host ?? "localhost", port: config.port ?? 5432, username: config.username, password: config.password,
            database: config.database, tls: url.tls == .disable ? .disable : (url.tls == .require ? .require(try .init(configuration: .makeClientConfiguration())) : .prefer(try .init(configuration: .makeClientConfiguration()))))
        if let socket = config.unixSocketPath {
            c = .init(unixSocketPath: socket, username: config.username, password: config.password, database: config.database)
        }
        c.options.connectTimeout = .init(timeout)
        do {
            let connection = try await PostgresConnection.connect(configuration: c, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw map(error, url: url)
        }
    }
}
