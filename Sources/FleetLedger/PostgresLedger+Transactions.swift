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
        return try await guarded { try await client.withTransaction(logger: logger) { c in try await body(c) } }
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

    /// Runs `op` in a task of its own, within the operation timeout, counting it as a transaction and mapping
    /// PostgreSQL's errors. The caller's cancellation does not reach `op` (a write is never cut half-way); past the
    /// timeout the caller gets `unreachable` at once and `op` is cancelled (a transaction still waiting for a
    /// connection never starts; one that committed stays committed: its reservation expires, charged at its estimate).
    func guarded<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) async throws -> T {
        shared.transactions.add(1, ordering: .relaxed)
        let url = configuration.url, timeout = configuration.operationTimeout
        let race = Race<T>()
        let work = Task {
            do { race.finish(.success(try await op())) } catch { race.finish(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if race.finish(.failure(LedgerError(kind: .unreachable, message: "the ledger database at \(url) did not answer within \(timeout)"))) {
                work.cancel()
            }
        }
        defer { timer.cancel() }
        do {
            return try await race.value()
        } catch {
            throw Self.map(error, url: url)
        }
    }

    /// A PostgreSQL or connection error as a one-line ``LedgerError`` (never with the password).
    static func map(_ error: any Error, url: PostgresLedgerURL) -> any Error {
        if error is LedgerError || error is CancellationError || error is GroupShortfall { return error }
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
