import AsyncHTTPClient
import BATSTestSupport
import Foundation
import ModelSelection
import NIOCore
import SpendLedger
import Testing

/// `bats serve --config FILE` with `councils:` and `cascades:`: the file's definitions become routing names.
@Suite("Command line: bats serve with councils and cascades")
struct ServeEnsembleCLITests {
    @Test("serve offers the configuration file's council as bats/council/<name>, at its tier, with its members in the headers")
    func serveCouncilFromFile() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ledgerPath = dir.appendingPathComponent("ledger.sqlite").path
        let catalog = try ModelCatalog.bundled()
        let r1 = catalog.model("deepseek-r1")?.gatewayID ?? "", k2 = catalog.model("kimi-k2")?.gatewayID ?? ""
        try await LoopbackGatewayServer.withServer { upstream in
            upstream.setResponder(CouncilUpstream.responder { model, _ in
                switch model {
                case r1: .text(#"{"decision": "BUY", "size": 10}"#)
                case k2: .text(#"Here you go: {"decision": "buy"}"#)
                default: nil
                }
            })
            let config = dir.appendingPathComponent("bats.yaml")
            try """
                councils:
                  trade:
                    tier: reasoning
                    members: [deepseek-r1, kimi-k2]
                    aggregation: majority
                    minimum_members: 2
                    extractor: json:decision
                """.write(to: config, atomically: true, encoding: .utf8)
            let out = dir.appendingPathComponent("serve")
            let p = try BATSChild.start(
                ["serve", "--ledger", ledgerPath, "--port", "0", "--config", config.path],
                output: out, environment: ["LLM_GATEWAY_BASE_URL": upstream.baseURL, "TARS_API_KEY": ServerHarness.upstreamKey])
            defer { if p.isRunning { p.terminate() } }
            let url = try await ServeCLITests.readyURL(p, output: out)
            let (status, body, headers) = try await ServeCLITests.post(url, key: nil, model: "bats/council/trade")
            #expect(status == 200, "\(body)")
            #expect(body.contains(#""model":"bats\/council\/trade""#) || body.contains(#""model":"bats/council/trade""#), "\(body)")
            #expect(headers.first(name: "x-bats-council-decision") == "majority")
            #expect(headers.first(name: "x-bats-tier") == "reasoning")
            let members = headers.first(name: "x-bats-council-members") ?? ""
            #expect(members.hasPrefix("deepseek-r1=") && members.contains(", kimi-k2=") && members.hasSuffix(";answered"), "\(members)")
            p.terminate()
            let o = try await BATSChild.wait(p, output: out)
            #expect(o.status == 0, "\(o.stderr)")
            for text in [o.stdout, o.stderr, body] + headers.map({ $0.value }) { #expect(!text.contains(ServerHarness.upstreamKey)) }
        }
        let ledger = try SQLiteLedger(path: ledgerPath, configuration: .init(recordsLimits: false, readOnly: true))
        #expect(try ledger.entries(status: .settled).count == 2)
        #expect(try ledger.entries(status: .reserved).isEmpty)
    }
}
