import BATSConfiguration
import Foundation
import Testing

/// A configuration file with one mistake, and where the error must point.
struct BadConfiguration: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    var line: Int
    var key: String
    var kind: @Sendable (ConfigurationError) -> Bool
    var says: String

    var testDescription: String { name }
}

@Suite("Deployment configuration errors")
struct ConfigurationErrorTests {
    static let cases: [BadConfiguration] = [
        .init(
            name: "an unknown model in a chain",
            yaml: "routing:\n  chains:\n    simple: [deepseek-v3]\n    complex: [kimi-k2, kimi-k3]\n",
            line: 4, key: "routing.chains.complex[1]", kind: { $0.isUnknownModel }, says: "unknown model 'kimi-k3'"),
        .init(
            name: "a scope with a negative limit",
            yaml: "budget:\n  daily: 50\n  scopes:\n    - name: tag:agent=scanner\n      daily: 10\n    - name: tag:agent=trader\n      monthly: -20\n",
            line: 7, key: "budget.scopes[1].monthly", kind: { $0.isInvalidValue }, says: "must not be negative"),
        .init(
            name: "a negative global limit",
            yaml: "budget:\n  daily: -0.01\n", line: 2, key: "budget.daily", kind: { $0.isInvalidValue }, says: "must not be negative"),
        .init(
            name: "an unknown time zone",
            yaml: "budget:\n  daily: 50\n  time_zone: America/Nowhere\n",
            line: 3, key: "budget.time_zone", kind: { $0.isInvalidValue }, says: "unknown time zone 'America/Nowhere'"),
        .init(
            name: "a key written inline",
            yaml: "gateway:\n  base_url: https://api.router.tetrate.ai/v1\n  api_key: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n",
            line: 3, key: "gateway.api_key", kind: { $0.isInlineSecret }, says: "api_key_env"),
        .init(
            name: "a key written where its variable's name belongs",
            yaml: "gateway:\n  api_key_env: 4f9aQ2xT7bLm3ZpR8sVc1e6Y\n",
            line: 2, key: "gateway.api_key_env", kind: { $0.isInlineSecret }, says: "looks like a key itself"),
        .init(
            name: "a key written at the top level",
            yaml: "ledger: {path: l.sqlite}\ntoken: tars-4f9aQ2xT7bLm3ZpR8sVc1\n",
            line: 2, key: "token", kind: { $0.isInlineSecret }, says: "environment variable"),
        .init(
            name: "credentials in the base URL",
            yaml: "gateway:\n  base_url: https://me:hunter2secret@api.example.com/v1\n",
            line: 2, key: "gateway.base_url", kind: { $0.isInlineSecret }, says: "credentials"),
        .init(
            name: "an unknown key",
            yaml: "budget:\n  daily: 50\n  montly: 1000\n",
            line: 3, key: "budget.montly", kind: { $0.isUnknownKey }, says: "did you mean 'monthly'?"),
        .init(
            name: "an unknown section",
            yaml: "ledger:\n  path: l.sqlite\nbugdet:\n  daily: 5\n",
            line: 3, key: "bugdet", kind: { $0.isUnknownKey }, says: "did you mean 'budget'?"),
        .init(
            name: "a bad scope name",
            yaml: "budget:\n  scopes:\n    - name: team:desk-a\n      daily: 5\n",
            line: 3, key: "budget.scopes[0].name", kind: { $0.isInvalidValue }, says: "unknown kind 'team'"),
        .init(
            name: "a scope without a name",
            yaml: "budget:\n  scopes:\n    - daily: 5\n",
            line: 3, key: "budget.scopes[0].name", kind: { $0.isMissingKey }, says: "a scope needs a name"),
        .init(
            name: "a scope named twice",
            yaml: "budget:\n  scopes:\n    - name: tier:simple\n      daily: 5\n    - name: tier:simple\n      daily: 6\n",
            line: 5, key: "budget.scopes[1].name", kind: { $0.isInvalidValue }, says: "configured twice (first at line 3)"),
        .init(
            name: "alerts on a window without a limit",
            yaml: "budget:\n  daily: 50\n  monthly_alerts: [80%]\n",
            line: 3, key: "budget.monthly_alerts", kind: { $0.isInvalidValue }, says: "would never fire"),
        .init(
            name: "an alert threshold that is not a percentage",
            yaml: "budget:\n  daily: 50\n  daily_alerts: [50%, 0.8]\n",
            line: 3, key: "budget.daily_alerts[1]", kind: { $0.isInvalidValue }, says: "not a percentage"),
        .init(
            name: "malformed YAML",
            yaml: "budget:\n  daily: 50\n   monthly: 1000\n", line: 3, key: "", kind: { $0.isSyntaxError }, says: "not valid YAML"),
        .init(
            name: "an unclosed quote",
            yaml: "gateway:\n  base_url: \"https://x/v1\n", line: 3, key: "", kind: { $0.isSyntaxError }, says: "quoted scalar"),
        .init(
            name: "a key given twice",
            yaml: "budget:\n  daily: 50\n  monthly: 900\n  daily: 60\n", line: 4, key: "", kind: { $0.isSyntaxError },
            says: "'daily' is given twice in one table (first at line 2)"),
        .init(
            name: "a list where a table belongs",
            yaml: "budget: [50, 1000]\n", line: 1, key: "budget", kind: { $0.isWrongType }, says: "must be a table"),
        .init(
            name: "a key with no value",
            yaml: "budget:\n  daily:\n", line: 2, key: "budget.daily", kind: { $0.isInvalidValue }, says: "has no value"),
        .init(
            name: "an unknown tier",
            yaml: "routing:\n  tiers:\n    parse_market_data: trivial\n",
            line: 3, key: "routing.tiers.parse_market_data", kind: { $0.isInvalidValue }, says: "unknown tier 'trivial'"),
        .init(
            name: "a bad webhook URL",
            yaml: "alerts:\n  webhook:\n    url: hooks.example.com\n",
            line: 3, key: "alerts.webhook.url", kind: { $0.isInvalidValue }, says: "http or https URL"),
        .init(
            name: "a password in the ledger URL",
            yaml: "ledger:\n  url: postgres://bats:secret@db/bats\n", line: 2, key: "ledger.url", kind: { $0.isInvalidValue }, says: "BATS_LEDGER_PASSWORD"),
        .init(
            name: "a ledger path and a URL",
            yaml: "ledger:\n  path: spend.sqlite\n  url: postgres://db/bats\n", line: 3, key: "ledger.url", kind: { $0.isInvalidValue }, says: "not both"),
        .init(
            name: "a ledger URL of another database",
            yaml: "ledger:\n  url: mysql://db/bats\n", line: 2, key: "ledger.url", kind: { $0.isInvalidValue }, says: "postgres://"),
        .init(
            name: "another format version",
            yaml: "version: 2\n", line: 1, key: "version", kind: { $0.isInvalidValue }, says: "version 1"),
    ]

