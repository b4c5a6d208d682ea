import AsyncAlgorithms
import BATS
import Gateway
import Logging
import Synchronization

/// One streamed chat call, run by the router in a task of its own so the reply's head (with the model the budget
/// chose) can be sent before the first chunk; chunks reach the response body through a back-pressured channel, one at
/// a time, as they arrive.
///
/// - The response body cancels the task when the client goes away (a write fails); the router then settles the call
///   from what was received, and the body waits for that before returning.
/// - If the body never starts (the connection closed before the head was written), dropping the response drops the
///   ``Handle``, which cancels the task.
/// - ``StreamRegistry/drain()`` awaits every task at shutdown, so no settlement is cut short.
final class StreamRelay: Sendable {
    enum Event: Sendable {
        case chunk(ChatCompletionChunk)
        case end(RouteRecord)
        case failed(any Error)
    }

    enum HeadState {
        case waiting(CheckedContinuation<Result<RoutedStream.Route, any Error>, Never>?)
        case ready(Result<RoutedStream.Route, any Error>)
    }

    let events = AsyncChannel<Event>()
    private let headState = Mutex<HeadState>(.waiting(nil))
    private let taskBox = Mutex<Task<Void, Never>?>(nil)

    /// Starts the call.
    static func start(router: BATS.Router, task: RoutedTask, logger: Logger, registry: StreamRegistry) -> StreamRelay {
        let relay = StreamRelay()
        // Registered under the registry's lock before the task can end and remove itself.
        registry.add(relay) {
            let t = Task {
                await relay.run(router: router, task: task, logger: logger)
                registry.remove(relay)
            }
            relay.taskBox.withLock { $0 = t }
            return t
        }
        return relay
    }

    private func run(router: BATS.Router, task: RoutedTask, logger: Logger) async {
        do {
            let (_, record) = try await router.stream(task, logger: logger) { stream in
                self.fulfill(.success(stream.route))
                for try await chunk in stream {
                    await self.events.send(.chunk(chunk))
                    try Task.checkCancellation()
                }
            }
            await events.send(.end(record))
        } catch {
            if !fulfill(.failure(error)) { await events.send(.failed(error)) }
        }
        events.finish()
    }

    /// Sets the head; `false` when it was already set.
    @discardableResult
    private func fulfill(_ result: Result<RoutedStream.Route, any Error>) -> Bool {
        let waiter: CheckedContinuation<Result<RoutedStream.Route, any Error>, Never>?? = headState.withLock { s in
            guard case .waiting(let c) = s else { return nil }
            s = .ready(result)
            return .some(c)
        }
        guard let waiter else { return false }
        waiter?.resume(returning: result)
        return true
    }

    /// The route once the upstream stream opened, or the error that ended the call before it (a refusal, every
    /// provider failing). Cancelling the waiting task cancels the call.
    func head() async -> Result<RoutedStream.Route, any Error> {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Result<RoutedStream.Route, any Error>, Never>) in
                let ready: Result<RoutedStream.Route, any Error>? = headState.withLock { s in
                    if case .ready(let r) = s { return r }
                    s = .waiting(c)
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            self.cancel()
        }
    }

    func cancel() { taskBox.withLock { $0 }?.cancel() }

    /// Waits for the call to end (settled or released).
    func wait() async { await taskBox.withLock { $0 }?.value }

    /// Owned by a response body: cancels the call if the body never starts.
    final class Handle: Sendable {
        let relay: StreamRelay
        private let started = Atomic<Bool>(false)
        init(_ relay: StreamRelay) { self.relay = relay }
        func begin() { started.store(true, ordering: .releasing) }
        deinit { if !started.load(ordering: .acquiring) { relay.cancel() } }
    }
}

/// The streamed calls in flight, awaited at shutdown.
final class StreamRegistry: Sendable {
    private let tasks = Mutex<[ObjectIdentifier: Task<Void, Never>]>([:])

    func add(_ relay: StreamRelay, _ start: () -> Task<Void, Never>) { tasks.withLock { $0[ObjectIdentifier(relay)] = start() } }
    func remove(_ relay: StreamRelay) { _ = tasks.withLock { $0.removeValue(forKey: ObjectIdentifier(relay)) } }

    /// How many streamed calls are running.
    var count: Int { tasks.withLock { $0.count } }

    /// Waits until every streamed call has ended.
    func drain() async {
        while let next = tasks.withLock({ $0.first }) {
            await next.value.value
            _ = tasks.withLock { $0.removeValue(forKey: next.key) }
        }
    }
}
