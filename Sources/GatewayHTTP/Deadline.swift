import Gateway

/// Runs `operation` in a child task and fails it with ``GatewayError/Kind/timeout`` when `deadline` passes.
///
/// AsyncHTTPClient's deadline covers a request only until the response head arrives; bodies (and streams)
/// are bounded here instead. When the deadline wins, the operation's task is cancelled, which cancels the
/// HTTP request.
func withDeadline<T: Sendable>(
    _ deadline: ContinuousClock.Instant, timeout: Duration, model: String?,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(until: deadline, clock: .continuous)
            throw GatewayError(kind: .timeout, model: model, detail: "the call's deadline of \(timeout) passed")
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

/// Holds a non-`Sendable` iterator so that successive `next()` calls may run in child tasks.
/// Safe because calls never overlap: each one completes before the next begins.
final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element: Sendable {
    private var base: Base
    init(_ base: Base) { self.base = base }
    func next() async throws -> Base.Element? { try await base.next() }
}
