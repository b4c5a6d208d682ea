public import Foundation
public import ModelSelection

/// Where spend is recorded and budgets are enforced.
///
/// The embedded implementation is ``SQLiteLedger``; a shared PostgreSQL ledger for fleets can conform too.
/// Each method is one atomic transaction.
public protocol BudgetLedger: Sendable {
    /// The limits this ledger enforces.
    var limits: BudgetLimits { get }
    /// The calendar its windows follow.
    var calendar: BudgetCalendar { get }

    /// Reads the windows containing `date`, lets `choose` pick a model from them, and reserves its estimate,
    /// all in one transaction, so two callers can never both take the last dollar.
    ///
    /// A non-critical choice must fit `limit − settled − reserved` in both windows or the ledger refuses it
    /// (``LedgerError/Kind/wouldExceedBudget``). A critical choice is reserved whatever the totals.
    /// A refusal from `choose` is recorded as a `refused` entry.
    /// - Parameters:
    ///   - request: Request id, attempt, task kind, tags.
    ///   - date: The moment of the call (the clock is injected).
    ///   - choose: The pure selection, given the budget snapshot.
    /// - Returns: The reservation, or the recorded refusal.
    /// - Throws: ``LedgerError``.
    func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws
        -> ReservationOutcome

    /// Reserves several members as one unit (a council): each chosen against the budget as the members before it left
    /// it; when the group falls short of its minimum, nothing is held and one refusal is recorded.
    ///
    /// A default (member by member, releasing on a shortfall) is provided; ``SQLiteLedger`` does it in one transaction.
    /// - Parameters:
    ///   - group: The members' requests and how many must fit.
    ///   - date: The moment of the call.
    ///   - choose: The pure selection of member `index`, given the snapshot.
    /// - Returns: Each member's outcome, or the group's recorded refusal.
    /// - Throws: ``LedgerError``.
    func reserveGroup(_ group: GroupReservation, at date: Date, choose: @escaping @Sendable (_ index: Int, BudgetSnapshot) -> Selection)
        async throws -> GroupReservationOutcome

    /// Records what a reserved call actually used; totals follow the actual cost.
    /// - Returns: What was recorded (the whole entry is not read back).
    /// - Throws: ``LedgerError`` (`unknownReservation`, `alreadyFinished`).
    func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt

    /// Frees a reservation whose call failed or was cancelled.
    /// - Throws: ``LedgerError`` (`unknownReservation`, `alreadyFinished`).
    func release(_ reservationID: Int64, error: String?, at date: Date) async throws

    /// The windows containing `date`, after reclaiming expired reservations.
    func snapshot(at date: Date) async throws -> BudgetSnapshot
}