    @Test("Each mistake names the file, the line and the key", arguments: cases)
    func namesFileLineAndKey(_ c: BadConfiguration) throws {
        let errors = configurationErrors(c.yaml, file: "desk.yaml")
        let e = try #require(errors.first, "no error for \(c.name)")
        #expect(errors.count == 1, "\(errors)")
        #expect(e.file == "desk.yaml" && e.line == c.line && e.key == c.key, "\(e)")
        #expect(c.kind(e), "\(e)")
        #expect(e.message.contains(c.says), "\(e)")
        let prefix = c.key.isEmpty ? "desk.yaml:\(c.line): " : "desk.yaml:\(c.line): \(c.key): "
        #expect(e.description.hasPrefix(prefix), "\(e)")
    }

    @Test("A secret written in the file is never repeated in the error")
    func secretNotEchoed() {
        let secret = "sk-live-4f9aQ2xT7bLm3ZpR8sVc1"
        for yaml in [
            "gateway:\n  api_key: \(secret)\n", "gateway:\n  api_key_env: \(secret)\n", "budget:\n  daily: \(secret)\n",
            "gateway:\n  headers: {Authorization: Bearer \(secret)}\n", "gateway:\n  base_url: https://x.example/v1?api_key=\(secret)\n",
        ] {
            let errors = configurationErrors(yaml)
            #expect(!errors.isEmpty)
            let text = ConfigurationError.List(errors).description
            #expect(!text.contains("4f9aQ2xT7bLm3ZpR8sVc1"), "\(text)")
        }
    }

    @Test("Every problem is reported at once, in the order of the file")
    func collectsAll() throws {
        let yaml = """
            routing:
              chains:
                complex: [kimi-k3]
            budget:
              time_zone: Mars/Olympus
              daily: 50
              scopes:
                - name: tag:agent=scanner
                  daily: -1
            gateway:
              api_key: sk-live-4f9aQ2xT7bLm3ZpR8sVc1
            ledger:
              pth: l.sqlite
            """
        let list: ConfigurationError.List
        do {
            _ = try DeploymentConfiguration.parse(yaml, sourceName: "all.yaml")
            Issue.record("the file loaded")
            return
        } catch {
            list = error
        }
        #expect(list.errors.map(\.line) == [3, 5, 9, 11, 13])
        #expect(list.errors.map(\.key) == ["routing.chains.complex[0]", "budget.time_zone", "budget.scopes[0].daily", "gateway.api_key", "ledger.pth"])
        #expect(list.description.split(separator: "\n").count == 5)
        #expect(list.description.split(separator: "\n").allSatisfy { $0.hasPrefix("all.yaml:") })
    }

    @Test("An unreadable file is one error naming it")
    func unreadable() {
        #expect {
            _ = try DeploymentConfiguration.load(contentsOf: URL(fileURLWithPath: "/nonexistent/bats.yaml"))
        } throws: { error in
            guard let list = error as? ConfigurationError.List, let e = list.errors.first else { return false }
            return list.errors.count == 1 && e.isUnreadable && e.description.hasPrefix("/nonexistent/bats.yaml:1: ") && e.message.contains("no such file")
        }
    }
}
