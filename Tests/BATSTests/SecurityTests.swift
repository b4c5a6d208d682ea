import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

@Suite("Security: keys never leak, files are private, tampering is evident")
struct SecurityTests {
    typealias F = LedgerFixture
    static let t0 = LedgerFixture.utc("2026-11-20T15:00:00Z")

    enum Path: String, CaseIterable, Sendable {
        case unauthorized, rateLimited, serverError, garbage, htmlOK, noChoices, cutStream, connectionRefused
    }

    static func response(_ p: Path) -> ScriptedResponse? {
        let key = fakeAPIKey
        switch p {
        case .unauthorized: return .error(status: 401, message: "Incorrect API key provided: \(key).", code: "invalid_api_key")
        case .rateLimited: return .error(status: 429, message: "Rate limit reached for key \(key)", code: "rate_limit_exceeded")
        case .serverError: return .html("<html><body>500 Internal Server Error for Bearer \(key)</body></html>", status: 500)
        case .garbage: return .bytes(Array("\u{1}\u{2}garbage \(key) \u{FF}".utf8), contentType: "application/json")
        case .htmlOK: return .html("<html>Authorization: Bearer \(key)</html>", status: 200)
        case .noChoices: return .json(#"{"id":"x","object":"chat.completion","model":"m","echo":"\#(key)"}"#)
        case .cutStream:
            return .sse(
                #"data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"\#(key)"}}]}"# + "\n\ndata: {\"id\":\"x\",\"cho",
                closeAfterBytes: 200)
        case .connectionRefused: return nil
        }
    }

    @Test("A fake key passed through every failing gateway path appears in no error, log, ledger byte or record", arguments: Path.allCases)
    func keyNeverLeaks(_ path: Path) async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledgerPath = dir.appendingPathComponent("ledger.sqlite").path
        let ledger = try SQLiteLedger(path: ledgerPath, configuration: .init(limits: .init(daily: .dollars(5), monthly: .dollars(50))), now: Self.t0)
        let recorder = LogRecorder()
        let logger = recorder.logger(level: .trace)
        var texts: [String] = []

        try await LoopbackGatewayServer.withServer { server in
            var configuration = loopbackConfiguration(server, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(10)))
            if path == .connectionRefused {
                // A port nothing listens on: start a second server, note its port, and stop it.
                let closed = try await LoopbackGatewayServer.start()
                let port = closed.port
                try await closed.shutdown()
                configuration.baseURL = "http://127.0.0.1:\(port)/v1"
            }
            if let r = Self.response(path) { server.setFallback(r) }
            try await withGatewayClient(configuration: configuration, logger: logger) { client in
                let router = Router(selector: F.selector, ledger: ledger, gateway: client, now: { Self.t0 })
                let task = RoutedTask(
                    complexity: .medium, request: ChatRequest(messages: [.user("quote AAPL")]), inputTokens: 100, maxOutputTokens: 50,
                    requestID: "sec-\(path.rawValue)")
                do {
                    if path == .cutStream {
                        // The reply's own text may hold anything; only errors, logs and the ledger are searched.
                        _ = try await router.stream(task, logger: logger) { s in
                            for try await _ in s {}
                        }
                    } else {
                        _ = try await router.complete(task, logger: logger)
                    }
                    Issue.record("expected \(path) to fail")
                } catch {
                    var dumped = ""
                    dump(error, to: &dumped)
                    texts += ["\(error)", String(reflecting: error), error.localizedDescription, dumped]
                }
            }
        }
        texts.append(recorder.text)
        for e in try ledger.entries() { texts.append("\(e)") }
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: ledgerPath + suffix) {
                texts.append(String(decoding: data, as: UTF8.self))
                #expect(data.range(of: Data(fakeAPIKey.utf8)) == nil, "the key is in the ledger file\(suffix)")
            }
        }
        #expect(!recorder.entries.isEmpty, "the failing path logged nothing at trace level")
        for t in texts {
            #expect(!t.contains(fakeAPIKey) && !t.contains("FAKE-KEY"), "the key leaked through \(path): \(t.prefix(300))")
        }
        // Nothing was left reserved by the failure; the ledger is intact.
        #expect(try ledger.entries(status: .reserved).isEmpty)
        #expect(try ledger.verify().isIntact)
    }

    @Test("The ledger, its WAL, shared-memory and lock files are created with mode 0600")
    func fileModes() throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: .dollars(1), monthly: nil)), now: Self.t0)
        _ = try F.reserve(l, .simple, at: Self.t0)
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mode = try FileManager.default.attributesOfItem(atPath: path + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(suffix.isEmpty ? "ledger" : suffix) has mode \(String(mode ?? 0, radix: 8))")
        }
    }

    // MARK: - Tamper evidence

    enum Tamper: String, CaseIterable, Sendable {
        case editCost, editModel, deleteEntry, insertEntry
    }

    /// A ledger with 6 entries: 4 settled, 1 released, 1 refused (ids 1…6).
    static func populated(_ path: String) throws {
        let l = try SQLiteLedger(path: path, configuration: .init(limits: .init(daily: MicroDollars(micros: 12_000), monthly: nil)), now: t0)
        for _ in 0..<4 {
            let r = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
            _ = try l.settleNow(r.id, Settlement(inputTokens: 900, outputTokens: 400, cost: r.selection.estimate), at: t0)
        }
        let r = try #require(F.reservation(try F.reserve(l, .simple, at: t0)))
        try l.releaseNow(r.id, error: "provider failed", at: t0)
        _ = try F.reserve(l, .complex, at: t0, output: 100_000)
    }

    @Test("Editing, deleting or inserting an entry with raw SQL is reported at the right entry; `bats audit verify` exits 2", arguments: Tamper.allCases)
    func tamperEvidence(_ tamper: Tamper) async throws {
        let dir = try F.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        try Self.populated(path)
        #expect(try LedgerInvariants.open(path).verify().isIntact)
        let probe = try SQLiteProbe(path: path)
        #expect(try probe.int("SELECT COUNT(*) FROM entry") == 6)
        let expected: (VerificationReport.Problem.Kind, Int64)
        switch tamper {
        case .editCost:
            try probe.exec("UPDATE entry SET actual_cost = actual_cost / 2 WHERE id = 3")
            expected = (.edited, 3)
        case .editModel:
            try probe.exec("UPDATE entry SET model = 'claude-opus-4' WHERE id = 2")
            expected = (.edited, 2)
        case .deleteEntry:
            try probe.exec("DELETE FROM entry WHERE id = 3")
            expected = (.insertedOrDeleted, 4)
        case .insertEntry:
            // A forged entry at the end, claiming a link to a made-up predecessor.
            try probe.exec(
                """
                INSERT INTO entry (id, request_id, attempt, tier, model, created_at, day_key, month_key, est_input_tokens, est_output_tokens,
                    est_cost, status, critical, reason, prev_hash, hash)
                SELECT 7, 'forged', 1, tier, model, created_at, day_key, month_key, 1, 1, 1, 'reserved', 0, reason,
                    '\(String(repeating: "ab", count: 32))', '\(String(repeating: "cd", count: 32))' FROM entry WHERE id = 1
                """)
            expected = (.insertedOrDeleted, 7)
        }
        let report = try LedgerInvariants.open(path).verify()
        let problem = try #require(report.firstProblem, "\(tamper) went unnoticed")
        #expect(problem.kind == expected.0 && problem.entryID == expected.1, "\(tamper): got \(problem)")

        let out = try await BATSChild.run(["audit", "verify", "--ledger", path], scratch: dir)
        #expect(out.status == 2, "bats audit verify exited \(out.status): \(out.stdout) \(out.stderr)")
        #expect(out.stdout.contains("entry \(expected.1)"), "\(out.stdout)")
    }
}
