import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Synchronization
import Testing

@Suite("Council over loopback", .timeLimit(.minutes(1)))
struct CouncilTests {
    typealias F = CouncilFixture

    @Test("A seat whose provider fails moves down the chain; the majority decides and the result says who answered")
    func memberFails() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekR1): .failing
                case F.gw(.kimiK2): .text("The answer is B")
                case F.gw(.mistralMedium3): .text("I pick b.")
                case F.gw(.deepseekV3): .text("Answer: A")
                default: nil
                }
            })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let council = Council(name: "trading", members: [.model(.deepseekR1), .model(.kimiK2), .model(.mistralMedium3)], extractor: .choiceLetter)
            let result = try await router.council(F.task(), council)
            #expect(result.answer == "B")
            #expect(result.decision == .majority)
            #expect(result.votes == ["B": 2, "A": 1])
            #expect(result.seats.map(\.status) == [.answered, .answered, .answered])
            // Seat 1 was reserved for R1 and answered on DeepSeek V3 (down the reasoning chain, past the seated K2 and Mistral).
            #expect(result.seats[0].model == .deepseekR1 && result.seats[0].record?.model == .deepseekV3)
            #expect(result.chosenSeat == 2)
            let byRole = try F.entries(ledger, group: "trade-1")
            #expect(byRole["member-1"]?.map(\.status) == [.released, .settled])
            #expect(byRole["member-1"]?.map(\.model) == ["deepseek-r1", "deepseek-v3"])
            #expect(byRole["member-2"]?.map(\.status) == [.settled] && byRole["member-3"]?.map(\.status) == [.settled])
            #expect(try F.openCount(ledger) == 0)
            let settled = try ledger.entries(status: .settled).compactMap(\.actualCost)
            #expect(result.cost == (try MicroDollars.sum(settled)))
            // The audit groups the council's calls.
            let audit = try ledger.audit(by: .council)
            #expect(audit.rows.map(\.group) == ["trading"])
            #expect(audit.rows.first?.calls == 3 && audit.rows.first?.spend == result.cost)
        }
    }

    @Test("First-k agreement stops early: the member still running is cancelled and its reservation released")
    func earlyAgreement() async throws {
        try await withLoopbackClient { server, client in
            let never = ScriptedResponse.Gate()
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekV3): .text("#### 1,250.00")
                case F.gw(.mistralMedium3): .text("so she makes $1250")
                case F.gw(.kimiK2): .gated(never, "#### 7")
                default: nil
                }
            })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let council = Council(
                name: "math", members: [.model(.kimiK2), .model(.deepseekV3), .model(.mistralMedium3)], aggregation: .firstAgreement(2),
                extractor: .finalNumber)
            let result = try await router.council(F.task(.complex), council)
            #expect(result.answer == "1250" && result.decision == .agreement)
            #expect(result.seats[0].status == .cancelled)
            #expect(result.seats[1].status == .answered && result.seats[2].status == .answered)
            let byRole = try F.entries(ledger, group: "trade-1")
            #expect(byRole["member-1"]?.map(\.status) == [.released])
            #expect(try F.openCount(ledger) == 0)
            #expect(result.cost == (try MicroDollars.sum(result.seats.map(\.cost))) && result.seats[0].cost == .zero)
            never.open()
        }
    }

    @Test("A council reserved as one unit: it sits with the seats that fit above its minimum, and is refused below it, holding nothing")
    func partialBudget() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { _, _ in .text("C") })
            // Opus's estimate ($0.055125) does not fit $0.01; Kimi's ($0.001407) and Mistral's ($0.00147) do.
            let ledger = try F.ledger(daily: .cents(1))
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let members: [Council.Member] = [.model(.claudeOpus), .model(.kimiK2), .model(.mistralMedium3)]
            let sat = try await router.council(F.task(id: "two-of-three"), Council(name: "t", members: members, minimumMembers: 2, extractor: .choiceLetter))
            #expect(sat.seats.map(\.status) == [.refused, .answered, .answered])
            #expect(sat.answer == "C" && sat.notes.contains { $0.contains("seat 1") })
            let seated = try F.entries(ledger, group: "two-of-three")
            #expect(seated["member-1"]?.map(\.status) == [.refused])

            let before = try await ledger.snapshot(at: Date())
            await #expect {
                _ = try await router.council(F.task(id: "all-three"), Council(name: "t", members: members, minimumMembers: 3, extractor: .choiceLetter))
            } throws: { e in
                guard let e = e as? RoutingError else { return false }
                return e.kind == .budgetExhausted && e.detail.contains("2 of 3") && e.detail.contains("needs 3")
            }
            let refused = try F.entries(ledger, group: "all-three")
            // One refusal recorded; no seat was ever held.
            #expect(refused.values.flatMap { $0 }.map(\.status) == [.refused])
            let after = try await ledger.snapshot(at: Date())
            #expect(after.daily.reserved == before.daily.reserved && after.daily.settled == before.daily.settled)
            #expect(try F.openCount(ledger) == 0)
        }
    }

    @Test("A cancelled caller leaves nothing open: seats in flight and the judge's reservation are released")
    func cancelledCaller() async throws {
        try await withLoopbackClient { server, client in
            let never = ScriptedResponse.Gate()
            server.setResponder(CouncilUpstream.responder { _, _ in .gated(never, "A") })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let council = Council(name: "j", members: [.model(.deepseekV3), .model(.mistralMedium3)], aggregation: .judge(.kimiK2), extractor: .choiceLetter)
            let call = Task { try await router.council(F.task(), council) }
            await server.waitForRequests(2)
            #expect(try F.openCount(ledger) == 3)
            call.cancel()
            await #expect(throws: CancellationError.self) { _ = try await call.value }
            #expect(try F.openCount(ledger) == 0)
            let byRole = try F.entries(ledger, group: "trade-1")
            #expect(byRole["judge"]?.map(\.status) == [.released])
            #expect(byRole["member-1"]?.map(\.status) == [.released] && byRole["member-2"]?.map(\.status) == [.released])
            never.open()
        }
    }

    @Test("A judge picks between disagreeing seats; when they agree it is not called and its reservation is released")
    func judge() async throws {
        try await withLoopbackClient { server, client in
            let agree = ManagedFlag()
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekV3): .text("#### 41")
                case F.gw(.mistralMedium3): .text(agree.value ? "#### 41" : "#### 42")
                case F.gw(.kimiK2): .text("Answer 2 is right.")
                default: nil
                }
            })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let council = Council(name: "j", members: [.model(.deepseekV3), .model(.mistralMedium3)], aggregation: .judge(.kimiK2), extractor: .finalNumber)
            let judged = try await router.council(F.task(id: "split"), council)
            #expect(judged.decision == .judge && judged.answer == "42" && judged.chosenSeat == 2)
            #expect(judged.judge?.status == .answered && (judged.judge?.cost ?? .zero) > .zero)
            let prompt = try #require(server.requests.last?.bodyText)
            #expect(prompt.contains("Answer 1") && prompt.contains("#### 41") && prompt.contains("#### 42"))
            #expect(judged.cost == (try MicroDollars.sum(judged.seats.map(\.cost) + [judged.judge!.cost])))

            agree.value = true
            let agreed = try await router.council(F.task(id: "same"), council)
            #expect(agreed.decision == .majority && agreed.answer == "41" && agreed.judge?.status == .notNeeded)
            #expect(try F.entries(ledger, group: "same")["judge"]?.map(\.status) == [.released])
            #expect(try F.openCount(ledger) == 0)
        }
    }

    @Test("A critical council seats the pinned model in every seat and is never refused for budget")
    func critical() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, _ in model == F.gw(.claudeOpus) ? .text("A") : nil })
            let ledger = try F.ledger(daily: MicroDollars(micros: 1))
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let council = Council(name: "execute", members: [.model(.kimiK2), .model(.deepseekR1), .tier(.simple)], extractor: .choiceLetter)
            let result = try await router.council(F.task(.critical), council)
            #expect(result.seats.allSatisfy { $0.model == .claudeOpus && $0.status == .answered })
            let entries = try ledger.entries(status: .settled)
            #expect(entries.count == 3 && entries.allSatisfy { $0.critical && $0.model == "claude-opus" })
        }
    }

    @Test("The default group reservation (ledgers without a transaction for it) releases a short group's holds")
    func defaultGroupReservation() async throws {
        let base = try F.ledger(daily: .cents(1))
        let ledger = ForwardingLedger(base: base)
        let profiles = [ModelID.kimiK2, .claudeOpus].map { TaskProfile(complexity: .reasoning, inputTokens: 1_000, maxOutputTokens: 500, model: $0) }
        let group = GroupReservation(requests: [ReservationRequest(requestID: "g/1"), ReservationRequest(requestID: "g/2")], minimum: 2)
        let selector = F.selector
        let outcome = try await ledger.reserveGroup(group, at: Date()) { i, s in selector.select(profiles[i], budget: s) }
        guard case .refused(_, _, _, let fitted) = outcome else {
            Issue.record("expected a refusal, got \(outcome)")
            return
        }
        #expect(fitted == 1)
        #expect(try base.entries().map(\.status) == [.released, .refused])
        #expect(try F.openCount(base) == 0)
    }
}

/// A ledger that forwards the four operations only, so the protocol's default group reservation runs.
struct ForwardingLedger: BudgetLedger {
    let base: SQLiteLedger
    var limits: BudgetLimits { base.limits }
    var calendar: BudgetCalendar { base.calendar }
    func reserve(_ request: ReservationRequest, at date: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws -> ReservationOutcome {
        try await base.reserve(request, at: date, choose: choose)
    }
    func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) async throws -> SettlementReceipt {
        try await base.settle(reservationID, settlement, at: date)
    }
    func release(_ reservationID: Int64, error: String?, at date: Date) async throws { try await base.release(reservationID, error: error, at: date) }
    func snapshot(at date: Date) async throws -> BudgetSnapshot { try await base.snapshot(at: date) }
}

/// A flag a responder reads and a test sets.
final class ManagedFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
