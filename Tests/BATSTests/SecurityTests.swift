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
        case requestIDEcho, upperCasedKey, lowerCasedKey, splitKey, keyWithSeparators, bearerInRequestID
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
        case .requestIDEcho: return .error(status: 429, message: "Rate limit reached", code: "rate_limit_exceeded", headers: [("x-request-id", key)])
        case .upperCasedKey: return .error(status: 500, message: "Internal error for key \(key.uppercased())", type: key.uppercased())
        case .lowerCasedKey: return .error(status: 503, message: "Overloaded", code: key.lowercased())
        case .splitKey:
            return .error(status: 502, message: "key begins \(key.prefix(16)) … and, later, ends \(key.dropFirst(16))")
        case .keyWithSeparators:
            let spaced = "\(key.prefix(10)) \(key.dropFirst(10).prefix(9))\n\(key.dropFirst(19).prefix(6))-\(key.dropFirst(25))"
            return .html("<html><body>refused: \(spaced)</body></html>", status: 503)
        case .bearerInRequestID:
            return .error(status: 500, message: "oops", headers: [("x-request-id", "Bearer \(key)")])
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
            var configuration = loopbackConfiguration(server, retry: RetryPolicy(maxAttempts: 2, initialBackoff: .zero, maxBackoff: .zero))
            if path == .connectionRefused {
                // A port nothing listens on: start a second server, note its port, and stop it.
                let closed = try await LoopbackGatewayServer.start()
                let port = closed.port
                try await closed.shutdown()
                configuration.baseURL = "http://127.0.0.1:\(port)/v1"
                configuration.connectTimeout = .milliseconds(100)  // AsyncHTTPClient retries a refused connect until then
            }
            if let r = Self.response(path) { server.setFallback(r) }
            try await withGatewayClient(configuration: configuration, clock: ManualClock(), logger: logger) { client in
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
            #expect(!keyLeaks(in: t), "a piece of the key leaked through \(path): \(t.prefix(300))")
        }
        // Nothing was left reserved by the failure; the ledger is intact.
        #expect(try ledger.entries(status: .reserved).isEmpty)
        #expect(try ledger.verify().isIntact)
    }

    // MARK: - Keys echoed by the provider

    @Test("A key echoed in a 429's x-request-id, upper-cased or split in a message never reaches the error or the logs")
    func echoedKeyIsRedactedInErrors() async throws {
        let recorder = LogRecorder()
        let logger = recorder.logger(level: .trace)
        let key = fakeAPIKey
        let echoes: [ScriptedResponse] = [
            .error(status: 429, message: "Rate limit reached", code: "rate_limit_exceeded", headers: [("x-request-id", key)]),
            .error(status: 400, message: "INVALID KEY \(key.uppercased())", type: key.lowercased(), code: "Bearer \(key)"),
            .error(status: 401, message: "first half \(key.prefix(16)), second half \(key.dropFirst(16))"),
            .error(status: 403, message: "spaced \(key.prefix(12)) \(key.dropFirst(12).prefix(10))\n\(key.dropFirst(22))"),
            .html("<html>Authorization: bearer \(key.uppercased())</html>", status: 200),
        ]
        try await LoopbackGatewayServer.withServer { server in
            try await withGatewayClient(configuration: loopbackConfiguration(server, retry: .none), logger: logger) { client in
                for echo in echoes {
                    server.enqueue(echo)
                    let e = try #require(await expectGatewayError { _ = try await client.complete(.hello(), options: .init(), logger: logger) })
                    var dumped = ""
                    dump(e, to: &dumped)
                    let fields = [e.requestID, e.providerMessage, e.providerType, e.providerCode, e.bodyExcerpt, e.detail, e.model]
                    for text in [e.description, String(reflecting: e), dumped] + fields.compactMap({ $0 }) {
                        #expect(!keyLeaks(in: text), "the key leaked for HTTP \(echo.status): \(text)")
                    }
                    #expect(e.description.contains("<redacted>"), "\(e)")
                }
            }
        }
        #expect(!recorder.entries.isEmpty)
        #expect(!keyLeaks(in: recorder.text), "the key leaked into the logs: \(recorder.text)")
    }

    @Test("A key echoed as a model id, a reply's model or id, or a chunk's model is redacted in what BATS decodes")
    func echoedKeyIsRedactedInReplies() async throws {
        let key = fakeAPIKey
        let recorder = LogRecorder()
        let logger = recorder.logger(level: .trace)
        try await LoopbackGatewayServer.withServer { server in
            try await withGatewayClient(configuration: loopbackConfiguration(server, retry: .none), logger: logger) { client in
                server.enqueue(.json(#"{"object":"list","data":[{"id":"\#(key)","owned_by":"\#(key.uppercased())"},{"id":"gpt-4o-mini"}]}"#))
                let list = try await client.models(options: .init(), logger: logger)
                #expect(list.ids.count == 2 && list.ids[1] == "gpt-4o-mini")
                #expect(!keyLeaks(in: String(describing: list)), "\(list)")

                server.enqueue(.json(
                    #"{"id":"\#(key.uppercased())","model":"\#(key)","choices":[{"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":1,"completion_tokens":1}}"#,
                    headers: [("x-request-id", key)]))
                let reply = try await client.complete(.hello(), options: .init(), logger: logger)
                #expect(reply.text == "ok")
                #expect(!keyLeaks(in: String(describing: reply)), "\(reply)")
                #expect(reply.model == "<redacted>")

                let transcript = #"data: {"id":"\#(key)","model":"\#(key.lowercased())","choices":[{"index":0,"delta":{"content":"hi"}}]}"# + "\n\ndata: [DONE]\n\n"
                server.enqueue(.sse(transcript, headers: [("x-request-id", "Bearer \(key)")]))
                var acc = ChatStreamAccumulator()
                for try await chunk in try await client.stream(.hello(), options: .init(), logger: logger) {
                    #expect(!keyLeaks(in: String(describing: chunk)), "\(chunk)")
                    acc.add(chunk)
                }
                #expect(!keyLeaks(in: String(describing: acc.response)))
                #expect(acc.text == "hi")

                server.enqueue(.json(#"{"data":[{"index":0,"embedding":[0.5]}],"model":"\#(key)","usage":{"prompt_tokens":1,"total_tokens":1}}"#))
                let vectors = try await client.embeddings(.init(model: "e", input: .text("x")), options: .init(), logger: logger)
                #expect(!keyLeaks(in: String(describing: vectors)))
            }
        }
        #expect(!keyLeaks(in: recorder.text), "the key leaked into the logs: \(recorder.text)")
    }

    @Test("bats models --remote never prints a key the gateway echoed as a model id", arguments: ["table", "json"])
    func modelsRemoteRedactsEchoedKey(_ format: String) async throws {
        let key = fakeAPIKey
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json(
                #"{"object":"list","data":[{"id":"\#(key)"},{"id":"\#(key.uppercased())"},{"id":"x-\#(key.prefix(16)) \#(key.dropFirst(16))"},{"id":"deepseek-chat"}]}"#))
            let r = try BATSBinary.run(
                ["models", "--remote", "--format", format], environment: ["PATH": "/usr/bin:/bin", "LLM_GATEWAY_BASE_URL": server.baseURL, "TARS_API_KEY": key])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("deepseek-chat"))
            #expect(!keyLeaks(in: r.stdout) && !keyLeaks(in: r.stderr), "\(r.stdout)\n\(r.stderr)")
        }
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

/// Whether `text` holds the key, or any piece of it of 12 letters and digits or more, in any case and with any
/// separators (spaces, line breaks, dashes) inserted.
func keyLeaks(in text: String, key: String = fakeAPIKey) -> Bool {
    func letters(_ s: String) -> [Character] { s.lowercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    let k = letters(key), t = String(letters(text))
    guard k.count >= 12 else { return t.contains(String(k)) }
    for start in 0...(k.count - 12) where t.contains(String(k[start..<(start + 12)])) { return true }
    return text.lowercased().contains(key.lowercased())
}
