import BATSTestSupport
import Foundation
import SpendLedger
import Testing

@Suite("Command line against an OpenAI-compatible server on loopback")
struct CLIGatewayTests {
    static let reply = """
        {"id":"chatcmpl-9","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"AAPL bid 189.20"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}
        """

    /// The loopback server's address and, unless `nil`, a key; ``BATSRun`` removes every other gateway variable.
    func environment(_ server: LoopbackGatewayServer, key: String? = fakeAPIKey) -> [String: String] {
        var env = ["LLM_GATEWAY_BASE_URL": server.baseURL]
        if let key { env["TARS_API_KEY"] = key }
        return env
    }

    @Test("bats complete routes one call, records it, and prints answer, model, reason and cost")
    func complete() async throws {
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json(Self.reply))
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let ledger = dir.appendingPathComponent("l.sqlite").path
            let r = try await BATSRun.run(
                ["complete", "--task", "parse_market_data", "--ledger", ledger, "--daily-budget", "5", "quote AAPL"], in: dir, environment: environment(server))
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("AAPL bid 189.20"))
            #expect(r.stdout.contains("model deepseek-v3 (simple, preferred)"))
            let l = try SQLiteLedger(path: ledger)
            let settled = try l.entries(status: .settled)
            #expect(settled.count == 1 && settled[0].actualInputTokens == 12 && settled[0].tags["source"] == "cli")
            #expect(r.stdout.contains(settled[0].actualCost!.description))
            #expect(server.requests.first?.header("authorization") == "Bearer \(fakeAPIKey)")
            #expect(!r.stdout.contains(fakeAPIKey) && !r.stderr.contains(fakeAPIKey))
        }
    }

    @Test("bats complete --stream prints the text as it arrives and settles from the usage chunk")
    func stream() async throws {
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.sse(try GatewayFixture.text("chat_stream.sse"), chunkSize: 11))
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try await BATSRun.run(
                ["complete", "--complexity", "critical", "--stream", "--ledger", dir.appendingPathComponent("l.sqlite").path, "go"],
                in: dir, environment: environment(server))
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("Héllo"))
            #expect(r.stdout.contains("model claude-opus (critical, pinned-critical)"))
            #expect(!r.stdout.contains("(estimated)"))
        }
    }

    @Test("bats models --remote lists the gateway's models; a missing key is a clear error")
    func modelsRemote() async throws {
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.json(try GatewayFixture.text("models.json")))
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try await BATSRun.run(["models", "--remote"], in: dir, environment: environment(server))
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stdout.isEmpty && server.requests.first?.path.hasSuffix("/models") == true)

            let before = server.requests.count
            let missing = try await BATSRun.run(
                ["complete", "--task", "parse_market_data", "--ledger", dir.appendingPathComponent("l.sqlite").path, "hi"],
                in: dir, environment: environment(server, key: nil))
            #expect(missing.status != 0)
            #expect(missing.stderr.lowercased().contains("key"))
            #expect(server.requests.count == before)
        }
    }

    @Test("A failing gateway gives a non-zero exit with the status, and the reservation is released")
    func failing() async throws {
        try await LoopbackGatewayServer.withServer { server in
            server.setFallback(.error(status: 401, message: "invalid api key \(fakeAPIKey)", type: "authentication_error"))
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let ledger = dir.appendingPathComponent("l.sqlite").path
            let r = try await BATSRun.run(["complete", "--task", "execute_trade", "--ledger", ledger, "BUY"], in: dir, environment: environment(server))
            #expect(r.status != 0)
            #expect(r.stderr.contains("401") && !r.stderr.contains(fakeAPIKey))
            let l = try SQLiteLedger(path: ledger)
            #expect(try l.entries(status: .reserved).isEmpty && l.entries(status: .released).count == 1)
        }
    }
}
