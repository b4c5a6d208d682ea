#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks a ledger path before SQLite sees it, so that a directory, a device or a missing file is named in one line
/// instead of surfacing as SQLite's "unable to open database file" or "disk I/O error".
enum LedgerFile {
    /// The device and inode of a file, to tell that it was deleted or replaced while open.
    struct Identity: Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
    }

    static func identity(_ path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// Throws when the file at `path` is no longer the one opened: SQLite would go on writing to the lost file
    /// without an error, and every write would vanish when the process ends.
    static func checkStillThere(_ path: String, _ opened: Identity) throws {
        guard let now = identity(path) else {
            throw LedgerError(
                kind: .ioError, path: path,
                message: "the ledger file was deleted or moved while this process had it open; nothing more is written (reopen it)")
        }
        if now != opened {
            throw LedgerError(
                kind: .ioError, path: path,
                message: "the ledger file was replaced by another file while this process had it open; nothing more is written (reopen it)")
        }
    }

    /// - Parameters:
    ///   - path: The ledger path.
    ///   - mustExist: A command that only reads needs an existing ledger.
    /// - Throws: ``LedgerError`` (`notFound`, `notAFile`, `cannotOpen`).
    static func check(_ path: String, mustExist: Bool) throws {
        guard !path.isEmpty else { throw LedgerError(kind: .cannotOpen, message: "the ledger path is empty") }
        var link = stat()
        var target = stat()
        if lstat(path, &link) != 0 {
            if mustExist { throw LedgerError(kind: .notFound, path: path, message: "no ledger exists at this path") }
            let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
            var f = stat()
            if !folder.isEmpty, stat(folder, &f) != 0 || (f.st_mode & S_IFMT) != S_IFDIR {
                throw LedgerError(kind: .cannotOpen, path: path, message: "the ledger's folder '\(folder)' does not exist")
            }
            return
        }
        let isLink = (link.st_mode & S_IFMT) == S_IFLNK
        if stat(path, &target) != 0 {
            if mustExist || isLink {
                throw LedgerError(kind: .notFound, path: path, message: "the ledger path is a symbolic link to a file that does not exist")
            }
            return
        }
        switch target.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw LedgerError(kind: .notAFile, path: path, message: "the ledger path is a directory, not a ledger file")
        case S_IFCHR, S_IFBLK:
            throw LedgerError(
                kind: .notAFile, path: path,
                message: "the ledger path is a device\(isLink ? " (a symbolic link to one, such as /dev/null)" : ""), not a ledger file")
        default: throw LedgerError(kind: .notAFile, path: path, message: "the ledger path is not a regular file (a pipe or a socket)")
        }
    }
}
