import Foundation
import GRDB

extension SQLiteLedger {
    static func map(_ error: any Error, path: String?) -> any Error {
        if error is LedgerError || error is CancellationError { return error }
        guard let e = error as? DatabaseError else { return error }
        let code = e.resultCode
        let message = e.message ?? "\(e)"
        switch code {
        case .SQLITE_NOTADB:
            return LedgerError(kind: .notALedger, path: path, sqliteCode: code.rawValue, message: "the file is not an SQLite database")
        case .SQLITE_CORRUPT:
            return LedgerError(kind: .corrupt, path: path, sqliteCode: code.rawValue, message: "the database is damaged: \(message)")
        case .SQLITE_READONLY:
            if e.extendedResultCode == .SQLITE_READONLY_DBMOVED {
                return LedgerError(
                    kind: .ioError, path: path, sqliteCode: e.extendedResultCode.rawValue,
                    message: "the ledger file was moved or deleted while it was open; nothing more can be written to it")
            }
            return LedgerError(kind: .readOnly, path: path, sqliteCode: code.rawValue, message: "the ledger is read-only: \(message)")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return LedgerError(kind: .locked, path: path, sqliteCode: code.rawValue, message: "the ledger is locked by another process or connection: \(message)")
        case .SQLITE_IOERR, .SQLITE_FULL:
            return LedgerError(kind: .ioError, path: path, sqliteCode: e.extendedResultCode.rawValue, message: ioErrorText(e, message: message))
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return LedgerError(kind: .cannotOpen, path: path, sqliteCode: code.rawValue, message: "cannot open the ledger: \(message)")
        default:
            return LedgerError(kind: .database, path: path, sqliteCode: code.rawValue, message: message)
        }
    }
}

extension SQLiteLedger {
    /// Says what an I/O error under the ledger most likely was, in words.
    static func ioErrorText(_ e: DatabaseError, message: String) -> String {
        if e.resultCode == .SQLITE_FULL { return "the disk is full: nothing more can be written to the ledger (\(message))" }
        switch e.extendedResultCode {
        case .SQLITE_IOERR_SHORT_READ, .SQLITE_IOERR_READ:
            return "reading the ledger failed: its file, WAL or shared-memory file was deleted, truncated or replaced while it was open (\(message))"
        case .SQLITE_IOERR_WRITE, .SQLITE_IOERR_FSYNC, .SQLITE_IOERR_TRUNCATE:
            return "writing the ledger failed: the disk is full or failing, or the file was removed while open (\(message))"
        case .SQLITE_IOERR_SHMOPEN, .SQLITE_IOERR_SHMSIZE, .SQLITE_IOERR_SHMMAP, .SQLITE_IOERR_SHMLOCK:
            return "the ledger's shared-memory file (-shm) cannot be used: it was deleted or its folder is not writable (\(message))"
        case .SQLITE_IOERR_LOCK, .SQLITE_IOERR_RDLOCK, .SQLITE_IOERR_UNLOCK:
            return "the ledger's file locks failed (a network file system without locks?) (\(message))"
        default:
            return "an I/O error under the ledger: the file, its WAL or the disk failed while it was open (\(message))"
        }
    }
}

extension SQLiteLedger.Configuration {
    func validate() throws {
        try limits?.validate()
        guard reservationTimeToLive > .zero else {
            throw LedgerError(kind: .invalidConfiguration, message: "reservation time-to-live must be positive")
        }
        guard busyTimeout >= .zero else { throw LedgerError(kind: .invalidConfiguration, message: "busy timeout must not be negative") }
    }
}
