import GRDB
import GRDBSQLite

/// One use of a cached statement, bound and stepped through SQLite's C API.
///
/// The ledger's hot path (reserve, settle, release) runs about a dozen statements per call; GRDB's generic argument
/// boxing and per-statement bookkeeping cost more than SQLite's own work for statements this small. The statement
/// is still prepared and owned by GRDB (`Database.cachedStatement(sql:)`), so its lifetime and the connection's
/// stay GRDB's business. Use only inside a transaction begun through GRDB, and never for BEGIN or COMMIT (GRDB
/// tracks those).
///
/// Binding copies strings (`SQLITE_TRANSIENT`); every call ends with ``run()``, ``next()`` returning `false`, or
/// ``finish()``, which reset the statement so it holds no read lock.
struct SQLiteCall {
    private let statement: OpaquePointer
    private let db: Database

    /// Looks up (preparing once) the statement for `sql` and clears its previous use.
    init(_ db: Database, _ sql: String) throws {
        let s = try db.cachedStatement(sql: sql)
        self.statement = s.sqliteStatement
        self.db = db
        sqlite3_reset(statement)
    }

    // MARK: Binding (1-based, as in SQL)

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(statement, index, value) }
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(statement, index, Int64(value)) }
    func bind(_ index: Int32, _ value: Bool) { sqlite3_bind_int64(statement, index, value ? 1 : 0) }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ index: Int32, _ value: Int?) { bind(index, value.map(Int64.init)) }

    func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // An empty buffer may have no address; SQLite reads a nil pointer as NULL, so give it a real one.
            guard let base = utf8.baseAddress else {
                sqlite3_bind_text(statement, index, "", 0, sqliteTransient)
                return
            }
            base.withMemoryRebound(to: CChar.self, capacity: utf8.count) {
                _ = sqlite3_bind_text(statement, index, $0, Int32(utf8.count), sqliteTransient)
            }
        }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(statement, index) }
    }

    // MARK: Stepping

    /// Runs a statement that returns no rows, then resets it.
    func run() throws {
        let code = sqlite3_step(statement)
        if code == SQLITE_ROW || code == SQLITE_DONE {
            sqlite3_reset(statement)
            return
        }
        throw failure(code)
    }

    /// Steps to the next row: `true` with a row to read, `false` (and reset) when there are no more.
    func next() throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE:
            sqlite3_reset(statement)
            return false
        case let code: throw failure(code)
        }
    }

    /// Resets a statement whose remaining rows are not wanted.
    func finish() { sqlite3_reset(statement) }

    // MARK: Reading the current row (0-based)

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func bool(_ column: Int32) -> Bool { sqlite3_column_int64(statement, column) != 0 }
    func optionalInt64(_ column: Int32) -> Int64? { sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : int64(column) }

    func optionalText(_ column: Int32) -> String? { sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : text(column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    // MARK: Errors

    /// The error for a failed step, as GRDB would have thrown it (the ledger maps it to ``LedgerError``).
    private func failure(_ code: Int32) -> DatabaseError {
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        let sql = sqlite3_sql(statement).map { String(cString: $0) }
        sqlite3_reset(statement)
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
    }
}

/// SQLite's "copy the value now" destructor (`SQLITE_TRANSIENT`), which C headers define as a cast of -1.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
