import GRDB
import Synchronization

/// The ledger's asynchronous writes: run on GRDB's writer queue (a thread of its own, never Swift's cooperative pool)
/// and committed together when several wait (group commit).
///
/// A caller's operation is queued and the caller suspends. One drain at a time runs on the writer queue: it takes
/// every operation waiting (at most ``maxGroup``), runs them in order inside one IMMEDIATE transaction, each under a
/// savepoint of its own, and commits once. Then each caller resumes with its own result, after the commit that made
/// its change durable. An operation that throws is rolled back to its savepoint and its caller gets the error; the
/// others still commit. A failed commit fails every operation of the group (nothing of it was written).
///
/// Semantics are those of one transaction per operation, in queue order: each fit check sees the totals every earlier
/// operation left, each receipt is the caller's own, and the hash chain follows the commit order.
package final class LedgerCommitQueue: Sendable {
    /// One queued operation: `run` does the work inside the group's transaction and returns how to resume its caller
    /// once the group commits; `fail` resumes the caller with an error.
    struct Operation: Sendable {
        let run: @Sendable (Database, inout LedgerBatchCache) throws -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    /// The most operations one transaction commits.
    static let maxGroup = 256

    private let state = Mutex<(queue: [Operation], draining: Bool)>(([], false))
    private let groups = Atomic<Int>(0)
    private let grouped = Atomic<Int>(0)

    init() {}

    /// How many group transactions committed or failed, and how many operations they held (for benchmarks and tests).
    package var statistics: (groups: Int, operations: Int) { (groups.load(ordering: .relaxed), grouped.load(ordering: .relaxed)) }

    /// Queues an operation; returns `true` when the caller must start a drain (none is running).
    func enqueue(_ op: Operation) -> Bool {
        state.withLock { s in
            s.queue.append(op)
            if s.draining { return false }
            s.draining = true
            return true
        }
    }

    /// The next group to commit, or `nil` (and the drain ends) when nothing waits.
    func nextGroup() -> [Operation]? {
        state.withLock { s in
            if s.queue.isEmpty {
                s.draining = false
                return nil
            }
            let n = min(Self.maxGroup, s.queue.count)
            let group = Array(s.queue.prefix(n))
            s.queue.removeFirst(n)
            return group
        }
    }

    /// Counts a group.
    func recorded(_ count: Int) {
        groups.add(1, ordering: .relaxed)
        grouped.add(count, ordering: .relaxed)
    }
}
