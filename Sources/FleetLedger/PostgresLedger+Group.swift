public import Foundation
public import ModelSelection
public import SpendLedger

extension PostgresLedger {
    /// Reserves a council's members in one transaction: each is chosen against the totals the members before it left
    /// (on every host, under the ledger's row lock), and when the group falls short the transaction is rolled back and
    /// one refusal is recorded. No other caller, process or host ever sees part of the group held.
    /// - Parameters:
    ///   - group: The members and how many must fit.
    ///   - date: The moment of the call.
    ///   - choose: Member `index`'s pure selection, given the snapshot.
    /// - Returns: The members' outcomes, or the recorded refusal.
    /// - Throws: ``SpendLedger/LedgerError``.
    public func reserveGroup(
        _ group: GroupReservation, at date: Date, choose: @escaping @Sendable (_ index: Int, BudgetSnapshot) -> Selection
    ) async throws -> GroupReservationOutcome {
        let ledger = self
        do {
            let (outcomes, alerts) = try await write { c in
                var outcomes: [ReservationOutcome] = []
                var alerts: Set<String> = []
                for (i, request) in group.requests.enumerated() {
                    let (outcome, fired) = try await PostgresStore.hold(c, request, at: date, ledger: ledger, choose: { choose(i, $0) })
                    outcomes.append(outcome)
                    alerts.formUnion(fired)
                }
                let held = outcomes.map { if case .reserved = $0 { true } else { false } }
                guard group.isSatisfied(by: held) else {
                    // Rolled back: neither the holds nor the members' refusals stay.
                    let index = held.firstIndex(of: false) ?? 0
                    guard case .refused(let selection, let snapshot, _) = outcomes[index] else {
                        throw LedgerError(kind: .database, message: "the group fell short without a refusal")
                    }
                    throw GroupShortfall(index: index, selection: selection, snapshot: snapshot, fitted: held.count(where: { $0 }))
                }
                return (outcomes, alerts)
            }
            shared.alertsCommitted(alerts)
            return .reserved(outcomes)
        } catch let short as GroupShortfall {
            let outcome = try await reserve(group.requests[short.index], at: date, choose: { _ in short.selection })
            guard case .refused(_, _, let entryID) = outcome else {
                // A refusal's selection has no model, so this holds nothing; release it if it somehow did.
                if case .reserved(let r) = outcome { try await release(r.id, error: "group refusal", at: date) }
                throw LedgerError(kind: .database, message: "the group's refusal could not be recorded")
            }
            return .refused(short.selection, snapshot: short.snapshot, entryID: entryID, fitted: short.fitted)
        }
    }
}

/// Why a group's transaction was rolled back (passed through ``PostgresLedger``'s error mapping untouched).
struct GroupShortfall: Error {
    var index: Int
    var selection: Selection
    var snapshot: BudgetSnapshot
    var fitted: Int
}
