import GRDB

/// Raw access to a ledger file for tests that tamper with it.
struct SQLiteProbe {
    let queue: DatabaseQueue
    init(path: String) throws { queue = try DatabaseQueue(path: path) }
    func exec(_ sql: String) throws { try queue.write { try $0.execute(sql: sql) } }
    func int(_ sql: String) throws -> Int64? { try queue.read { try Int64.fetchOne($0, sql: sql) } }
}
