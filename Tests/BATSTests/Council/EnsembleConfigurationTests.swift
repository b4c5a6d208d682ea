import BATS
import BATSConfiguration
import Foundation
import Gateway
import ModelSelection
import Testing

/// `councils:` and `cascades:` in the deployment configuration file: what they parse to, and each mistake reported at
/// its key path and line.
@Suite("Deployment configuration: councils and cascades")
struct EnsembleConfigurationTests {
    static let valid = """
        councils:
          trade:
            tier: reasoning
            members: [deepseek-r1, kimi-k2, {tier: complex}, {model: deepseek-v3}]
            aggregation: {first-agreement: 2}
            minimum_members: 2
            extractor: json:order.side
          judged:
            members: [deepseek-r1, kimi-k2]
            aggregation: {judge: claude-opus}
            judge_max_output_tokens: 64
            extractor: final-number
        cascades:
          extract:
            steps: [deepseek-v3, kimi-k2]
            verifier:
              json-schema:
                type: object
                required: [side]
                properties:
                  side: {type: string, enum: [buy, sell, hold]}
                  size: {type: number, minimum: 0}
          ticker:
            tier: simple
            verifier: {regex: '^[A-Z]{1,5}$'}
          checked:
            verifier:
              judge: {model: claude-opus, criteria: "names a ticker and a side"}
          plain:
            verifier: json
        """

    @Test("Councils and cascades parse to their members, aggregation, extractor, steps and verifiers")
    func parses() throws {
        let c = try DeploymentConfiguration.parse(Self.valid, sourceName: "t.yaml")
        let trade = try #require(c.councils["trade"])
        #expect(trade.name == "trade" && trade.tier == .reasoning)
        #expect(trade.members == [.model("deepseek-r1"), .model("kimi-k2"), .tier(.complex), .model("deepseek-v3")])
        #expect(trade.aggregation == .firstAgreement(2) && trade.minimumMembers == 2 && trade.extractor == "json:order.side")
        let judged = try #require(c.councils["judged"])
        #expect(judged.aggregation == .judge("claude-opus") && judged.judgeMaxOutputTokens == 64 && judged.tier == nil)
        let extract = try #require(c.cascades["extract"])
        #expect(extract.steps == ["deepseek-v3", "kimi-k2"])
        guard case .jsonSchema(let schema) = extract.verifier else {
            Issue.record("not a schema verifier: \(extract.verifier)")
            return
        }
        #expect(schema.violation(of: .object(["side": .string("buy"), "size": .integer(3)])) == nil)
        #expect(schema.violation(of: .object(["side": .string("short")])) != nil)
        #expect(schema.violation(of: .object(["side": .string("buy"), "size": .number(-1.5)])) != nil)
        #expect(c.cascades["ticker"]?.verifier == .regex("^[A-Z]{1,5}$") && c.cascades["ticker"]?.tier == .simple)
        #expect(c.cascades["checked"]?.verifier == .judge(model: "claude-opus", criteria: "names a ticker and a side"))
        #expect(c.cascades["plain"]?.verifier == .json && c.cascades["plain"]?.steps == [])
        // A file without the sections has none.
        let empty = try DeploymentConfiguration.parse("version: 1\n", sourceName: "t.yaml")
        #expect(empty.councils.isEmpty && empty.cascades.isEmpty)
    }

    @Test("The shipped example's trading council and quote cascade load")
    func example() throws {
        let c = try DeploymentConfiguration.load(contentsOf: RepositoryFiles.example)
        let trade = try #require(c.councils["trade"])
        #expect(trade.members == [.model("deepseek-r1"), .model("kimi-k2")] && trade.tier == .reasoning)
        #expect(trade.aggregation == .majority && trade.minimumMembers == 2 && trade.extractor == "json:decision")
        #expect(trade.taskKinds == ["size_position"])
        let quote = try #require(c.cascades["parse_quote"])
        #expect(quote.steps == ["deepseek-v3", "kimi-k2"])
        guard case .jsonSchema(let schema) = quote.verifier else {
            Issue.record("not a schema verifier")
            return
        }
        #expect(schema.violation(of: .object(["symbol": .string("AAPL"), "price": .number(231.4)])) == nil)
        #expect(schema.violation(of: .object(["symbol": .string("AAPL")])) != nil)
    }

