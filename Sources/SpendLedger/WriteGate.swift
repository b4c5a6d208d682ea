import Foundation

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
/// `flock` has no timeout, so a contended wait runs on the gate's own waiter thread while the writer waits for it
/// with a deadline (the ledger's busy timeout). A writer that gives up throws ``LedgerError/Kind/locked``; if the
/// waiter gets the lock later, it passes it to the next writer waiting, or lets it go at once. An uncontended write
/// takes the lock with one non-blocking `flock` and never involves the thread.
///
/// The gate only orders writers; SQLite's own locks keep the data safe with or without it. It is released when its
/// holder's transaction ends or its process dies (the kernel drops the lock), so a crash never wedges other
/// processes; a process that is *stopped* (SIGSTOP, a debugger) inside a write holds it until it resumes, and the
/// others get `locked` errors after their busy timeout meanwhile.
final class WriteGate: Sendable {
    private let state: State
    private let path: String

    /// Opens (creating with mode 0600) the gate file.
    /// - Throws: ``LedgerError`` (`cannotOpen`).
    init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LedgerError(kind: .cannotOpen, path: path, message: "cannot open the write gate (errno \(errno))") }
        self.state = State(fd: fd)
        self.path = path
    }

    deinit { state.shutdown() }

    /// Runs `body` holding the gate, waiting for it at most `timeout`.
    ///
    /// Callers must already be serialized within the process (GRDB's writer queue does that): `flock` on one
    /// descriptor does not exclude threads of the same process.
    /// - Throws: ``LedgerError`` (`locked`) when another process held the gate for all of `timeout`; what `body` throws.
    func withLock<T>(timeout: Duration, _ body: () throws -> T) throws -> T {
        guard state.acquire(timeout: timeout) else {
            throw LedgerError(
                kind: .locked, path: path,
                message: "another process held the ledger's write gate for the whole busy timeout (\(timeout)); it may be stopped inside a write")
        }
        defer { state.release() }
        return try body()
    }

    /// The descriptor, the waiter thread and what they share. Every field is guarded by `condition`.
    private final class State: @unchecked Sendable {
        let fd: Int32
        let condition = NSCondition()
        /// A writer is waiting for the lock.
        var wanted = false
        /// The waiter took the lock for the writer waiting.
        var handedOver = false
        /// The waiter thread is blocked in `flock`.
        var waiting = false
        /// The thread exists.
        var threadStarted = false
        /// The gate is gone: the thread exits and closes the descriptor.
        var closed = false

        init(fd: Int32) { self.fd = fd }

        func acquire(timeout: Duration) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            // While the waiter is blocked in flock on this descriptor, a non-blocking attempt could succeed on the
            // lock it is about to be granted; wait for the hand-over instead.
            if !waiting {
                if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
                waiting = true
                startThreadIfNeeded()
                condition.broadcast()
            }
            wanted = true
            let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
            while !handedOver {
                if !condition.wait(until: deadline) && !handedOver {
                    wanted = false
                    return false
                }
            }
            handedOver = false
            wanted = false
            return true
        }

        func release() { flock(fd, LOCK_UN) }

        func shutdown() {
            condition.lock()
            closed = true
            let thread = threadStarted
            condition.broadcast()
            condition.unlock()
            if !thread { close(fd) }
        }

        private func startThreadIfNeeded() {
            guard !threadStarted else { return }
            threadStarted = true
            let thread = Thread { [self] in run() }
            thread.name = "bats-ledger-write-gate"
            thread.start()
        }

        /// The waiter: takes the lock when asked, blocking as long as it takes, then hands it over or lets it go.
        private func run() {
            condition.lock()
            while true {
                while !waiting && !closed { condition.wait() }
                if closed && !waiting { break }
                condition.unlock()
                while flock(fd, LOCK_EX) != 0, errno == EINTR {}
                condition.lock()
                waiting = false
                if wanted && !closed {
                    handedOver = true
                    condition.broadcast()
                } else {
                    flock(fd, LOCK_UN)
                }
            }
            condition.unlock()
            close(fd)
        }
    }
}
