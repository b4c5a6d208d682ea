/// A clock that moves only when a test moves it, for tests that must neither sleep for real nor depend on timing.
///
/// A sleep on it stays suspended until ``advance(by:)`` or ``advance(to:)`` moves ``now`` to its deadline or past
/// it, or until its task is cancelled; a sleep until a deadline that has passed returns at once. Tests hand-shake
/// with the code under test instead of waiting: ``waitForSleeper(until:)`` suspends until something sleeps until a
/// given instant, then the test advances the clock.
///
/// ```swift
/// let clock = ManualClock()
/// try await withGatewayClient(configuration: configuration, clock: clock) { client in
///     async let reply = client.complete(request)          // the server answers 429 with Retry-After: 1, then 200
///     await clock.waitForSleeper(until: clock.now + .seconds(1))
///     clock.advance(by: .seconds(1))
///     _ = try await reply
/// }
/// ```
///
/// Written here rather than taken from pointfreeco/swift-clocks: its only release in the package mirror (1.1.1)
/// needs Swift tools 6.4, and its `TestClock.advance` lets sleepers run by yielding a number of times, not by a
/// handshake.
public final class ManualClock: Clock, Sendable {
    /// A point in time on a ``ManualClock``: the time since the clock's origin.
    public struct Instant: InstantProtocol, CustomStringConvertible {
        /// The time since the clock's origin.
        public var offset: Duration

        /// Creates an instant.
        /// - Parameter offset: The time since the clock's origin.
        public init(offset: Duration = .zero) { self.offset = offset }

        /// The instant `duration` later.
        /// - Parameter duration: The time to add.
        /// - Returns: The later (or, for a negative duration, earlier) instant.
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }

        /// The time from this instant to `other`.
        /// - Parameter other: Another instant.
        /// - Returns: The duration, negative when `other` is earlier.
        public func duration(to other: Instant) -> Duration { other.offset - offset }

        /// Whether `a` is earlier than `b`.
        public static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }

        /// The instant `duration` after `instant`.
        public static func + (instant: Instant, duration: Duration) -> Instant { instant.advanced(by: duration) }

        /// The instant `duration` before `instant`.
        public static func - (instant: Instant, duration: Duration) -> Instant { instant.advanced(by: .zero - duration) }

        /// The time from `b` to `a`.
        public static func - (a: Instant, b: Instant) -> Duration { b.duration(to: a) }

        /// The offset, such as `origin + 1.5 seconds`.
        public var description: String { "origin + \(offset)" }
    }

    struct Sleeper: Sendable {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State: Sendable {
        var now: Instant
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state: WaitableState<State>

    /// Creates a clock.
    /// - Parameter now: Its first reading (the origin by default).
    public init(now: Instant = Instant()) { state = WaitableState(State(now: now)) }

    /// The current time: it changes only by ``advance(by:)`` and ``advance(to:)``.
    public var now: Instant { state.withLock { $0.now } }

    /// Zero: any deadline can be slept until.
    public var minimumResolution: Duration { .zero }

    /// Suspends until the clock is advanced to `deadline` or past it; returns at once when it has passed.
    /// - Parameters:
    ///   - deadline: When to wake up.
    ///   - tolerance: Ignored.
    /// - Throws: `CancellationError` when the task is (or gets) cancelled.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        try Task.checkCancellation()
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case wait, wake, cancelled }
                // Cancellation is checked under the lock, which the handler below takes too (see WaitableState).
                let outcome = state.withLock { s -> Outcome in
                    if Task.isCancelled { return .cancelled }
                    if deadline <= s.now { return .wake }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return .wait
                }
                switch outcome {
                case .wait: break
                case .wake: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock forward by `duration`, waking every sleep whose deadline it reaches (earliest first).
    /// - Parameter duration: How far to move; a negative duration does nothing.
    public func advance(by duration: Duration) {
        let target = now.advanced(by: max(duration, .zero))
        advance(to: target)
    }

    /// Moves the clock to `instant`, waking every sleep whose deadline it reaches (earliest first).
    /// - Parameter instant: The new time; an instant earlier than ``now`` does nothing.
    public func advance(to instant: Instant) {
        let due = state.withLock { s -> [Sleeper] in
            guard instant > s.now else { return [] }
            s.now = instant
            let due = s.sleepers.filter { $0.value.deadline <= instant }
            for id in due.keys { s.sleepers[id] = nil }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// The deadlines of the sleeps now suspended, earliest first.
    public var pendingDeadlines: [Instant] { state.withLock { $0.sleepers.values.map(\.deadline).sorted() } }

    /// Suspends until something sleeps on this clock until exactly `deadline` (returns at once if something does).
    /// - Parameter deadline: The deadline to wait for, such as `clock.now + .seconds(1)` for a one-second sleep.
    /// - Important: Returns without the sleep when the waiting task is cancelled (a test's time limit, for one).
    public func waitForSleeper(until deadline: Instant) async {
        await state.wait { $0.sleepers.values.contains { $0.deadline == deadline } }
    }

    /// Suspends until at least `count` sleeps are suspended on this clock.
    /// - Parameter count: How many.
    /// - Important: Returns without them when the waiting task is cancelled.
    public func waitForSleepers(count: Int = 1) async {
        await state.wait { $0.sleepers.count >= count }
    }
}
