import Foundation
import Histogram
import ModelSelection
import SpendLedger
import Synchronization

/// A ledger that forwards to another and records how long each reservation took (in-process queueing, SQLite's
/// write lock and the transaction itself).
struct TimedLedger: BudgetLedger {
    final class Samples: Sendable {
        let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .two))
        let maximum = Mutex<Int64>(0)
    }

    let base: any BudgetLedger
    let samples = Samples()
    private let clock = ContinuousClock()

    init(_ base: any BudgetLedger) { self.base = base }

    var limits: BudgetLimits { base.limits }
    var calendar: BudgetCalendar { base.calendar }

    func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        let start = clock.now
        defer {
            let c = (clock.now - start).components
            let nanos = c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
            samples.histogram.withLock { _ = $0.record(UInt64(max(0, nanos))) }
            samples.maximum.withLock { $0 = max($0, nanos) }
        }
        return try await base.reserve(request, at: date, choose: choose)
    }

    func reserveGroup(_ group: GroupReservation, at date: Date, choose: @escaping @Sendable (Int, BudgetSnapshot) -> Selection) async throws
        -> GroupReservationOutcome
    {
        try await base.reserveGroup(group, at: date, choose: choose)
    }

    func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        try await base.settle(reservationID, settlement, at: date)
    }

    func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        try await base.release(reservationID, error: error, at: date)
    }

    func snapshot(at date: Date) async throws -> BudgetSnapshot { try await base.snapshot(at: date) }
}
