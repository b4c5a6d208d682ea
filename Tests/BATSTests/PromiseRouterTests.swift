import BATS
import BATSTestSupport
import Foundation
import GRDB
import Gateway
import Logging
import ModelSelection
import SpendLedger
import Synchronization
import Testing

/// A ledger whose settlements fail (as a locked or full one would) a given number of times.
final class FailingSettleLedger: BudgetLedger {
    let base: SQLiteLedger
    let failures = Mutex(0)
    let error: LedgerError

    init(base: SQLiteLedger, failures: Int, error: LedgerError = LedgerError(kind: .locked, path: "L", message: "locked by another process")) {
        self.base = base
        self.failures.withLock { $0 = failures }
        self.error = error
    }

    var limits: BudgetLimits { base.limits }
    var calendar: BudgetCalendar { base.calendar }
    func reserve(_ r: ReservationRequest, at d: Date, choose: @escaping @Sendable (BudgetSnapshot) -> Selection) async throws -> ReservationOutcome {
        try await base.reserve(r, at: d, choose: choose)
    }
    func settle(_ id: Int64, _ s: Settlement, at d: Date) async throws -> SettlementReceipt {
        let fail = failures.withLock { n in
            defer { n -= 1 }
            return n > 0
        }
        if fail { throw error }
        return try await base.settle(id, s, at: d)
    }
    func release(_ id: Int64, error: String?, at d: Date) async throws { try await base.release(id, error: error, at: d) }
    func snapshot(at d: Date) async throws -> BudgetSnapshot { try await base.snapshot(at: d) }
}

