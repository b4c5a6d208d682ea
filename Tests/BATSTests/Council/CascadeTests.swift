import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

@Suite("Cascade over loopback", .timeLimit(.minutes(1)))
struct CascadeTests {
    typealias F = CouncilFixture

    static let quote = try! JSONSchema(json: #"{"type":"object","required":["symbol","price"],"properties":{"symbol":{"type":"string"},"price":{"type":"number"}}}"#)

    static func task(_ tier: Complexity = .medium, id: String = "quote-1") -> RoutedTask {
        RoutedTask(
            complexity: tier, request: ChatRequest(messages: [.user("Parse: AAPL last 187.20. Reply as JSON {symbol, price}.")]),
            inputTokens: 1_000, maxOutputTokens: 500, tags: ["agent": "scanner"], requestID: id)
    }

    /// The settled spend of one group, from the ledger.
    static func spend(_ ledger: SQLiteLedger, group: String) throws -> MicroDollars {
        try MicroDollars.sum(try ledger.entries(status: .settled).filter { $0.tags[GroupTag.group] == group }.compactMap(\.actualCost))
    }

    @Test("A schema verifier escalates past a non-JSON answer and a schema break; every step is charged and tagged")
    func schemaEscalation() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekV3): .text("AAPL is at 187.20")
                case F.gw(.kimiK2): .text(#"{"symbol":"AAPL","price":"187.20"}"#)
                case F.gw(.claudeOpus): .text("```json\n{\"symbol\":\"AAPL\",\"price\":187.2}\n```")
                default: nil
                }
            })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let cascade = Cascade(name: "quotes", steps: [.deepseekV3, .kimiK2, .claudeOpus], verifier: .jsonSchema(Self.quote))
            let result = try await router.cascade(Self.task(), cascade)
            #expect(result.outcome == .accepted)
            #expect(result.path.map(\.model) == [.deepseekV3, .kimiK2, .claudeOpus])
            #expect(result.path.map { $0.verdict?.accepted } == [false, false, true])
            #expect(result.path[0].escalation?.contains("not JSON") == true)
            #expect(result.path[1].escalation?.contains("$.price") == true)
            #expect(result.path[2].escalation == nil)
            #expect(result.response.record.model == .claudeOpus)
            // Every attempt is charged: three settled calls, tagged with the group, the cascade and the step.
            let byRole = try F.entries(ledger, group: "quote-1")
            #expect(byRole.keys.sorted() == ["step-1", "step-2", "step-3"])
            #expect(byRole.values.allSatisfy { $0.map(\.status) == [.settled] && $0.first?.tags[GroupTag.council] == "quotes" })
            #expect(byRole["step-1"]?.first?.model == "deepseek-v3" && byRole["step-3"]?.first?.model == "claude-opus")
            #expect(result.cost == (try Self.spend(ledger, group: "quote-1")))
            #expect(result.cost == (try MicroDollars.sum(result.path.map(\.cost))))
            #expect(result.path.allSatisfy { $0.cost > .zero })
            #expect(try F.openCount(ledger) == 0)
            let audit = try ledger.audit(by: .council)
            #expect(audit.rows.map(\.group) == ["quotes"] && audit.rows.first?.calls == 3)
        }
    }

    @Test("A step the budget refuses ends the cascade with the answer so far, marked budget; nothing stays open")
    func budgetStop() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekV3): .text("not json")
                case F.gw(.claudeOpus): .text(#"{"symbol":"AAPL","price":187.2}"#)
                default: nil
                }
            })
            // $0.005 a day fits DeepSeek V3's reservation (~$0.001) and never Opus's (~$0.055).
            let daily = MicroDollars(micros: 5_000)
            let ledger = try F.ledger(daily: daily)
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let result = try await router.cascade(Self.task(), Cascade(name: "quotes", steps: [.deepseekV3, .claudeOpus], verifier: .json))
            #expect(result.outcome == .budget)
            #expect(result.response.record.model == .deepseekV3)
            #expect(result.path.count == 1)
            #expect(result.path[0].escalation?.contains("the budget refused the next step (claude-opus)") == true)
            #expect(server.requests.count == 1)
            let refused = try ledger.entries(status: .refused)
            #expect(refused.map { $0.tags[GroupTag.role] } == ["step-2"] && refused.first?.requestID == "quote-1/step-2")
            #expect(result.cost == (try Self.spend(ledger, group: "quote-1")) && result.cost <= daily)
            #expect(try F.openCount(ledger) == 0)
            // When not even the first step fits, the cascade is refused as a whole.
            await #expect(throws: RoutingError.self) {
                _ = try await router.cascade(Self.task(id: "quote-2"), Cascade(name: "quotes", steps: [.claudeOpus], verifier: .json))
            }
            #expect(try F.openCount(ledger) == 0)
        }
    }

    @Test("A judge verifier's calls are charged beside the steps; REJECT escalates, ACCEPT stops")
    func judgeVerifier() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, prompt in
                switch model {
                case F.gw(.deepseekV3): .text("price: 18.72")
                case F.gw(.kimiK2): .text("price: 187.20")
                case F.gw(.mistralMedium3):
                    prompt.contains("Answer:\nprice: 187.20") ? .text("ACCEPT\nIt matches the quote.") : .text("Reject. The decimal point moved; ACCEPT would be wrong.")
                default: nil
                }
            })
            let ledger = try F.ledger()
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let cascade = Cascade(name: "checked", steps: [.deepseekV3, .kimiK2], verifier: .judge(.mistralMedium3, criteria: "the price is the quoted one"))
            let result = try await router.cascade(Self.task(), cascade)
            #expect(result.outcome == .accepted)
            #expect(result.path.map { $0.verdict?.accepted } == [false, true])
            #expect(result.path[0].escalation?.contains("the judge (mistral-medium-3) said: REJECT") == true)
            #expect(result.path.allSatisfy { $0.verifierRecord?.model == .mistralMedium3 })
            let byRole = try F.entries(ledger, group: "quote-1")
            #expect(byRole.keys.sorted() == ["step-1", "step-2", "verifier-1", "verifier-2"])
            #expect(byRole["verifier-1"]?.map(\.model) == ["mistral-medium-3"] && byRole["verifier-2"]?.map(\.status) == [.settled])
            for step in result.path {
                let both = try MicroDollars.sum([step.record?.cost ?? .zero, step.verifierRecord?.cost ?? .zero])
                #expect(step.cost == both && step.verifierRecord?.cost ?? .zero > .zero)
            }
            #expect(result.cost == (try Self.spend(ledger, group: "quote-1")))
            #expect(try F.openCount(ledger) == 0)
        }
    }

    @Test("A failing provider escalates to the next step; a critical cascade is one call on the pinned model")
    func providerFailureAndCritical() async throws {
        try await withLoopbackClient { server, client in
            server.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case F.gw(.deepseekV3): .failing
                case F.gw(.mistralMedium3): .text("{}")
                case F.gw(.claudeOpus): .text("no json here")
                default: nil
                }
            })
            let ledger = try F.ledger(daily: MicroDollars(micros: 1))
            let router = Router(selector: F.selector, ledger: ledger, gateway: client)
            let free = try F.ledger()
            let open = Router(selector: F.selector, ledger: free, gateway: client)
            let result = try await open.cascade(Self.task(), Cascade(name: "c", steps: [.deepseekV3, .mistralMedium3], verifier: .json))
            #expect(result.outcome == .accepted && result.response.record.model == .mistralMedium3)
            #expect(result.path[0].record == nil && result.path[0].escalation?.contains("the provider failed") == true)
            #expect(result.path[0].cost == .zero)
            // Critical: pinned to Opus, one step, never refused by a budget of one micro-dollar, recorded.
            let critical = try await router.cascade(Self.task(.critical, id: "trade-9"), Cascade(name: "c", steps: [.deepseekV3, .mistralMedium3], verifier: .json))
            #expect(critical.path.map(\.model) == [.claudeOpus] && critical.outcome == .exhausted)
            #expect(critical.response.record.model == .claudeOpus && critical.cost > .zero)
            #expect(try ledger.entries(status: .settled).map(\.model) == ["claude-opus"])
            #expect(try F.openCount(ledger) == 0 && F.openCount(free) == 0)
        }
    }

    @Test("An invalid regular expression is a typed error naming it; a valid one accepts a matching answer")
    func regexVerifier() throws {
        #expect(throws: Verifier.InvalidPattern.self) { try Verifier.regex("([A-Z]+") }
        do {
            _ = try Verifier.regex("([A-Z]+")
        } catch {
            #expect(error.pattern == "([A-Z]+" && error.description.hasPrefix("invalid regular expression '([A-Z]+'"))
        }
        let v = try Verifier.regex(#"^[ABC]$"#)
        #expect(v.check(text: "B")?.accepted == true)
        #expect(v.check(text: "B, because")?.accepted == false)
        #expect(Verifier.json.check(text: "```json\n[1]\n```")?.accepted == true)
        #expect(Verifier.json.check(text: "[1")?.accepted == false)
    }
}
