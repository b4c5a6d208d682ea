#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on a side file, held while a process opens and migrates a ledger,
/// because SQLite's WAL switch and GRDB's migrator race when several processes start at once.
struct FileLock: ~Copyable {
    private let fd: Int32

    /// Waits until the lock on `path` is held, at most `timeout`.
    ///
    /// Polls (non-blocking `flock`, then sleeps of 1 ms) because `flock` has no timeout: a process stopped while
    /// holding the lock (it is also the write gate's file) must not hang every process that opens the ledger.
    /// - Throws: ``LedgerError`` (`locked` after `timeout`, `readOnly`, `cannotOpen`).
    init(path: String, timeout: Duration) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            if e == EROFS || e == EACCES || e == EPERM {
                throw LedgerError(kind: .readOnly, path: path, message: "the ledger's folder or lock file is read-only (errno \(e)); the ledger needs write access")
            }
            throw LedgerError(kind: .cannotOpen, path: path, message: "cannot create lock file (errno \(e))")
        }
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            guard e == EWOULDBLOCK else {
                close(fd)
                throw LedgerError(kind: .cannotOpen, path: path, message: "cannot lock (errno \(e))")
            }
            guard ContinuousClock.now < deadline else {
                close(fd)
                throw LedgerError(
                    kind: .locked, path: path,
                    message: "another process held the ledger's lock file for the whole busy timeout (\(timeout)); it may be stopped inside a write")
            }
            usleep(1_000)
        }
        self.fd = fd
    }

    /// Releases the lock (also released when the value is destroyed).
    consuming func unlock() {}

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Creates `path` with mode 0600 if it does not exist, so SQLite's WAL and SHM files inherit owner-only access.
func createPrivateFileIfMissing(_ path: String) throws {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    if fd >= 0 {
        close(fd)
        return
    }
    if errno == EACCES || errno == EROFS || errno == EPERM {
        // An existing read-only file: opening read-write fails but the ledger may still exist; SQLite reports it.
        if access(path, F_OK) == 0 { return }
        throw LedgerError(kind: .readOnly, path: path, message: "cannot create the ledger file: the folder is not writable")
    }
    throw LedgerError(kind: .cannotOpen, path: path, message: "cannot create the ledger file (errno \(errno))")
}
