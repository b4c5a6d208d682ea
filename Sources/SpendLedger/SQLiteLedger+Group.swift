public import Foundation
import GRDB
public import ModelSelection

extension SQLiteLedger {
    /// Reserves a council's members in one transaction: each is chosen against the totals the members before it left,
    /// and when the group falls short, the transaction is rolled back and one refusal is recorded. No other caller
    /// ever sees part of the group held.
    /// - Parameters:
    ///   - group: The members and how many must fit.
    ///   - date: The moment of the call.
    ///   - choose: Member `index`'s pure selection, given the snapshot.
    /// - Returns: The members' outcomes, or the recorded refusal.
    /// - Throws: ``LedgerError``.
    public func reserveGroup(
        _ group: GroupReservation, at date: Date, choose: @escaping @Sendable (_ index: Int, BudgetSnapshot) -> Selection
    ) async throws -> GroupReservationOutcome {
        let expiring = windowCache.shouldCheckExpired(at: date) ? openReservations : nil
        let ledger = self
        do {
            let outcomes = try await submit { db, cache in
                var outcomes: [ReservationOutcome] = []
                for (i, request) in group.requests.enumerated() {
                    outcomes.append(
                        try LedgerStore.reserve(
                            db, request, at: date, windows: { try ledger.windows(for: date, zone: $0) }, configuration: ledger.configuration,
                            context: ledger.storeContext, expiring: i == 0 ? expiring : nil, cache: &cache, choose: { choose(i, $0) }))
                }
                let held = outcomes.map { if case .reserved = $0 { true } else { false } }
                guard group.isSatisfied(by: held) else {
                    // Rolled back with the savepoint: neither the holds nor the members' refusals stay.
                    let index = held.firstIndex(of: false) ?? 0
                    guard case .refused(let selection, let snapshot, _) = outcomes[index] else { throw GroupShortfall.none }
                    throw GroupShortfall.short(index: index, selection: selection, snapshot: snapshot, fitted: held.count(where: { $0 }))
                }
                return outcomes
            }
            return .reserved(outcomes)
        } catch GroupShortfall.short(let index, let selection, let snapshot, let fitted) {
            let outcome = try await reserve(group.requests[index], at: date, choose: { _ in selection })
            guard case .refused(_, _, let entryID) = outcome else {
                // A refusal's selection has no model, so this cannot hold anything; release it if it somehow did.
                if case .reserved(let r) = outcome { try await release(r.id, error: "group refusal", at: date) }
                throw LedgerError(kind: .database, path: path, message: "the group's refusal could not be recorded")
            }
            return .refused(selection, snapshot: snapshot, entryID: entryID, fitted: fitted)
        }
    }
}

/// Why a group's transaction was rolled back.
private enum GroupShortfall: Error {
    case short(index: Int, selection: Selection, snapshot: BudgetSnapshot, fitted: Int)
    case none
}
