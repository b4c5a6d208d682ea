import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

/// Settlement prices every part of the usage a provider reports, through the real router and HTTP client against
/// the loopback gateway; the audit shows the cached share of input and what the cache saved.
@Suite("Cached and reasoning tokens settled at their own prices")
struct CachedSettlementTests {
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// A chat completion whose `usage` is `usage` (a JSON object).
    static func reply(model: String, usage: String) -> String {
        #"{"id":"c1","object":"chat.completion","model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":\#(usage)}"#
    }

    func route(_ task: RoutedTask, reply: String) async throws -> (RouteRecord, SQLiteLedger) {
        try await withLoopbackClient { server, client in
            server.enqueue(.json(reply))
            let ledger = try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: .dollars(10), monthly: .dollars(100))), now: Self.t0)
            let router = Router(selector: LedgerFixture.selector, ledger: ledger, gateway: client, now: { Self.t0 })
            return (try await router.complete(task).record, ledger)
        }
    }

    func task(_ kind: String, input: Int, output: Int, model: String? = nil) -> RoutedTask {
        RoutedTask(kind: kind, request: ChatRequest(messages: [.user("quote AAPL")]), inputTokens: input, maxOutputTokens: output, model: model)
    }

    @Test("OpenAI-style cached_tokens are billed at DeepSeek's cache-hit price, the rest of the prompt at the input price")
    func openAIStyleCachedTokens() async throws {
        let usage = #"{"prompt_tokens":10000,"completion_tokens":200,"total_tokens":10200,"prompt_tokens_details":{"cached_tokens":8000}}"#
        let (record, ledger) = try await route(task("parse_market_data", input: 10_000, output: 200), reply: Self.reply(model: "deepseek-chat", usage: usage))
        #expect(record.model == .deepseekV3 && !record.usageEstimated)
        // (2,000 × $0.30 + 8,000 × $0.078 + 200 × $1.20) / 1M × 1.05 = $0.0015372, rounded up to 1,538 µ$.
        #expect(record.cost == MicroDollars(micros: 1_538))
        // Without the cache the same call costs 3,402 µ$.
        #expect(LedgerFixture.catalog.cost(of: .deepseekV3, inputTokens: 10_000, outputTokens: 200) == MicroDollars(micros: 3_402))
        let entry = try #require(try ledger.entry(id: record.entryID))
        #expect(entry.status == .settled && entry.cachedInputTokens == 8_000 && entry.actualCost == MicroDollars(micros: 1_538))
        #expect(entry.flags.isEmpty)
    }

    @Test(
        "Anthropic-style cache reads and writes are billed at Opus's cache prices, passed through or native, counted once",
        arguments: [
            // An OpenAI-compatible gateway passing them through (LiteLLM): part of prompt_tokens, cached_tokens equal.
            #"{"prompt_tokens":3000,"completion_tokens":100,"total_tokens":3100,"prompt_tokens_details":{"cached_tokens":2000},"cache_read_input_tokens":2000,"cache_creation_input_tokens":500}"#,
            // The same without cached_tokens.
            #"{"prompt_tokens":3000,"completion_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":500}"#,
            // Anthropic's own shape: input_tokens leaves the cache reads and writes out.
            #"{"input_tokens":500,"output_tokens":100,"cache_read_input_tokens":2000,"cache_creation_input_tokens":500}"#,
        ])
    func anthropicStyleCache(usage: String) async throws {
        let (record, ledger) = try await route(task("execute_trade", input: 3_000, output: 100), reply: Self.reply(model: "claude-opus-4-1", usage: usage))
        #expect(record.model == .claudeOpus && !record.usageEstimated)
        #expect(record.usage.promptTokens == 3_000 && record.usage.cachedPromptTokens == 2_000 && record.usage.cacheWritePromptTokens == 500)
        // (500 × $15 + 2,000 × $1.50 + 500 × $18.75 + 100 × $75) / 1M × 1.05 = $0.02874375, rounded up to 28,744 µ$.
        #expect(record.cost == MicroDollars(micros: 28_744))
        let entry = try #require(try ledger.entry(id: record.entryID))
        #expect(entry.cachedInputTokens == 2_000 && entry.actualInputTokens == 3_000 && entry.flags.isEmpty)
    }

    @Test("Reasoning tokens are part of the completion: billed once, at the output price")
    func reasoningNotDoubleCounted() async throws {
        let usage = #"{"prompt_tokens":1000,"completion_tokens":3000,"total_tokens":4000,"completion_tokens_details":{"reasoning_tokens":2500}}"#
        let (record, _) = try await route(
            task("analyze_technicals", input: 1_000, output: 4_000, model: "deepseek-r1"), reply: Self.reply(model: "deepseek-reasoner", usage: usage))
        #expect(record.model == .deepseekR1 && record.usage.reasoningTokens == 2_500)
        // (1,000 × $0.70 + 3,000 × $2.50) / 1M × 1.05 = 8,610 µ$; counting the 2,500 again would add 6,563 µ$.
        #expect(record.cost == MicroDollars(micros: 8_610))
    }

    @Test("Cache counts that contradict the prompt are not trusted: the call settles at its estimate, flagged")
    func contradictoryCacheCounts() async throws {
        let usage = #"{"prompt_tokens":1000,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":900},"cache_read_input_tokens":800}"#
        let (record, ledger) = try await route(task("parse_market_data", input: 1_000, output: 10), reply: Self.reply(model: "deepseek-chat", usage: usage))
        let entry = try #require(try ledger.entry(id: record.entryID))
        #expect(entry.flags.contains(.usageSuspect) && record.cost == entry.estimatedCost)
    }

    // MARK: - Audit

    @Test("The audit shows the cached share of input and what the cache saved, exactly, per row and in total")
    func auditCachedShareAndSavings() throws {
        let l = try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: .dollars(10), monthly: .dollars(100))), now: Self.t0)
        func settle(_ tier: Complexity, input: Int, cached: Int) throws {
            let r = try #require(LedgerFixture.reservation(try LedgerFixture.reserve(l, tier, at: Self.t0)))
            _ = try l.settleNow(r.id, Settlement(inputTokens: input, outputTokens: 10, cachedInputTokens: cached, cost: .cents(1)), at: Self.t0)
        }
        try settle(.simple, input: 10_000, cached: 8_000)  // DeepSeek V3
        try settle(.critical, input: 3_000, cached: 2_000)  // Claude Opus
        try settle(.complex, input: 2_000, cached: 1_000)  // Kimi K2: no cached price, so nothing saved
        var byModel = try l.audit(by: .model)
        try byModel.priceCacheSavings(with: LedgerFixture.catalog)
        func row(_ id: String) throws -> AuditRow { try #require(byModel.rows.first { $0.group == id }) }
        // 8,000 × ($0.30 − $0.078) / 1M × 1.05 = $0.0018648, rounded down to 1,864 µ$.
        #expect(try row("deepseek-v3").cacheSavings == MicroDollars(micros: 1_864) && row("deepseek-v3").cachedInputShare == 0.8)
        // 2,000 × ($15 − $1.50) / 1M × 1.05 = 28,350 µ$.
        #expect(try row("claude-opus").cacheSavings == MicroDollars(micros: 28_350))
        #expect(try row("kimi-k2").cacheSavings == .zero && row("kimi-k2").cachedInputTokens == 1_000)
        #expect(byModel.totals.cachedInputTokens == 11_000 && byModel.totals.inputTokens == 15_000)
        #expect(byModel.totals.cacheSavings == MicroDollars(micros: 30_214))

        var byDay = try l.audit(by: .day)
        #expect(byDay.rows.first?.cacheSavings == nil)  // not priced until a catalog prices it
        try byDay.priceCacheSavings(with: LedgerFixture.catalog)
        // One row, three models: 1,864.8 + 28,350 + 0 µ$ summed exactly, then rounded down once.
        #expect(byDay.rows.count == 1 && byDay.rows[0].cacheSavings == MicroDollars(micros: 30_214))
        #expect(byDay.rows[0].cachedInputTokens == 11_000 && byDay.rows[0].cachedInputShare == 11_000.0 / 15_000.0)
    }

    @Test("bats audit prints the cached share and what the cache saved, in the table, the CSV and the JSON")
    func auditCommandShowsCache() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("spend.sqlite").path
        let usage = #"{"prompt_tokens":10000,"completion_tokens":200,"prompt_tokens_details":{"cached_tokens":8000}}"#
        try await withLoopbackClient { server, client in
            server.enqueue(.json(Self.reply(model: "deepseek-chat", usage: usage)))
            let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(5), monthly: .dollars(50))))
            let r = Router(selector: LedgerFixture.selector, ledger: l, gateway: client)
            _ = try await r.complete(task("parse_market_data", input: 10_000, output: 200))
        }
        let json = try BATSBinary.run(["audit", "--ledger", path, "--by", "model", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let row = try #require((object["rows"] as? [[String: Any]])?.first { $0["group"] as? String == "deepseek-v3" })
        #expect(row["cached_input_tokens"] as? Int == 8_000)
        #expect((row["cached_input_share"] as? NSNumber)?.decimalValue == Decimal(string: "0.8"))
        #expect((row["cache_saved_usd"] as? NSNumber)?.decimalValue == Decimal(string: "0.001864"))
        let csv = try BATSBinary.run(["audit", "--ledger", path, "--by", "model", "--format", "csv"])
        #expect(csv.stdout.contains("cached_input_tokens,cached_input_share,cache_saved_usd"))
        #expect(csv.stdout.contains(",8000,0.8000,0.001864"))
        let table = try BATSBinary.run(["audit", "--ledger", path, "--by", "model"])
        #expect(table.stdout.contains("cached input: 80.0%, cache saved $0.0019"), "\(table.stdout)")
    }
}
