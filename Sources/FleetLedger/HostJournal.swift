import Foundation
import GRDB
import SpendLedger

/// A host's durable local state beside a leased ledger: the calls it ran that the shared ledger has not recorded
/// yet, and the leases it holds, in an SQLite file (GRDB, WAL). A host killed mid-run finds them when it starts
/// again with the same journal, and writes them to the shared ledger once (each call carries a unique origin).
///
/// Writes run on GRDB's writer queue, never on Swift's cooperative pool.
final class HostJournal: Sendable {
    let pool: DatabasePool
    let path: String

    init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.label = "bats-host-journal"
        // Durable when the process dies (SIGKILL included); a power loss may lose the last commits, as the SQLite
        // ledger in its default mode.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            pool = try DatabasePool(path: path, configuration: config)
            var m = DatabaseMigrator()
            m.registerMigration("journal-v1") { db in
                try db.execute(
                    sql: """
                        CREATE TABLE call (seq INTEGER PRIMARY KEY, open INTEGER NOT NULL, body TEXT NOT NULL);
                        CREATE TABLE lease (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
                        """)
            }
            try m.migrate(pool)
        } catch let e as LedgerError {
            throw e
        } catch {
            throw LedgerError(kind: .cannotOpen, path: path, message: "the host journal cannot be opened: \(error)")
        }
    }

    static func encode<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder().encode(v), as: UTF8.self) }
    static func decode<T: Decodable>(_ t: T.Type, _ s: String) throws -> T { try JSONDecoder().decode(t, from: Data(s.utf8)) }

    /// The largest sequence number used.
    func lastSequence() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM call") ?? 0 }
    }

    /// Runs a journal write to its end even when the calling task is cancelled (GRDB's async writes stop at a
    /// cancellation; a call cancelled mid-flight must still have its release or settlement journaled).
    private func uncancelled(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        let pool = self.pool
        try await Task { try await pool.write(body) }.value
    }

    /// Records a call (open or finished), durably, before the caller learns of it.
    func put(_ seq: Int64, _ call: LocalCall, open: Bool) async throws {
        let body = try Self.encode(call)
        do {
            try await uncancelled { db in
                try db.execute(sql: "INSERT OR REPLACE INTO call (seq, open, body) VALUES (?, ?, ?)", arguments: [seq, open ? 1 : 0, body])
            }
        } catch {
            throw LedgerError(kind: .ioError, path: path, message: "the host journal cannot be written: \(error)")
        }
    }

    /// Forgets calls the shared ledger has recorded.
    func remove(_ seqs: [Int64]) async throws {
        if seqs.isEmpty { return }
        try await uncancelled { db in
            for chunk in stride(from: 0, to: seqs.count, by: 500) {
                let part = Array(seqs[chunk..<min(seqs.count, chunk + 500)])
                try db.execute(sql: "DELETE FROM call WHERE seq IN (\(part.map { _ in "?" }.joined(separator: ",")))", arguments: StatementArguments(part))
            }
        }
    }

    /// Records or forgets a lease.
    func putLease(_ grant: LeaseGrant) async throws {
        guard let id = grant.id else { return }
        let body = try Self.encode(grant)
        try await uncancelled { db in try db.execute(sql: "INSERT OR REPLACE INTO lease (id, body) VALUES (?, ?)", arguments: [id, body]) }
    }

    func removeLeases(_ ids: [Int64]) async throws {
        if ids.isEmpty { return }
        try await uncancelled { db in
            for id in ids { try db.execute(sql: "DELETE FROM lease WHERE id = ?", arguments: [id]) }
        }
    }

    /// Everything left by an earlier run: calls (with whether each was still open) and leases.
    func contents() throws -> (calls: [(seq: Int64, open: Bool, call: LocalCall)], leases: [LeaseGrant]) {
        try pool.read { db in
            let calls = try Row.fetchAll(db, sql: "SELECT seq, open, body FROM call ORDER BY seq").map { r in
                (seq: r[0] as Int64, open: (r[1] as Int64) != 0, call: try Self.decode(LocalCall.self, r[2]))
            }
            let leases = try String.fetchAll(db, sql: "SELECT body FROM lease ORDER BY id").map { try Self.decode(LeaseGrant.self, $0) }
            return (calls, leases)
        }
    }
}