@Suite("Budget promise: the router", .serialized)
struct PromiseRouterTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    static func ledger(daily: MicroDollars? = .dollars(1), ttl: Duration = .seconds(900)) throws -> SQLiteLedger {
        try SQLiteLedger.inMemory(configuration: .init(limits: .init(daily: daily, monthly: nil), reservationTimeToLive: ttl), now: t0)
    }

    static func task(_ tier: Complexity = .simple, prompt: String = "quote AAPL", inputTokens: Int? = 1_000) -> RoutedTask {
        RoutedTask(complexity: tier, request: ChatRequest(messages: [.user(prompt)]), inputTokens: inputTokens, maxOutputTokens: 500)
    }

    // MARK: Case 1: a failed settlement never releases a paid call

    @Test("A settlement that fails a few times is retried within the settle deadline and recorded at its cost")
    func settleRetried() async throws {
        let base = try Self.ledger()
        let ledger = FailingSettleLedger(base: base, failures: 3)
        let gw = ScriptedGateway(usage: { _ in Usage(promptTokens: 800, completionTokens: 100) })
        // A deadline far above the ~140 ms the three retries take, so a loaded machine cannot run it out.
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, configuration: .init(settleDeadline: .seconds(120)), now: { Self.t0 })
        let out = try await r.complete(Self.task())
        #expect(!out.record.settlementPending)
        let e = try #require(try base.entry(id: out.record.entryID))
        #expect(e.status == .settled && e.actualCost == F.catalog.cost(of: .deepseekV3, inputTokens: 800, outputTokens: 100)!)
    }

    @Test("A settlement that keeps failing returns the answer, marks it pending, keeps the reservation and logs a warning")
    func settlePending() async throws {
        let base = try Self.ledger(ttl: .seconds(1))
        let ledger = FailingSettleLedger(base: base, failures: .max)
        let gw = ScriptedGateway(text: "189.20/189.24", usage: { _ in Usage(promptTokens: 800, completionTokens: 100) })
        let logs = LogRecorder()
        let r = Router(
            selector: F.selector, ledger: ledger, gateway: gw,
            configuration: .init(requestTimeout: .seconds(1), settleDeadline: .milliseconds(300)), now: { Self.t0 })
        let out = try await r.complete(Self.task(prompt: "SECRET-PROMPT quote AAPL"), logger: logs.logger())
        #expect(out.response.text == "189.20/189.24")
        #expect(out.record.settlementPending)
        let e = try #require(try base.entry(id: out.record.entryID))
        #expect(e.status == .reserved)
        let warning = try #require(logs.entries.first { $0.message.contains("settlement pending") })
        #expect(!logs.text.contains("SECRET-PROMPT") && warning.level == .warning)
        // Its reservation lives past the call's own deadline, then is charged at its estimate, never freed.
        _ = try base.reclaimExpired(at: Self.t0.addingTimeInterval(3))
        #expect(try base.entry(id: e.id)?.status == .reserved)
        _ = try base.reclaimExpired(at: Self.t0.addingTimeInterval(3_600))
        let expired = try #require(try base.entry(id: e.id))
        #expect(expired.status == .expired && expired.actualCost == e.estimatedCost)
    }

    @Test("A ledger really locked by another connection while the provider answers: the call is settled once the lock goes")
    func settleAfterRealLock() async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let ledger = try SQLiteLedger(
            path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil), busyTimeout: .milliseconds(100)), now: Self.t0)
        let holder = try DatabaseQueue(path: path)
        let locked = Mutex(false)
        let gw = ScriptedGateway { req in
            // While the provider answers, another connection (as another process would) holds the write lock for 600 ms,
            // on a thread of its own.
            let taken = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                try? holder.inTransaction(.exclusive) { _ in
                    locked.withLock { $0 = true }
                    taken.signal()
                    Thread.sleep(forTimeInterval: 0.6)
                    return .rollback
                }
            }
            await withCheckedContinuation { c in DispatchQueue.global().async { taken.wait(); c.resume() } }
            return ChatResponse(id: "x", model: req.model, choices: [.init(message: .assistant("ok"))], usage: Usage(promptTokens: 10, completionTokens: 5))
        }
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, configuration: .init(settleDeadline: .seconds(5)), now: { Self.t0 })
        let out = try await r.complete(Self.task())
        #expect(locked.withLock { $0 })
        #expect(!out.record.settlementPending)
        #expect(try ledger.entry(id: out.record.entryID)?.status == .settled)
        #expect(try ledger.entries(status: .released).isEmpty)
    }

    // MARK: Case 4: malformed or implausible usage

    @Test("Usage too small for the text received is settled from the estimate and flagged")
    func implausibleUsage() async throws {
        let ledger = try Self.ledger()
        let text = String(repeating: "tokens ", count: 20_000)  // 140 KB
        let gw = ScriptedGateway(text: text, usage: { _ in Usage(promptTokens: 3, completionTokens: 5) })
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
        let out = try await r.complete(Self.task())
        let e = try #require(try ledger.entry(id: out.record.entryID))
        #expect(e.flags.contains(.usageSuspect) && e.usageEstimated && e.actualCost == e.estimatedCost)
        #expect(e.error?.contains("cannot hold") == true)
        #expect(out.record.flags.contains(.usageSuspect))
    }

    @Test("Malformed usage from the wire (strings, negatives, empty) is settled from the estimate, flagged, never stored as given")
    func malformedUsage() async throws {
        for body in [#"{}"#, #"{"total_tokens": 50}"#, #"{"prompt_tokens": "12", "completion_tokens": 3}"#,
                     #"{"prompt_tokens": 12.5, "completion_tokens": 3}"#, #"{"prompt_tokens": -400, "completion_tokens": -9}"#,
                     #"{"prompt_tokens": 1000000000000000, "completion_tokens": 1000000000000000}"#] {
            let usage = try JSONDecoder().decode(Usage.self, from: Data(body.utf8))
            let ledger = try Self.ledger()
            let gw = ScriptedGateway(usage: { _ in usage })
            let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
            let out = try await r.complete(Self.task())
            let e = try #require(try ledger.entry(id: out.record.entryID))
            #expect(e.flags.contains(.usageSuspect), "usage \(body)")
            #expect(e.usageEstimated && e.actualCost == e.estimatedCost, "usage \(body)")
            #expect((e.actualInputTokens ?? -1) >= 0 && (e.actualOutputTokens ?? -1) >= 0, "usage \(body)")
            #expect(try ledger.audit(by: .day).totals.spend == e.estimatedCost)
            #expect(try ledger.verify().isIntact)
        }
    }

    // MARK: Case 5: more usage than reserved

    @Test("Usage above the reservation is recorded as billed, flagged over-reservation, counted and logged as an event")
    func overReservation() async throws {
        let ledger = try Self.ledger(daily: .dollars(1))
        let gw = ScriptedGateway(usage: { _ in Usage(promptTokens: 60_000, completionTokens: 8_000) })
        let logs = LogRecorder()
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
        let out = try await r.complete(Self.task(), logger: logs.logger())
        #expect(gw.requests.first?.maxTokens == 500)
        let billed = F.catalog.cost(of: .deepseekV3, inputTokens: 60_000, outputTokens: 8_000)!
        #expect(out.record.cost == billed && out.record.flags.contains(.overReservation))
        let e = try #require(try ledger.entry(id: out.record.entryID))
        #expect(e.flags.contains(.overReservation) && e.actualCost == billed && billed > e.estimatedCost)
        #expect(try ledger.audit(by: .day).totals.overReservation == 1)
        #expect(logs.entries.contains { $0.message.contains("billed beyond the reservation") })
    }

    @Test("The prompt's reservation is an upper bound: a caller's low token count is not trusted")
    func inputUpperBound() async throws {
        let ledger = try Self.ledger(daily: .dollars(10))
        let gw = ScriptedGateway(usage: { _ in Usage(promptTokens: 10, completionTokens: 10) })
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
        let prompt = String(repeating: "x", count: 20_000)
        let out = try await r.complete(Self.task(prompt: prompt, inputTokens: 10))
        let e = try #require(try ledger.entry(id: out.record.entryID))
        #expect(e.estimatedInputTokens >= 20_000)
    }

    // MARK: Case 3: a reply the provider billed but BATS lost

    @Test("A reply the provider answered but that was lost (too large, cut, timed out mid-body) is charged at its estimate")
    func lostReply() async throws {
        let ledger = try Self.ledger(daily: .dollars(10))
        let calls = Mutex(0)
        let gw = ScriptedGateway { req in
            let n = calls.withLock { n in
                n += 1
                return n
            }
            if n == 1 { throw GatewayError(kind: .responseTooLarge, status: 200, model: req.model, providerAnswered: true) }
            if n == 2 { throw GatewayError(kind: .connection, model: req.model, detail: "refused") }
            return ChatResponse(id: "x", model: req.model, choices: [.init(message: .assistant("ok"))], usage: Usage(promptTokens: 10, completionTokens: 5))
        }
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
        let out = try await r.complete(Self.task(.complex))
        #expect(out.record.attempts.count == 3)
        let lost = try #require(try ledger.entry(id: out.record.attempts[0].entryID))
        #expect(lost.status == .settled && lost.actualCost == lost.estimatedCost && lost.flags.contains(.replyLost) && lost.usageEstimated)
        // A failure before the provider answered is still released at $0.
        let refused = try #require(try ledger.entry(id: out.record.attempts[1].entryID))
        #expect(refused.status == .released)
        #expect(try ledger.audit(by: .day).totals.replyLost == 1)
        #expect(try ledger.verify().isIntact)
    }

    /// A gateway that streams fixed chunks.
    struct ChunkGateway: ChatGateway {
        let chunks: [ChatCompletionChunk]
        func complete(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatResponse {
            throw GatewayError(kind: .badRequest)
        }
        func stream(_ request: ChatRequest, options: GatewayRequestOptions, logger: Logger?) async throws -> ChatCompletionStream {
            ChatCompletionStream(chunks: chunks)
        }
    }

    @Test("A stream's text after its usage chunk still counts: 100 KB after usage of 5 tokens is settled from the estimate")
    func streamTextAfterUsage() async throws {
        let ledger = try Self.ledger()
        let text = String(repeating: "x", count: 100_000)
        let gw = ChunkGateway(chunks: [
            .init(id: "s", model: "m", choices: [.init(delta: .init(content: "hi"))]),
            .init(id: "s", model: "m", choices: [], usage: Usage(promptTokens: 3, completionTokens: 5)),
            .init(id: "s", model: "m", choices: [.init(delta: .init(content: text))]),
        ])
        let r = Router(selector: F.selector, ledger: ledger, gateway: gw, now: { Self.t0 })
        let (_, record) = try await r.stream(Self.task()) { chunks in
            for try await _ in chunks {}
            return 0
        }
        let e = try #require(try ledger.entry(id: record.entryID))
        #expect(e.flags.contains(.usageSuspect) && e.actualCost == e.estimatedCost)
    }
}
