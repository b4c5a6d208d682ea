import BATS

let selector = try ModelSelector(catalog: try ModelCatalog.bundled())
let ledger = try SQLiteLedger(
    path: "spend.sqlite",
    configuration: .init(limits: BudgetLimits(daily: .dollars(50), monthly: .dollars(1_000)),
                         calendar: try BudgetCalendar(timeZoneIdentifier: "America/New_York")))
// TARS by default; LLM_GATEWAY_BASE_URL / TARS_API_BASE and LLM_GATEWAY_API_KEY / TARS_API_KEY / TETRATE_API_KEY apply.
let gateway = GatewayClient.Configuration.fromEnvironment()

try await withGatewayClient(configuration: gateway) { client in
    let router = Router(selector: selector, ledger: ledger, gateway: client)
    let reply = try await router.complete(RoutedTask(
        kind: "parse_market_data",                       // → simple → DeepSeek V3
        request: ChatRequest(messages: [.user("Extract bid/ask from: AAPL 189.20/189.24")]),
        tags: ["agent": "scanner"]))
    print(reply.response.text, reply.record.model, reply.record.reason, reply.record.cost)

    // Embeddings and images go through the same budget, each with one fixed catalog model.
    let vectors = try await router.embed(
        EmbeddingsRequest(model: "text-embedding-3-small", input: .batch(["AAPL beats", "MSFT misses"])),
        tags: ["agent": "news"])
    let chart = try await router.generateImages(ImageGenerationRequest(model: "gpt-image-1", prompt: "AAPL 5-day chart"))
    print(vectors.record.cost, chart.record.images, chart.record.cost)
}
