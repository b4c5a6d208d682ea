import BATS

// The trade decision goes to a council: DeepSeek-R1 and Kimi K2 answer the same question at the reasoning tier,
// reserved together; when they disagree, Claude Opus (the judge) picks one. A cascade parses the quote first.
let selector = try ModelSelector(catalog: try ModelCatalog.bundled())
let ledger = try SQLiteLedger(
    path: "spend.sqlite", configuration: .init(limits: BudgetLimits(daily: .dollars(50), monthly: .dollars(1_000))))

let council = Council(
    name: "trade-decision",
    members: [.model(.deepseekR1), .model(.kimiK2)],
    minimumMembers: 2,                         // both or neither: a one-model "council" is refused
    aggregation: .judge(.claudeOpus),          // called only when the members disagree
    extractor: .jsonField("decision"))         // {"decision": "buy" | "sell" | "hold", ...}

let quote = try JSONSchema(json: #"{"type":"object","required":["symbol","bid","ask"],"properties":{"symbol":{"type":"string"},"bid":{"type":"number"},"ask":{"type":"number"}}}"#)
let parse = Cascade(name: "parse-quote", steps: [.deepseekV3, .mistralMedium3, .kimiK2], verifier: .jsonSchema(quote))

try await withGatewayClient(configuration: .fromEnvironment()) { client in
    let router = Router(selector: selector, ledger: ledger, gateway: client)
    let parsed = try await router.cascade(RoutedTask(
        complexity: .simple,
        request: ChatRequest(messages: [.user("As JSON {symbol, bid, ask}: AAPL 189.20/189.24")]),
        tags: ["agent": "scanner"]), parse)
    for step in parsed.path { print(step.model, step.cost, step.verdict?.reason ?? "-", step.escalation ?? "kept") }

    let decided = try await router.council(RoutedTask(
        complexity: .reasoning,
        request: ChatRequest(messages: [.user("Quote: \(parsed.response.response.text). Reply as JSON {\"decision\": buy|sell|hold, \"why\": …}")]),
        tags: ["agent": "trader"]), council)
    print(decided.answer ?? "no answer", decided.decision, decided.votes, decided.cost)
    for seat in decided.seats { print(seat.index, seat.model, seat.status, seat.cost) }
}
