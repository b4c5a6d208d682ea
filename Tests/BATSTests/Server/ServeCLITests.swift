import AsyncHTTPClient
import BATSConfiguration
import BATSTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import SpendLedger
import Testing

/// `bats serve` as a child process: the ready line, caller keys from a keys file with their tags and budgets, SIGTERM,
/// and the loopback-only default.
@Suite("Command line: bats serve")
struct ServeCLITests {
    /// Waits for the ready line on the child's standard output and returns the URL it names.
    static func readyURL(_ p: Process, output: URL) async throws -> String {
        for _ in 0..<1_500 {
            let text = (try? String(contentsOfFile: output.path + ".out", encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("bats serve: listening on ") }) {
                let rest = line.dropFirst("bats serve: listening on ".count)
                return String(rest.prefix { $0 != " " })
            }
            guard p.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let err = (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? ""
        Issue.record("bats serve did not print its ready line; stderr: \(err)")
        throw CancellationError()
    }

    static func post(_ url: String, key: String?, model: String = "bats/simple") async throws -> (Int, String, HTTPHeaders) {
        var request = HTTPClientRequest(url: url + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(string: #"{"model":"\#(model)","messages":[{"role":"user","content":"Quote AAPL"}]}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), body, response.headers)
    }

    @Test("serve prints its URL, takes keys from a keys file (tags, the key's own budget), answers, and stops on SIGTERM with nothing open")
    func serveWithKeys() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keysPath = dir.appendingPathComponent("keys.yaml").path
        let ledgerPath = dir.appendingPathComponent("ledger.sqlite").path
        let a = try await BATSRun.run(["keys", "add", "desk-a", "--keys-file", keysPath, "--tag", "desk=a"], in: dir)
        let b = try await BATSRun.run(["keys", "add", "desk-b", "--keys-file", keysPath, "--daily-budget", "0"], in: dir)
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        let secretA = try KeysCLITests.secret(a), secretB = try KeysCLITests.secret(b)

        try await LoopbackGatewayServer.withServer { upstream in
            upstream.setResponder(OpenAIMock().responder)
            let out = dir.appendingPathComponent("serve")
            let p = try BATSChild.start(
                ["serve", "--ledger", ledgerPath, "--port", "0", "--keys-file", keysPath, "--daily-budget", "5", "--shutdown-grace", "5"],
                output: out, environment: ["LLM_GATEWAY_BASE_URL": upstream.baseURL, "TARS_API_KEY": ServerHarness.upstreamKey])
            defer { if p.isRunning { p.terminate() } }
            let url = try await Self.readyURL(p, output: out)
            #expect(url.hasPrefix("http://127.0.0.1:"))

            let ok = try await Self.post(url, key: secretA)
            #expect(ok.0 == 200, "\(ok.1)")
            #expect(ok.2.first(name: "x-bats-model") == "deepseek-v3")
            let noKey = try await Self.post(url, key: nil)
            #expect(noKey.0 == 401 && noKey.1.contains("invalid_api_key"), "\(noKey.1)")
            let overKey = try await Self.post(url, key: secretB)
            #expect(overKey.0 == 429 && overKey.1.contains(#""scope":"key:desk-b""#), "\(overKey.1)")

            p.terminate()  // SIGTERM
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "\(o.stderr)")
            #expect(o.stderr.contains("stopped; 0 reservation(s) left open"), "\(o.stderr)")
            for text in [o.stdout, o.stderr] {
                #expect(!text.contains(ServerHarness.upstreamKey) && !text.contains(secretA) && !text.contains(secretB))
            }
        }
        let ledger = try SQLiteLedger(path: ledgerPath, configuration: .init(recordsLimits: false, readOnly: true))
        let settled = try ledger.entries(status: .settled)
        #expect(settled.count == 1 && settled.first?.tags["desk"] == "a", "the key's tags are recorded")
        #expect(try ledger.entries(status: .refused).count == 1)
        #expect(try ledger.entries(status: .reserved).isEmpty)
        #expect(ledger.limits.scope(named: "key:desk-b")?.daily == .zero, "the key's budget is a scope of the ledger")
        let stored = try String(contentsOfFile: ledgerPath, encoding: .isoLatin1)
        #expect(!stored.contains(secretA) && !stored.contains(ServerHarness.upstreamKey), "no secret in the ledger file")
    }

    @Test("serve delivers the configuration file's budget alerts to its webhook while it runs")
    func deliversAlerts() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledgerPath = dir.appendingPathComponent("ledger.sqlite").path
        try await LoopbackGatewayServer.withServer { upstream in
            let mock = OpenAIMock()
            upstream.setResponder { request in request.path == "/hook" ? .json("{}") : mock.responder(request) }
            let hook = upstream.baseURL.replacingOccurrences(of: "/v1", with: "/hook")
            let config = dir.appendingPathComponent("bats.yaml")
            try """
                budget:
                  daily: 0.01
                  daily_alerts: [1%]
                alerts:
                  webhook:
                    url: \(hook)
                """.write(to: config, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("serve")
            let p = try BATSChild.start(
                ["serve", "--ledger", ledgerPath, "--port", "0", "--config", config.path],
                output: out, environment: ["LLM_GATEWAY_BASE_URL": upstream.baseURL, "TARS_API_KEY": ServerHarness.upstreamKey])
            defer { if p.isRunning { p.terminate() } }
            let url = try await Self.readyURL(p, output: out)
            let ok = try await Self.post(url, key: nil)
            #expect(ok.0 == 200, "\(ok.1)")
            var delivered: [LoopbackGatewayServer.RecordedRequest] = []
            for _ in 0..<1_500 where delivered.isEmpty {
                delivered = upstream.requests.filter { $0.path == "/hook" }
                if delivered.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            }
            p.terminate()
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "\(o.stderr)")
            #expect(delivered.count == 1, "one alert, delivered once: \(delivered.map { String(decoding: $0.body, as: UTF8.self) })")
            let first = try #require(delivered.first)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
            #expect(body["kind"] as? String == "threshold" && body["period"] as? String == "day", "\(body)")
        }
        let ledger = try SQLiteLedger(path: ledgerPath, configuration: .init(recordsLimits: false, readOnly: true))
        #expect(try ledger.pendingAlerts().isEmpty, "the alert is marked delivered")
    }

    @Test("serve refuses a non-loopback address without caller keys, in one line, before binding")
    func refusesOpenBindWithoutKeys() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try await BATSRun.run(["serve", "--ledger", dir.appendingPathComponent("l.sqlite").path, "--host", "0.0.0.0", "--port", "0"], in: dir)
        #expect(r.status != 0 && !r.crashed)
        #expect(r.errorLines.count == 1 && r.stderr.contains("0.0.0.0") && r.stderr.contains("key"), "\(r.stderr)")
        #expect(!r.stdout.contains("listening"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("l.sqlite").path), "refused before the ledger is created")
    }

    @Test("serve rejects a keys file with a problem, naming the file and the line")
    func badKeysFile() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keysPath = dir.appendingPathComponent("keys.yaml").path
        try "keys:\n  - name: desk-a\n    sha256: nothex\n".write(toFile: keysPath, atomically: true, encoding: .utf8)
        let r = try await BATSRun.run(["serve", "--ledger", dir.appendingPathComponent("l.sqlite").path, "--keys-file", keysPath, "--port", "0"], in: dir)
        #expect(r.status != 0 && !r.crashed)
        #expect(r.stderr.contains(keysPath) && r.stderr.contains(":3"), "\(r.stderr)")
    }
}
