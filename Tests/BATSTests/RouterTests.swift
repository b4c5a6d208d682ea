import BATS
import BATSTestSupport
import Foundation
import Gateway
import ModelSelection
import SpendLedger
import Synchronization
import Testing

@Suite("Router")
struct RouterTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    /// Usage equal to what was reserved: 1,000 prompt tokens, the full completion cap.
    static let exactUsage: @Sendable (ChatRequest) -> Usage? = { Usage(promptTokens: 1_000, completionTokens: $0.maxTokens ?? 0) }

    func router(_ gateway: any ChatGateway, daily: MicroDollars?, monthly: MicroDollars? = nil) throws -> (Router, SQLiteLedger) {
        let ledger = try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: daily, monthly: monthly)), now: Self.t0)
        return (Router(selector: F.selector, ledger: ledger, gateway: gateway, now: { Self.t0 }), ledger)
    }

    func task(_ kind: String? = nil, tier: Complexity? = nil, id: String? = nil) -> RoutedTask {
        RoutedTask(kind: kind, complexity: tier, request: ChatRequest(messages: [.user("quote AAPL")]), inputTokens: 1_000, maxOutputTokens: 500, requestID: id)
    }

    @Test("A routed call reserves, calls the gateway with the gateway id and cap, and settles at the reported usage")
    func happyPath() async throws {
        let gw = ScriptedGateway(usage: { _ in Usage(promptTokens: 800, completionTokens: 120, cachedPromptTokens: 100) })
        let (r, ledger) = try router(gw, daily: .dollars(1))
        let out = try await r.complete(task("parse_market_data"))
        #expect(out.record.model == .deepseekV3 && out.record.reason == .preferred && out.record.tier == .simple)
        #expect(gw.requests.first?.model == "deepseek-chat" && gw.requests.first?.maxTokens == 500)
        // The 100 cached prompt tokens at the cache-hit price, the other 700 at the input price.
        let v3 = try #require(F.catalog.model(.deepseekV3))
        let expected = try F.catalog.cost(of: v3, BillableUsage(inputTokens: 700, cacheReadTokens: 100, outputTokens: 120))
        #expect(expected < F.catalog.cost(of: .deepseekV3, inputTokens: 800, outputTokens: 120)!)
        #expect(out.record.cost == expected && !out.record.usageEstimated)
        let e = try #require(try ledger.entry(id: out.record.entryID))
        #expect(e.status == .settled && e.cachedInputTokens == 100 && e.taskKind == "parse_market_data")
        #expect(try ledger.snapshotNow(at: Self.t0).daily.settled == expected)
    }

    @Test("500 concurrent routes against a budget that fits 50: spend ends at or under the limit, nothing left reserved")
    func concurrency() async throws {
        let gw = ScriptedGateway { req in
            try await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
            return ChatResponse(id: "x", model: req.model, choices: [.init(message: .assistant("ok"))], usage: Self.exactUsage(req))
        }
        let perCall = F.catalog.cost(of: .deepseekV3, inputTokens: 1_000, outputTokens: 500)!
        let limit = perCall * 50
        let (r, ledger) = try router(gw, daily: limit, monthly: .dollars(1_000))
        let results = await withTaskGroup(of: Result<RouteRecord, any Error>.self) { group in
            for i in 0..<500 {
                group.addTask {
                    do { return .success(try await r.complete(task(tier: .simple, id: "c\(i)")).record) } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let ok = results.filter { if case .success = $0 { true } else { false } }.count
        let refused = results.filter {
            if case .failure(let e) = $0, let re = e as? RoutingError, re.kind == .budgetExhausted { true } else { false }
        }.count
        #expect(ok == 50)
        #expect(refused == 450)
        let s = try ledger.snapshotNow(at: Self.t0)
        #expect(s.daily.settled <= limit && s.daily.settled == perCall * 50)
        #expect(s.daily.reserved == .zero)
        #expect(try ledger.entries(status: .reserved).isEmpty)
    }

    @Test("CRITICAL runs on Opus with both budgets at zero, and is recorded")
    func criticalAtZero() async throws {
        let gw = ScriptedGateway(usage: Self.exactUsage)
        let (r, ledger) = try router(gw, daily: .zero, monthly: .zero)
        await #expect(throws: RoutingError.self) { try await r.complete(task("parse_market_data")) }
        let out = try await r.complete(task("execute_trade"))
        #expect(out.record.model == .claudeOpus && out.record.reason == .pinnedCritical && out.record.exceedsDailyLimit)
        #expect(gw.requests.last?.model == "claude-opus-4-1")
        let e = try #require(try ledger.entry(id: out.record.entryID))
        #expect(e.critical && e.overLimit && e.status == .settled)
    }

    @Test("A provider failure releases the reservation and falls to the next model")
    func fallback() async throws {
        let gw = ScriptedGateway { req in
            if req.model == "mistral-medium-2505" { throw GatewayError(kind: .server, status: 503, model: req.model) }
            return ChatResponse(id: "x", model: req.model, choices: [.init(message: .assistant("ok"))], usage: Self.exactUsage(req))
        }
        let (r, ledger) = try router(gw, daily: .dollars(1))
        let out = try await r.complete(task("analyze_technicals"))
        #expect(out.record.model == .deepseekV3 && out.record.reason == .downgradedForProviderFailure)
        #expect(out.record.attempts.count == 2 && out.record.attempts[0].error?.contains("503") == true)
        #expect(try ledger.entry(id: out.record.attempts[0].entryID)?.status == .released)
        #expect(try ledger.snapshotNow(at: Self.t0).daily.reserved == .zero)
    }

    @Test("CRITICAL retries Opus and never downgrades")
    func criticalRetries() async throws {
        let failures = Mutex(2)
        let gw = ScriptedGateway { req in
            if failures.withLock({ n in n -= 1; return n >= 0 }) { throw GatewayError(kind: .rateLimited, status: 429) }
            return ChatResponse(id: "x", model: req.model, choices: [.init(message: .assistant("done"))], usage: Self.exactUsage(req))
        }
        let (r, _) = try router(gw, daily: .dollars(100))
        let out = try await r.complete(task("execute_trade"))
        #expect(out.record.model == .claudeOpus && out.record.attempts.count == 3)
        #expect(gw.requests.allSatisfy { $0.model == "claude-opus-4-1" })

        let down = ScriptedGateway { _ in throw GatewayError(kind: .server, status: 500) }
        let (r2, ledger2) = try router(down, daily: .dollars(100))
        await #expect { try await r2.complete(task("execute_trade")) } throws: { ($0 as? RoutingError)?.kind == .allProvidersFailed }
        #expect(down.requests.count == 3 && down.requests.allSatisfy { $0.model == "claude-opus-4-1" })
        #expect(try ledger2.entries(status: .released).count == 3)
    }

    @Test("Errors another model would not fix end the call at once; the reservation is released")
    func authentication() async throws {
        let gw = ScriptedGateway { _ in throw GatewayError(kind: .authentication, status: 401) }
        let (r, ledger) = try router(gw, daily: .dollars(1))
        await #expect { try await r.complete(task("options_structure")) } throws: { ($0 as? RoutingError)?.kind == .gatewayFailed }
        #expect(gw.requests.count == 1)
        #expect(try ledger.entries(status: .released).count == 1)
    }

    @Test("Cancelling the caller's task releases its reservation")
    func cancellation() async throws {
        let gw = ScriptedGateway { _ in
            try await Task.sleep(for: .seconds(30))
            return ChatResponse(id: "x", model: "m", choices: [], usage: nil)
        }
        let (r, ledger) = try router(gw, daily: .dollars(1))
        let call = Task { try await r.complete(task("parse_market_data")) }
        while try ledger.entries(status: .reserved).isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(try ledger.entries(status: .reserved).isEmpty)
        #expect(try ledger.entries(status: .released).count == 1)
        #expect(try ledger.snapshotNow(at: Self.t0).daily.reserved == .zero)
    }

    @Test("A task with neither kind nor tier, or a rejected unknown kind, is an invalid task")
    func invalidTask() async throws {
        let (r, _) = try router(ScriptedGateway(usage: Self.exactUsage), daily: nil)
        await #expect { try await r.complete(task()) } throws: { ($0 as? RoutingError)?.kind == .invalidTask }
        let strict = Router(
            selector: try ModelSelector(catalog: F.catalog, configuration: .init(unknownTask: .reject)),
            ledger: try SQLiteLedger.inMemory(), gateway: ScriptedGateway(usage: Self.exactUsage))
        await #expect { try await strict.complete(task("astrology")) } throws: { "\($0)".contains("astrology") }
        let out = try await r.complete(task("astrology"))
        #expect(out.record.tier == .medium && out.record.tierByUnknownRule)
    }

    @Test("A stream settles from its usage chunk; a stream abandoned early settles from an estimate")
    func streaming() async throws {
        let gw = ScriptedGateway(text: "the quick brown fox", usage: { _ in Usage(promptTokens: 900, completionTokens: 4) })
        let (r, ledger) = try router(gw, daily: .dollars(1))
        let (text, record) = try await r.stream(task("parse_market_data")) { stream in
            var t = ""
            for try await c in stream { t += c.choices.first?.delta.content ?? "" }
            return t
        }
        #expect(text == "the quick brown fox" && record.usage.completionTokens == 4 && !record.usageEstimated)
        let (_, early) = try await r.stream(task("parse_market_data")) { stream in
            for try await c in stream where c.choices.first?.delta.content != nil { break }
            return 0
        }
        #expect(early.usageEstimated && early.usage.promptTokens == 1_000 && early.usage.completionTokens == 3)
        #expect(try ledger.entries(status: .reserved).isEmpty)
    }
}
