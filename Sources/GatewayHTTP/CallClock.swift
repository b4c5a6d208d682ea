/// The clock a ``GatewayClient`` reads and sleeps on for the time it owns: retry delays (backoff, Retry-After) and
/// the deadlines it computes (the call's deadline, an attempt's timeout, body and stream reads).
///
/// It erases the injected `Clock` so that deadlines can be stored and passed around without a generic parameter:
/// its instants are durations since the clock's reading when the client was made.
struct CallClock: Sendable {
    /// A point in time on the client's clock.
    struct Instant: Comparable, Sendable {
        /// The time since the clock's origin.
        fileprivate var offset: Duration

        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }

        static func + (instant: Instant, duration: Duration) -> Instant { Instant(offset: instant.offset + duration) }

        /// The time from this instant to `other` (negative when `other` is earlier).
        func duration(to other: Instant) -> Duration { other.offset - offset }
    }

    private let read: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    /// Wraps `clock`, taking its current reading as the origin.
    init<C: Clock<Duration>>(_ clock: C) {
        let origin = clock.now
        read = { origin.duration(to: clock.now) }
        sleeper = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
    }

    /// The current time.
    var now: Instant { Instant(offset: read()) }

    /// Suspends until `deadline` (at once when it has passed).
    /// - Throws: `CancellationError` when the task is cancelled.
    func sleep(until deadline: Instant) async throws {
        try await sleeper(deadline.offset)
    }
}
