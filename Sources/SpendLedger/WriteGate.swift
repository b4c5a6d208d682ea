#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cross-process queue in front of SQLite's write lock: an exclusive `flock` on `PATH.lock`, held for the length of
/// one write transaction.
///
/// SQLite has no queue for its write lock: a process that cannot get it polls (``FairBusyHandler``), and a process
/// that has more writes ready takes the lock again within microseconds of releasing it, so pollers that sleep miss
/// the gaps and starve (p99.9 of 70–130 ms and maxima of 300 ms with 4 writer processes here). A blocked `flock`
/// is woken by the kernel the moment the holder lets go, so waiting processes take turns.
///
/// - Important: The gate is released when its holder's transaction ends or its process dies (the kernel drops the
///   lock), so a crash never wedges other processes. A process that is *stopped* (SIGSTOP, a debugger) inside a
///   write holds it until it resumes.
final class WriteGate: Sendable {
    private let fd: Int32

    /// Opens (creating with mode 0600) the gate file.
    /// - Throws: ``LedgerError`` (`cannotOpen`).
    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError(kind: .cannotOpen, path: path, message: "cannot open the write gate (errno \(errno))") }
        self.fd = fd
    }

    /// Runs `body` holding the gate.
    ///
    /// Callers must already be serialized within the process (GRDB's writer queue does that): `flock` on one
    /// descriptor does not exclude threads of the same process.
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        while flock(fd, LOCK_EX) != 0, errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    deinit { close(fd) }
}
