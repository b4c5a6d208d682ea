import GRDB
import Synchronization

/// The window totals as of this process's last commit, kept across transactions so that a write need not read the
/// windows it touches again, as long as nobody else has written since.
///
/// SQLite's `PRAGMA data_version` on the writer connection changes exactly when another connection (another process,
/// or another ledger opened on the same file) has committed since the last time it was read. Every transaction reads
/// it once, after `BEGIN IMMEDIATE`, holding the write lock: when it is the value seen at the last commit, the totals
/// kept here are the file's, exactly; otherwise they are dropped and read again. All of this process's writes go
/// through the one writer connection and through a ``LedgerBatchCache`` seeded from here, and what a transaction
/// changed is kept only if it commits (``transactionEnded(committed:)``, called right after `COMMIT` on the writer
/// thread, before the next transaction can start).
///
/// Writes that bypass the ledger's operations on the same connection (a test editing totals through GRDB) are not
/// seen: they must not be followed by ledger writes on the same instance.
final class CommittedWindows: Sendable {
    /// At most this many windows are kept (each transaction copies them once it changes one): past it, only the ones
    /// the transaction changed are, and past it again none (the others are read again on use).
    static let maxKept = 256

    private struct State {
        var version: Int64?
        var windows: [LedgerBatchCache.WindowKey: LedgerBatchCache.Window] = [:]
        var pending: (version: Int64, windows: [LedgerBatchCache.WindowKey: LedgerBatchCache.Window])?
    }

    private let state = Mutex(State())

    /// The totals to start a transaction from (empty unless they are still exact), and the connection's data version.
    func seed(_ db: Database) throws -> (version: Int64, windows: [LedgerBatchCache.WindowKey: LedgerBatchCache.Window]) {
        let row = try SQLiteCall(db, "PRAGMA data_version")
        let version = try row.next() ? row.int64(0) : -1
        row.finish()
        return state.withLock { s in (version, s.version == version ? s.windows : [:]) }
    }

    /// What the open transaction's cache holds (staged just before its flush), kept if it commits.
    func stage(_ cache: LedgerBatchCache) {
        guard let version = cache.dataVersion else { return }
        var windows = cache.windows
        if windows.count > Self.maxKept {
            windows = windows.filter(\.value.dirty)
            if windows.count > Self.maxKept { windows = [:] }
        }
        for k in windows.keys where windows[k]!.dirty { windows[k]!.dirty = false }
        state.withLock { $0.pending = (version, windows) }
    }

    /// Keeps (on commit) or drops (on rollback) what the transaction staged; a commit that staged nothing (a write
    /// that did not go through a cache) forgets the totals.
    func transactionEnded(committed: Bool) {
        state.withLock { s in
            if committed {
                if let p = s.pending {
                    s.version = p.version
                    s.windows = p.windows
                } else {
                    s.version = nil
                    s.windows = [:]
                }
            }
            s.pending = nil
        }
    }
}
