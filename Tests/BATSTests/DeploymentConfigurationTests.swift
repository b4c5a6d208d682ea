import BATSConfiguration
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// The repository's root, for files the tests read in place (the shipped example).
enum RepositoryFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// `docs/bats.example.yaml`, the example the docs ship.
    static let example = root.appendingPathComponent("docs/bats.example.yaml")
}

/// Loads YAML text, returning the problems instead of throwing.
func configurationErrors(_ yaml: String, file: String = "t.yaml") -> [ConfigurationError] {
    do {
        _ = try DeploymentConfiguration.parse(yaml, sourceName: file, baseDirectory: URL(fileURLWithPath: "/tmp"))
        return []
    } catch {
        return error.errors
    }
}

@Suite("Deployment configuration file")
struct DeploymentConfigurationTests {
    // MARK: - The example

    @Test("The shipped example loads to the trading agent's budgets, scopes, alerts, gateway and ledger")
    func example() throws {
        let c = try DeploymentConfiguration.load(contentsOf: RepositoryFiles.example)
        let limits = try #require(c.limits)
        #expect(limits.daily == .dollars(50) && limits.monthly == .dollars(1_000))
        #expect(limits.alerts == [50, 80, 100].map { .percent($0, of: .day) } + [50, 80, 100].map { .percent($0, of: .month) })
        #expect(c.calendar?.zoneName == "America/New_York")
        let names = limits.scopes.map(\.name)
        #expect(names == ["tag:agent=scanner", "tag:agent=analyst", "tag:agent=strategist", "tag:agent=executor", "key:desk-a/tag:agent=scanner"])
        let nested = try #require(limits.scope(named: "key:desk-a/tag:agent=scanner"))
        #expect(nested.path == [.callerKey("desk-a"), .tag(key: "agent", value: "scanner")])
        #expect(nested.daily == .dollars(4) && nested.monthly == .dollars(80))
        #expect(nested.alerts == [.percent(80, of: .day), .percent(100, of: .day)])
        #expect(limits.scope(named: "tag:agent=scanner")?.daily == .dollars(10))
        #expect(c.gateway.baseURL == "https://api.router.tetrate.ai/v1" && c.gateway.apiKeyVariable == "TARS_API_KEY")
        let hook = try #require(c.alerts.webhook)
        #expect(hook.url.absoluteString == "https://alerts.example.com/hooks/bats")
        #expect(hook.timeout == .seconds(5) && hook.maxAttempts == 5 && hook.backoff == .seconds(1) && hook.maxBackoff == .seconds(30))
        // Relative to the file's directory, not the current one.
        #expect(c.ledger.path == RepositoryFiles.root.appendingPathComponent("docs/trading-ledger.sqlite").path)
        #expect(c.catalogSource == .bundled && c.catalog.contains(.claudeOpus))
        #expect(c.routing.taskTiers == ModelSelector.Configuration.tradingTaskTiers)
        #expect(c.routing.chains == ModelSelector.Configuration.defaultChains)
        #expect(c.routing.downgradeThresholdPartsPerMillion == 200_000 && c.routing.criticalReservePartsPerMillion == 100_000)
        #expect(c.routing.unknownTask == .assign(.medium))
        _ = try c.selector()
        try limits.validate()
    }

    @Test("An empty file configures nothing: the bundled catalog, default routing, and the ledger's own budget")
    func empty() throws {
        let c = try DeploymentConfiguration.parse("# nothing yet\n")
        #expect(c.limits == nil && c.calendar == nil && c.ledger.path == nil && c.alerts.webhook == nil)
        #expect(c.catalogSource == .bundled && c.routing == ModelSelector.Configuration())
        // A time zone alone leaves the limits to the ledger.
        let zoneOnly = try DeploymentConfiguration.parse("budget:\n  time_zone: UTC\n")
        #expect(zoneOnly.limits == nil && zoneOnly.calendar?.zoneName == "UTC")
    }

    @Test("Money is read exactly from its text, as a number or a string; never through a Double")
    func exactMoney() throws {
        let c = try DeploymentConfiguration.parse(
            """
            budget:
              daily: 0.1
              monthly: "1000.000001"
              scopes:
                - name: kind:parse_market_data
                  daily: $0.29
                  monthly: 12.5
                  daily_alerts: [12.5%, 99.9999%]
            """)
        let l = try #require(c.limits)
        #expect(l.daily == MicroDollars(micros: 100_000) && l.monthly == MicroDollars(micros: 1_000_000_001))
        let s = try #require(l.scopes.first)
        #expect(s.path == [.taskKind("parse_market_data")] && s.daily == MicroDollars(micros: 290_000) && s.monthly == MicroDollars(micros: 12_500_000))
        #expect(s.alerts == [BudgetAlertThreshold(.day, partsPerMillion: 125_000), BudgetAlertThreshold(.day, partsPerMillion: 999_999)])
        let errors = configurationErrors("budget:\n  daily: 1e2\n  monthly: 0.0000001\n")
        #expect(errors.map(\.key) == ["budget.daily", "budget.monthly"])
    }