    @Test("The councils and cascades samples in docs/configuration.md and docs/serve.md load", arguments: ["docs/configuration.md", "docs/serve.md"])
    func docsSamples(_ doc: String) throws {
        let text = try String(contentsOf: RepositoryFiles.root.appendingPathComponent(doc), encoding: .utf8)
        let blocks = text.components(separatedBy: "```yaml\n").dropFirst().compactMap { $0.components(separatedBy: "```").first }
        let samples = blocks.filter { $0.hasPrefix("councils:") || $0.hasPrefix("cascades:") }
        #expect(!samples.isEmpty, "no councils or cascades sample in \(doc)")
        for sample in samples {
            let c = try DeploymentConfiguration.parse(sample, sourceName: doc)
            #expect(!c.councils.isEmpty || !c.cascades.isEmpty)
        }
    }

    @Test("Every extractor name the file accepts is one the router's AnswerExtractor.named knows")
    func extractorNamesAgree() {
        for name in DeploymentConfiguration.Council.extractorNames + ["json:decision", "json:order.side"] {
            #expect(AnswerExtractor.named(name)?.name == name, "\(name)")
        }
    }

    /// One mistake: the YAML, the key path the error must name, and what kind of error it is.
    struct Mistake: Sendable, CustomStringConvertible {
        var yaml: String
        var key: String
        var line: Int
        var kind: @Sendable (ConfigurationError) -> Bool
        var description: String { key }
    }

