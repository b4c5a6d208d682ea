import Synchronization

/// State behind a lock that tasks can wait on: ``wait(until:)`` suspends until a condition on the state holds,
/// checked at once and after every change made through ``withLock(_:)``. It is how the test helpers hand-shake with
/// the code under test (a request received, a connection closed, a sleep started) instead of polling or sleeping.
final class WaitableState<State: Sendable>: Sendable {
    private struct Waiter: Sendable {
        var condition: @Sendable (State) -> Bool
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct Storage: Sendable {
        var state: State
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private let storage: Mutex<Storage>

    init(_ state: State) { storage = Mutex(Storage(state: state)) }

    /// Reads or changes the state under the lock; waiters whose condition now holds are resumed (outside the lock).
    func withLock<R: Sendable>(_ body: (inout State) throws -> R) rethrows -> R {
        let (result, ready) = try storage.withLock { s -> (R, [CheckedContinuation<Void, Never>]) in
            let result = try body(&s.state)
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in s.waiters where waiter.condition(s.state) {
                ready.append(waiter.continuation)
                s.waiters[id] = nil
            }
            return (result, ready)
        }
        for continuation in ready { continuation.resume() }
        return result
    }

    /// Suspends until `condition` holds, or the task is cancelled (then it returns without the condition holding).
    func wait(until condition: @escaping @Sendable (State) -> Bool) async {
        let id = storage.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // Checking for cancellation under the lock closes the race with the handler below, which takes
                // the lock too, and runs only after the task is marked cancelled.
                let resumeNow = storage.withLock { s -> Bool in
                    if condition(s.state) || Task.isCancelled { return true }
                    s.waiters[id] = Waiter(condition: condition, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            storage.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}
