import FleetLedger
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// A council's reservation as one unit, on every backend: all or enough seats held, or nothing held and one refusal.
@Suite("Group reservation conformance (SQLite and PostgreSQL)")
struct GroupConformanceTests {
    typealias F = LedgerFixture
    let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func group(_ models: [ModelID], minimum: Int, id: String) -> (GroupReservation, @Sendable (Int, BudgetSnapshot) -> Selection) {
        let profiles = models.map { TaskProfile(complexity: .reasoning, inputTokens: 1_000, maxOutputTokens: 500, model: $0) }
        let requests = models.indices.map { ReservationRequest(requestID: "\(id)/member-\($0 + 1)", tags: ["bats.group": id]) }
        let selector = F.selector
        return (GroupReservation(requests: requests, minimum: minimum), { i, s in selector.select(profiles[i], budget: s) })
    }

    @Test("A short group holds nothing and records one refusal; a group that fits holds every seat", arguments: LedgerBackend.all)
    func atomic(_ backend: LedgerBackend) async throws {
        // One cent a day: Kimi K2's reservation (~$0.0015) fits, Claude Opus's (~$0.055) never does.
        let u = try await LedgerUnderTest.make(backend, limits: .init(daily: .cents(1), monthly: nil), now: t0)
        let l = u.ledger
        let (short, chooseShort) = Self.group([.kimiK2, .claudeOpus], minimum: 2, id: "g1")
        guard case .refused(let selection, _, let entryID, let fitted) = try await l.reserveGroup(short, at: t0, choose: chooseShort) else {
            Issue.record("a group of K2 and Opus under one cent was not refused")
            return
        }
        #expect(fitted == 1 && selection.model == nil)
        // Rolled back as a whole: no released hold of K2's seat stays behind, only the refusal.
        let after = try await u.reports().entries()
        #expect(after.map(\.status) == [.refused] && after.first?.id == entryID)
        #expect(try await l.snapshot(at: t0).daily.reserved == .zero)

        let (fits, chooseFits) = Self.group([.kimiK2, .deepseekR1], minimum: 2, id: "g2")
        let held = try await l.reserveGroup(fits, at: t0, choose: chooseFits).reservations
        #expect(held.map(\.model) == [.kimiK2, .deepseekR1])
        #expect(try await l.snapshot(at: t0).daily.reserved == (try MicroDollars.sum(held.map(\.selection.estimate))))

        // A smaller council down to its minimum: the seat that does not fit is refused, the rest held.
        let (partial, choosePartial) = Self.group([.deepseekV3, .claudeOpus], minimum: 1, id: "g3")
        guard case .reserved(let outcomes) = try await l.reserveGroup(partial, at: t0, choose: choosePartial) else {
            Issue.record("a group with minimum 1 was refused")
            return
        }
        #expect(outcomes.map { if case .reserved = $0 { "held" } else { "refused" } } == ["held", "refused"])
        for r in held + F.reservations(outcomes) { try await l.release(r.id, error: nil, at: t0) }
        #expect(try await l.snapshot(at: t0).daily.reserved == .zero)
        try await u.expectInvariants()
        await u.close()
    }
}

extension LedgerFixture {
    /// The held reservations among `outcomes`.
    static func reservations(_ outcomes: [ReservationOutcome]) -> [Reservation] {
        outcomes.compactMap { if case .reserved(let r) = $0 { r } else { nil } }
    }
}
