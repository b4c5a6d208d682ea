import Gateway

/// Runs `operation` in a child task and fails it with `expiry` when `deadline` passes on `clock`.
///
/// AsyncHTTPClient's own deadline runs on NIO's real clock and covers a request only until the response head
/// arrives; the client bounds heads, bodies and streams here instead, on its injected clock (AsyncHTTPClient's
/// deadline stays as a real-time backstop). When the deadline wins, the operation's task is cancelled, which
/// cancels the HTTP request. A deadline that has already passed fails at once, without starting `operation`.
func withDeadline<T: Sendable>(
    _ deadline: CallClock.Instant, on clock: CallClock, failing expiry: GatewayError,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    guard clock.now < deadline else { throw expiry }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await clock.sleep(until: deadline)
            throw expiry
        }
        defer { group.cancelAll() }
        do {
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw error
        }
    }
}

extension GatewayClient.AttemptContext {
    /// Runs `operation`, failing it with ``GatewayError/Kind/timeout`` when the call's deadline passes.
    func withinDeadline<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let expiry = GatewayError(kind: .timeout, model: call.model, detail: "the call's deadline of \(timeout) passed")
        return try await withDeadline(deadline, on: clock, failing: expiry, operation)
    }
}

/// Holds a non-`Sendable` iterator so that successive `next()` calls may run in child tasks.
/// Safe because calls never overlap: each one completes before the next begins.
final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element: Sendable {
    private var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> Base.Element? { try await base.next() }
}
