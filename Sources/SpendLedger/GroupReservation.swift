public import Foundation
public import ModelSelection

/// Several reservations that stand or fall together: the members of a council (and its judge).
///
/// ``BudgetLedger/reserveGroup(_:at:choose:)`` reserves the members in order, each chosen against the budget as the
/// members before it left it. When fewer than ``minimum`` members fit, or a ``mandatory`` one does not, nothing is
/// held and the refusal is recorded as one entry.
public struct GroupReservation: Sendable, Hashable {
    /// One request per member, in the order they are reserved.
    public var requests: [ReservationRequest]
    /// How many members must fit for the group to be reserved (at least 1).
    public var minimum: Int
    /// Members that must fit whatever the count (a council's judge).
    public var mandatory: Set<Int>

    /// Creates a group.
    /// - Parameters:
    ///   - requests: The members' requests, in order.
    ///   - minimum: How many must fit (clamped to 1 … `requests.count`).
    ///   - mandatory: The indices that must fit.
    public init(requests: [ReservationRequest], minimum: Int, mandatory: Set<Int> = []) {
        self.requests = requests
        self.minimum = min(max(1, minimum), max(1, requests.count))
        self.mandatory = mandatory
    }

    /// Whether these outcomes (one per member, `nil` for a member that did not fit) satisfy the group.
    public func isSatisfied(by reserved: [Bool]) -> Bool {
        reserved.count(where: { $0 }) >= minimum && mandatory.allSatisfy { $0 < reserved.count && reserved[$0] }
    }
}

/// What reserving a group gave.
public enum GroupReservationOutcome: Sendable, Hashable {
    /// The group was reserved: one outcome per member, in order; a member that did not fit is `.refused` (recorded).
    case reserved([ReservationOutcome])
    /// Too few members fit: nothing is held, and the refusal was recorded as the entry `entryID`.
    /// - `selection`: the first member's selection that did not fit; `fitted`: how many would have.
    case refused(Selection, snapshot: BudgetSnapshot, entryID: Int64, fitted: Int)

    /// The reservations held, in member order (empty for a refusal).
    public var reservations: [Reservation] {
        guard case .reserved(let outcomes) = self else { return [] }
        return outcomes.compactMap { if case .reserved(let r) = $0 { r } else { nil } }
    }
}

extension BudgetLedger {
    /// Reserves a group by reserving its members one after another and, when the group falls short, releasing those
    /// that were held.
    ///
    /// This default never passes a budget (each member is checked as usual) but is not isolated: another caller may
    /// see the partial hold for the moment it lasts. ``SQLiteLedger`` and `PostgresLedger` override it with one transaction.
    /// - Parameters:
    ///   - group: The members and how many must fit.
    ///   - date: The moment of the call.
    ///   - choose: The pure selection of member `index` given the budget as the members before it left it.
    /// - Returns: The members' reservations, or the recorded refusal.
    /// - Throws: ``LedgerError``.
    public func reserveGroup(
        _ group: GroupReservation, at date: Date, choose: @escaping @Sendable (_ index: Int, BudgetSnapshot) -> Selection
    ) async throws -> GroupReservationOutcome {
        var outcomes: [ReservationOutcome] = []
        do {
            for (i, request) in group.requests.enumerated() {
                outcomes.append(try await reserve(request, at: date, choose: { choose(i, $0) }))
            }
        } catch {
            for case .reserved(let r) in outcomes { try? await release(r.id, error: "the group's reservation failed: \(error)", at: date) }
            throw error
        }
        let held = outcomes.map { if case .reserved = $0 { true } else { false } }
        if group.isSatisfied(by: held) { return .reserved(outcomes) }
        let fitted = held.count(where: { $0 })
        for case .reserved(let r) in outcomes {
            try await release(r.id, error: "the group fell short: \(fitted) of \(group.requests.count) fit, \(group.minimum) needed", at: date)
        }
        for case .refused(let selection, let snapshot, let entryID) in outcomes {
            return .refused(selection, snapshot: snapshot, entryID: entryID, fitted: fitted)
        }
        // Unreachable: a short group has at least one refusal.
        throw LedgerError(kind: .invalidAmount, message: "the group fell short without a refusal")
    }
}

/// The tags BATS records on the entries of a council or cascade, so the audit can group them.
public enum GroupTag {
    /// The group's id (the caller's request id), shared by every member, judge and step.
    public static let group = "bats.group"
    /// The council's or cascade's name.
    public static let council = "bats.council"
    /// The role in the group: `member-1` … `member-N`, `judge`, `step-1` …, `verifier-1` ….
    public static let role = "bats.role"
}
