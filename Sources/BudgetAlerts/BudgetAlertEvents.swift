public import Foundation
public import SpendLedger

/// The budget alerts of a ledger as they fire, from any process sharing it: an `AsyncSequence` that polls the ledger
/// for alerts after the last one it yielded.
public struct BudgetAlertEvents: AsyncSequence, Sendable {
    /// The element.
    public typealias Element = BudgetAlert

    let ledger: any BudgetAlertStore
    let afterID: Int64
    let pollInterval: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    /// Creates the sequence.
    /// - Parameters:
    ///   - ledger: The ledger.
    ///   - afterID: Yield alerts with a larger id (0: every alert recorded, then the new ones).
    ///   - pollInterval: How often the ledger is read while nothing is new.
    ///   - sleep: How to wait (injected in tests).
    public init(
        ledger: any BudgetAlertStore, afterID: Int64 = 0, pollInterval: Duration = .milliseconds(500),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.ledger = ledger
        self.afterID = afterID
        self.pollInterval = pollInterval
        self.sleep = sleep
    }

    /// The iterator: ends when its task is cancelled.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let events: BudgetAlertEvents
        var last: Int64
        var buffer: [BudgetAlert] = []

        /// The next alert, waiting for one; `nil` once cancelled.
        public mutating func next() async throws -> BudgetAlert? {
            while buffer.isEmpty {
                if Task.isCancelled { return nil }
                buffer = try await events.ledger.alerts(afterID: last, limit: 100)
                if buffer.isEmpty {
                    do { try await events.sleep(events.pollInterval) } catch { return nil }
                }
            }
            let a = buffer.removeFirst()
            last = a.id
            return a
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(events: self, last: afterID) }
}