    @Test("Inline prices make the catalog; chains are checked against it, default chains included")
    func inlineCatalog() throws {
        let catalog = """
            catalog:
              gateway_margin: 5%
              models:
                - id: small
                  input_per_mtok: 0.10
                  output_per_mtok: "0.40"
                  context_window: 32000
                  max_output_tokens: 4096
                - id: big
                  gateway_id: vendor/big-1
                  input_per_mtok: 3
                  output_per_mtok: 15
                  context_window: 200000
                  max_output_tokens: 8192
                  capabilities: [tools, reasoning]

            """
        let chains = """
            routing:
              chains:
                simple: [small]
                medium: [small]
                complex: [big, small]
                reasoning: [big]
                critical: [big]
            """
        let c = try DeploymentConfiguration.parse(catalog + chains)
        #expect(c.catalogSource == .inline && c.catalog.marginPartsPerMillion == 50_000)
        #expect(c.catalog.model("big")?.gatewayID == "vendor/big-1" && c.catalog.model("small")?.inputPerMillionTokens == MicroDollars(micros: 100_000))
        #expect(try c.selector().criticalModel == "big")
        // Without chains, the default ones name models this catalog lacks: one error a tier, at the catalog.
        let errors = configurationErrors(catalog)
        #expect(errors.count == Complexity.allCases.count)
        #expect(errors.allSatisfy { $0.isUnknownModel && $0.line == 1 && $0.key.hasPrefix("routing.chains.") })
        // The catalog's own checks name the field's line.
        let negative = configurationErrors(catalog.replacingOccurrences(of: "input_per_mtok: 3", with: "input_per_mtok: -3") + chains)
        #expect(negative.map(\.key) == ["catalog.models[1].input_per_mtok"] && negative.first?.line == 11)
    }

    @Test("Relative paths are taken from the file's directory; a catalog file is loaded from there")
    func relativePaths() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("etc"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = #"{"gateway_margin": "0", "models": [{"id": "m", "input_per_mtok": "1", "output_per_mtok": "2", "context_window": 1000, "max_output_tokens": 100}]}"#
        try Data(json.utf8).write(to: dir.appendingPathComponent("etc/prices.json"))
        let file = dir.appendingPathComponent("etc/bats.yaml")
        try Data(
            """
            catalog: prices.json
            routing:
              chains: {simple: [m], medium: [m], complex: [m], reasoning: [m], critical: [m]}
            ledger:
              path: ../var/spend.sqlite
            """.utf8
        ).write(to: file)
        let c = try DeploymentConfiguration.load(contentsOf: file)
        #expect(c.catalogSource.path == dir.appendingPathComponent("etc/prices.json").standardizedFileURL.path)
        #expect(c.catalog.models.map(\.id) == ["m"])
        #expect(c.ledger.path == dir.appendingPathComponent("var/spend.sqlite").standardizedFileURL.path)
        // A catalog file that is missing is an error at catalog's line.
        let missing = configurationErrors("\ncatalog: nowhere.json\n")
        #expect(missing.map(\.key) == ["catalog"] && missing.first?.line == 2 && missing.first?.message.contains("nowhere.json") == true)
    }

    @Test("The gateway key comes from the variable the file names, and only from it")
    func gatewayKey() throws {
        let c = try DeploymentConfiguration.parse("gateway:\n  base_url: http://127.0.0.1:4000/v1\n  api_key_env: DESK_A_KEY\n")
        let env = ["DESK_A_KEY": " k-desk ", "LLM_GATEWAY_API_KEY": "k-other", "LLM_GATEWAY_BASE_URL": "https://elsewhere/v1"]
        let g = c.gateway.clientConfiguration(environment: env)
        #expect(g.apiKey == "k-desk" && g.baseURL == "http://127.0.0.1:4000/v1")
        #expect(c.gateway.clientConfiguration(environment: ["LLM_GATEWAY_API_KEY": "k-other"]).apiKey == nil)
        // Without the section, the usual variables apply.
        let none = try DeploymentConfiguration.parse("")
        #expect(none.gateway.clientConfiguration(environment: env).apiKey == "k-other")
        #expect(none.gateway.clientConfiguration(environment: env).baseURL == "https://elsewhere/v1")
    }
}
