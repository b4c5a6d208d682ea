import Foundation
import Synchronization

/// A busy handler that retries with short, jittered sleeps (50 µs growing by 10 µs a try to 1 ms, plus up to 200 µs
/// of jitter) until a deadline, instead of SQLite's default growing sleeps, so no process starves behind the others.
///
/// One start time is kept per handler; in WAL mode only the single writer connection of a process waits here.
final class FairBusyHandler: Sendable {
    let timeout: Duration
    private let episodeStart = Mutex(ContinuousClock.now)

    init(timeout: Duration) { self.timeout = timeout }

    var callback: @Sendable (Int) -> Bool { { [self] tries in handle(tries) } }

    func handle(_ tries: Int) -> Bool {
        let now = ContinuousClock.now
        let elapsed = episodeStart.withLock { start in
            if tries == 0 { start = now }
            return now - start
        }
        if elapsed >= timeout { return false }
        usleep(UInt32(min(1_000, 50 + tries * 10) + Int.random(in: 0...200)))
        return true
    }
}
