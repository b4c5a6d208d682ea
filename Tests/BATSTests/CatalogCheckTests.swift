import BATSTestSupport
import Foundation
@testable import ModelSelection
import Testing

@Suite("bats prices check: the catalog against the gateway's models")
struct CatalogCheckTests {
    static let selector = LedgerFixture.selector

    /// Every bundled model's gateway id.
    static var all: [String] { selector.catalog.models.map(\.gatewayID) }

    @Test("Every catalog model offered: usable, nothing missing")
    func everyModel() {
        let check = CatalogCheck(selector: Self.selector, gatewayIDs: Self.all + ["gpt-4o-mini"])
        #expect(check.isUsable && check.missing.isEmpty && check.offered.count == Self.selector.catalog.models.count)
        #expect(check.listed == Self.all.count + 1)
    }

    @Test("A routed model under another name is missing, unusable, with its lookalikes named")
    func lookalikes() {
        let ids = Self.all.filter { $0 != "claude-opus-4-1" && $0 != "kimi-k2-instruct" && $0 != "deepseek-reasoner" }
            + ["anthropic/claude-opus-4-1-20250805", "moonshotai/kimi-k2-instruct-0905", "deepseek-r1", "kimi-k2-thinking", "claude-sonnet-4-5"]
        let check = CatalogCheck(selector: Self.selector, gatewayIDs: ids)
        #expect(!check.isUsable)
        let byModel = Dictionary(uniqueKeysWithValues: check.missing.map { ($0.model, $0) })
        #expect(byModel.keys.sorted() == [.claudeOpus, .deepseekR1, .kimiK2].sorted())
        #expect(byModel[.claudeOpus]?.lookalikes == ["anthropic/claude-opus-4-1-20250805"] && byModel[.claudeOpus]?.routed == true)
        // Candidates for a person to read, not a mapping: the thinking variant extends the catalog id too.
        #expect(byModel[.kimiK2]?.lookalikes == ["kimi-k2-thinking", "moonshotai/kimi-k2-instruct-0905"])
        // The catalog's own id served as the gateway id (deepseek-r1 for deepseek-reasoner).
        #expect(byModel[.deepseekR1]?.lookalikes == ["deepseek-r1"])
    }

    @Test("A missing model the selector never routes to is listed but leaves the catalog usable")
    func unroutedMissing() throws {
        let embedding = try #require(Self.selector.catalog.models.first { $0.kind == .embedding })
        let check = CatalogCheck(selector: Self.selector, gatewayIDs: Self.all.filter { $0 != embedding.gatewayID })
        #expect(check.isUsable)
        #expect(check.missing.map(\.model) == [embedding.id] && check.missing.first?.routed == false)
    }

    @Test("Normalizing ids: provider prefix, dates, separators; short names only match exactly")
    func normalizing() {
        #expect(CatalogCheck.normalized("Anthropic/Claude_Opus.4-1-20250805") == "claude-opus-4-1")
        #expect(CatalogCheck.normalized("gpt-4o-2024-08-06") == "gpt-4o")
        #expect(CatalogCheck.normalized("mistral-medium-latest") == "mistral-medium")
        #expect(CatalogCheck.alike("kimi-k2-instruct", "kimi-k2-instruct-0905"))
        #expect(!CatalogCheck.alike("kimi-k2-instruct", "kimi-k2-instructions"))
        #expect(!CatalogCheck.alike("gpt-4", "gpt-4-x") && CatalogCheck.alike("o1", "o1"))
    }

    @Test("The command against a loopback gateway: exit 1 with the missing routed model, exit 0 when all are offered; the key never printed")
    func command() async throws {
        try await LoopbackGatewayServer.withServer { server in
            func list(_ ids: [String]) -> String {
                #"{"object":"list","data":["# + ids.map { #"{"id":"\#($0)","object":"model"}"# }.joined(separator: ",") + "]}"
            }
            let dir = try LedgerFixture.tempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let env = ["LLM_GATEWAY_BASE_URL": server.baseURL, "TARS_API_KEY": fakeAPIKey]
            server.setFallback(.json(list(Self.all.filter { $0 != "claude-opus-4-1" } + ["claude-opus-4-1-20250805"])))
            let bad = try await BATSRun.run(["prices", "check"], in: dir, environment: env)
            #expect(bad.status == 1, "\(bad.stdout)\(bad.stderr)")
            #expect(bad.stdout.contains("MISSING  claude-opus") && bad.stdout.contains("looks like: claude-opus-4-1-20250805"), "\(bad.stdout)")
            #expect(bad.stdout.contains("NOT usable"))
            #expect(server.requests.last?.path.hasSuffix("/models") == true)

            server.setFallback(.json(list(Self.all)))
            let good = try await BATSRun.run(["prices", "check", "--format", "json"], in: dir, environment: env)
            #expect(good.status == 0, "\(good.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(good.stdout.utf8)) as? [String: Any])
            #expect(doc["usable"] as? Bool == true && (doc["missing"] as? [Any])?.isEmpty == true)
            for r in [bad, good] { #expect(!r.stdout.contains(fakeAPIKey) && !r.stderr.contains(fakeAPIKey)) }
        }
    }
}