    static func council(_ body: String) -> String { "councils:\n  trade:\n" + body.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n") + "\n" }
    static func cascade(_ body: String) -> String { "cascades:\n  extract:\n" + body.split(separator: "\n").map { "    \($0)" }.joined(separator: "\n") + "\n" }

    static let mistakes: [Mistake] = [
        .init(yaml: council("members: [deepseek-r1, kimi-k3]"), key: "councils.trade.members[1]", line: 3, kind: \.isUnknownModel),
        .init(yaml: council("members:\n  - deepseek-r1\n  - model: gpt-9"), key: "councils.trade.members[1].model", line: 5, kind: \.isUnknownModel),
        .init(yaml: council("members: [deepseek-r1, text-embedding-3-small]"), key: "councils.trade.members[1]", line: 3, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, {tier: hard}]"), key: "councils.trade.members[1].tier", line: 3, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, {tier: simple, model: kimi-k2}]"), key: "councils.trade.members[1]", line: 3, kind: \.isInvalidValue),
        .init(yaml: council("members: []"), key: "councils.trade.members", line: 3, kind: \.isInvalidValue),
        .init(yaml: council("extractor: text"), key: "councils.trade.members", line: 3, kind: \.isMissingKey),
        .init(yaml: council("members: [deepseek-r1]\nmembrs: [kimi-k2]"), key: "councils.trade.membrs", line: 4, kind: \.isUnknownKey),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\naggregation: {first-agreement: 3}"), key: "councils.trade.aggregation.first-agreement", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\naggregation: {first-agreement: 0}"), key: "councils.trade.aggregation.first-agreement", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\naggregation: unanimous"), key: "councils.trade.aggregation", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\naggregation: {judge: gpt-9}"), key: "councils.trade.aggregation.judge", line: 4, kind: \.isUnknownModel),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\naggregation: {vote: 2}"), key: "councils.trade.aggregation.vote", line: 4, kind: \.isUnknownKey),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\nminimum_members: 3"), key: "councils.trade.minimum_members", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\nextractor: last-word"), key: "councils.trade.extractor", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\nextractor: 'json:a..b'"), key: "councils.trade.extractor", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1, kimi-k2]\njudge_max_output_tokens: 64"), key: "councils.trade.judge_max_output_tokens", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1]\ntier: hard"), key: "councils.trade.tier", line: 4, kind: \.isInvalidValue),
        .init(yaml: "councils:\n  trade/x:\n    members: [deepseek-r1]\n", key: "councils.trade/x", line: 2, kind: \.isInvalidValue),
        .init(yaml: "councils: [trade]\n", key: "councils", line: 1, kind: \.isWrongType),
        .init(yaml: cascade("verifier: {regex: '([a-z'}"), key: "cascades.extract.verifier.regex", line: 3, kind: \.isInvalidValue),
        .init(yaml: cascade("verifier:\n  json-schema:\n    type: object\n    properties:\n      side: {type: strng}"), key: "cascades.extract.verifier.json-schema.properties.side.type", line: 7, kind: \.isInvalidValue),
        .init(yaml: cascade("verifier:\n  json-schema: {oneOf: []}"), key: "cascades.extract.verifier.json-schema.oneOf", line: 4, kind: \.isInvalidValue),
        .init(yaml: cascade("verifier:\n  json-schema: '{not json'"), key: "cascades.extract.verifier.json-schema", line: 4, kind: \.isInvalidValue),
        .init(yaml: cascade("verifier: yaml"), key: "cascades.extract.verifier", line: 3, kind: \.isInvalidValue),
        .init(yaml: cascade("verifier: {json: true}"), key: "cascades.extract.verifier.json", line: 3, kind: \.isUnknownKey),
        .init(yaml: cascade("steps: [deepseek-v3]"), key: "cascades.extract.verifier", line: 3, kind: \.isMissingKey),
        .init(yaml: cascade("steps: [deepseek-v3, kimi-k3]\nverifier: json"), key: "cascades.extract.steps[1]", line: 3, kind: \.isUnknownModel),
        .init(yaml: cascade("steps: [deepseek-v3, deepseek-v3]\nverifier: json"), key: "cascades.extract.steps[1]", line: 3, kind: \.isInvalidValue),
        .init(yaml: cascade("steps: []\nverifier: json"), key: "cascades.extract.steps", line: 3, kind: \.isInvalidValue),
        .init(yaml: cascade("stepz: [deepseek-v3]\nverifier: json"), key: "cascades.extract.stepz", line: 3, kind: \.isUnknownKey),
        .init(yaml: cascade("verifier:\n  judge: {model: claude-opus}"), key: "cascades.extract.verifier.judge.criteria", line: 4, kind: \.isMissingKey),
        .init(yaml: cascade("verifier:\n  judge: {model: gpt-9, criteria: ok}"), key: "cascades.extract.verifier.judge.model", line: 4, kind: \.isUnknownModel),
        .init(yaml: council("members: [deepseek-r1]\ntask_kinds: [execute trade]"), key: "councils.trade.task_kinds[0]", line: 4, kind: \.isInvalidValue),
        .init(yaml: council("members: [deepseek-r1]\ntask_kinds: execute_trade"), key: "councils.trade.task_kinds", line: 4, kind: \.isWrongType),
        .init(
            yaml: council("members: [deepseek-r1]\ntask_kinds: [execute_trade]") + cascade("verifier: json\ntask_kinds: [parse, execute_trade]"),
            key: "cascades.extract.task_kinds[1]", line: 8, kind: \.isInvalidValue),
    ]

    @Test("task_kinds: the kinds a council or cascade answers for")
    func taskKinds() throws {
        let c = try DeploymentConfiguration.parse(
            Self.council("members: [deepseek-r1, kimi-k2]\ntask_kinds: [execute_trade, size_position]") + Self.cascade("verifier: json\ntask_kinds: [parse_quote]"),
            sourceName: "t.yaml")
        #expect(c.councils["trade"]?.taskKinds == ["execute_trade", "size_position"])
        #expect(c.cascades["extract"]?.taskKinds == ["parse_quote"])
        let e = try #require(configurationErrors(Self.council("members: [deepseek-r1]\ntask_kinds: [a, a]")).first)
        #expect(e.key == "councils.trade.task_kinds[1]" && e.message.contains("already claimed by councils.trade.task_kinds"), "\(e)")
    }

    @Test("A mistake in a council or a cascade is a configuration error naming its key path and line", arguments: mistakes)
    func mistake(_ m: Mistake) throws {
        let errors = configurationErrors(m.yaml)
        #expect(errors.count == 1, "\(errors)")
        let e = try #require(errors.first)
        #expect(e.key == m.key, "\(e)")
        #expect(e.line == m.line, "\(e)")
        #expect(m.kind(e), "\(e)")
        #expect(e.description.hasPrefix("t.yaml:\(m.line): \(m.key): "), "\(e)")
    }

    @Test("An unknown council key names the nearest known one")
    func suggestion() throws {
        let e = try #require(configurationErrors(Self.council("members: [deepseek-r1]\naggregaton: majority")).first)
        #expect(e.isUnknownKey && e.message.contains("did you mean 'aggregation'?"), "\(e)")
    }
}
