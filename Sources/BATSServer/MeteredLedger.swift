import Foundation
import ModelSelection
import SpendLedger

/// A ledger that times reservations and counts open ones for ``ServerMetrics``; everything else goes to the ledger it
/// wraps, unchanged.
struct MeteredLedger: BudgetLedger {
    let base: any BudgetLedger
    let metrics: ServerMetrics

    var limits: BudgetLimits { base.limits }
    var calendar: BudgetCalendar { base.calendar }

    func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome
    {
        let start = ContinuousClock.now
        let outcome = try await base.reserve(request, at: date, choose: choose)
        if case .reserved = outcome {
            metrics.reserved(after: ContinuousClock.now - start, opened: true)
        } else {
            metrics.reserved(after: ContinuousClock.now - start, opened: false)
        }
        return outcome
    }

    func reserveGroup(_ group: GroupReservation, at date: Date, choose: @escaping @Sendable (Int, BudgetSnapshot) -> Selection) async throws
        -> GroupReservationOutcome
    {
        let start = ContinuousClock.now
        let outcome = try await base.reserveGroup(group, at: date, choose: choose)
        let held = outcome.reservations.count
        for _ in 0..<max(1, held) { metrics.reserved(after: ContinuousClock.now - start, opened: held > 0) }
        return outcome
    }

    func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        let r = try await base.settle(reservationID, settlement, at: date)
        metrics.closed()
        return r
    }

    func release(_ reservationID: Int64, error: String?, at date: Date) async throws {
        try await base.release(reservationID, error: error, at: date)
        metrics.closed()
    }

    func snapshot(at date: Date) async throws -> BudgetSnapshot { try await base.snapshot(at: date) }
}
