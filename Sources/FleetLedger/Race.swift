import Synchronization

/// The first of several outcomes, delivered once to one waiter.
final class Race<T: Sendable>: Sendable {
    private let state = Mutex<(result: Result<T, any Error>?, waiter: CheckedContinuation<T, any Error>?)>((nil, nil))

    /// Records an outcome; `true` when it was the first.
    @discardableResult
    func finish(_ r: Result<T, any Error>) -> Bool {
        let (first, waiter) = state.withLock { s -> (Bool, CheckedContinuation<T, any Error>?) in
            guard s.result == nil else { return (false, nil) }
            s.result = r
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        if first, let waiter { waiter.resume(with: r) }
        return first
    }

    /// The first outcome.
    func value() async throws -> T {
        try await withCheckedThrowingContinuation { c in
            let ready = state.withLock { s -> Result<T, any Error>? in
                if let r = s.result { return r }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}
