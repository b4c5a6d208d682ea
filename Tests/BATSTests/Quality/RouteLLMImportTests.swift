import Foundation
import ModelSelection
import Replay
import Testing

@Suite("RouteLLM import")
struct RouteLLMImportTests {
    static let weakColumn = "mistralai/Mixtral-8x7B-Instruct-v0.1"
    static let strongColumn = "gpt-4-1106-preview"

    static func fixture() throws -> URL {
        try #require(Bundle.module.url(
            forResource: "gsm8k_responses", withExtension: "csv", subdirectory: "Resources/quality/routellm_gsm8k"))
    }

    static func configuration(complexity: Complexity = .medium) -> RouteLLMImporter.Configuration {
        .init(weakColumn: weakColumn, strongColumn: strongColumn, weakModel: .deepseekV3, strongModel: .claudeOpus, complexity: complexity)
    }

    /// The GSM8K tasks, imported once per call.
    static func gsm8k() throws -> [WorkloadTask] {
        try RouteLLMImporter(url: fixture(), configuration: configuration()).importAll()
    }

    static func share(_ tasks: [WorkloadTask], _ correct: (WorkloadTask) -> Bool) -> Double {
        Double(tasks.filter(correct).count) / Double(tasks.count)
    }

    @Test("GSM8K: 1,319 tasks; weak correct 63.8%, strong 85.7%, either (the oracle bound) 92.9%")
    func gsm8kShares() throws {
        let tasks = try Self.gsm8k()
        #expect(tasks.count == 1_319)
        let weak = Self.share(tasks) { $0.outcomes[.deepseekV3]?.correct == true }
        let strong = Self.share(tasks) { $0.outcomes[.claudeOpus]?.correct == true }
        let either = Self.share(tasks) { $0.outcomes.values.contains { $0.correct } }
        #expect(String(format: "%.1f", weak * 100) == "63.8")
        #expect(String(format: "%.1f", strong * 100) == "85.7")
        #expect(String(format: "%.1f", either * 100) == "92.9")
        #expect(tasks.allSatisfy { $0.outcomes.count == 2 && $0.complexity == .medium && $0.tags["source"] == "routellm" })
        #expect(tasks.first?.id == "routellm-1" && tasks.last?.id == "routellm-1319")
    }

    @Test("tokens: the prompt by TokenEstimator.typical, each label's output from its response text")
    func tokens() throws {
        let first = try #require(try Self.gsm8k().first)
        let prompt = "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?"
        #expect(first.inputTokens == (prompt.utf8.count + 3) / 4 + 4 + 3)
        // The first record's responses are 233 and 262 UTF-8 bytes (counted with Python's csv module): ⌈÷ 4⌉.
        #expect(first.outcomes[.deepseekV3]?.outputTokens == 59)
        #expect(first.outcomes[.claudeOpus]?.outputTokens == 66)
        #expect(first.outputTokens == 66)
        // Over the file (the same independent count): 99,794 weak and 138,513 strong response tokens, 88,871 prompt tokens.
        let tasks = try Self.gsm8k()
        #expect(tasks.reduce(0) { $0 + ($1.outcomes[.deepseekV3]?.outputTokens ?? 0) } == 99_794)
        #expect(tasks.reduce(0) { $0 + ($1.outcomes[.claudeOpus]?.outputTokens ?? 0) } == 138_513)
        #expect(tasks.reduce(0) { $0 + $1.inputTokens } == 88_871)
    }

    @Test("quoted fields: commas, doubled quotes, CRLF and newlines inside quotes; no response columns → the default")
    func quoting() throws {
        let csv = "prompt,weak,strong\r\n\"a, \"\"quoted\"\"\nprompt\",True,false\r\nplain,FALSE,True\r\n"
        let config = RouteLLMImporter.Configuration(
            weakColumn: "weak", strongColumn: "strong", weakModel: .deepseekV3, strongModel: .claudeOpus, defaultOutputTokens: 99)
        let tasks = try RouteLLMImporter(data: Data(csv.utf8), name: "t.csv", configuration: config).importAll()
        #expect(tasks.count == 2)
        #expect(tasks[0].inputTokens == ("a, \"quoted\"\nprompt".utf8.count + 3) / 4 + 7)
        #expect(tasks[0].outcomes == [.deepseekV3: .init(correct: true), .claudeOpus: .init(correct: false)])
        #expect(tasks[1].outcomes == [.deepseekV3: .init(correct: false), .claudeOpus: .init(correct: true)])
        #expect(tasks.allSatisfy { $0.outputTokens == 99 })
        #expect(tasks[1].epochNanoseconds - tasks[0].epochNanoseconds == 60_000_000_000)
    }

    @Test("a mix draws tiers from the seed: the same seed gives the same tasks")
    func mix() throws {
        let mix = try TierMix(parsing: "simple=0.5,complex=0.5")
        var config = Self.configuration()
        config.mix = mix
        config.seed = 3
        let a = try RouteLLMImporter(url: Self.fixture(), configuration: config).importAll()
        let b = try RouteLLMImporter(url: Self.fixture(), configuration: config).importAll()
        #expect(a == b)
        #expect(Set(a.compactMap(\.complexity)) == [.simple, .complex])
    }

    @Test("bad files name the file, the line (or record) and what is wrong", arguments: [
        ("", 1, nil, "the file is empty"),
        ("question,weak,strong\nq,True,True\n", 1, "prompt", "no prompt column 'prompt' (columns: question, weak, strong)"),
        ("prompt,weak,other\nq,True,True\n", 1, "strong", "no strong model column 'strong' (columns: prompt, weak, other)"),
        ("prompt,weak,strong\nq,True,True\nq,yes,True\n", 3, "weak", "record 2: must be True or False, got 'yes'"),
        ("prompt,weak,strong\nq,True,\n", 2, "strong", "must be True or False, got ''"),
        ("prompt,weak,strong\nq,True\n", 2, nil, "record 1 has 2 fields, the header has 3"),
        ("prompt,weak,strong\n\"q,True,True\nr,True,True\n", 2, nil, "never closed (unterminated quote)"),
        ("prompt,weak,strong\n\"q\"x,True,True\n", 2, nil, "unexpected text after a closing quote"),
        ("prompt,weak,strong\nq\"x,True,True\n", 2, nil, "a quote inside an unquoted field"),
        ("prompt,weak,strong\n\"multi\nline\",True,True\nq,True,maybe\n", 4, "strong", "record 2: must be True or False"),
    ] as [(String, Int, String?, String)])
    func badFiles(csv: String, line: Int, field: String?, fragment: String) throws {
        let config = RouteLLMImporter.Configuration(weakColumn: "weak", strongColumn: "strong", weakModel: .deepseekV3, strongModel: .claudeOpus)
        do {
            _ = try RouteLLMImporter(data: Data(csv.utf8), name: "r.csv", configuration: config).importAll()
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "r.csv")
            #expect(error.line == line, "\(error)")
            #expect(error.field == field, "\(error)")
            #expect(error.description.hasPrefix("r.csv:\(line): "), "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test("the same model or column for weak and strong is refused")
    func sameModel() {
        let same = RouteLLMImporter.Configuration(weakColumn: "a", strongColumn: "b", weakModel: .claudeOpus, strongModel: .claudeOpus)
        #expect(throws: ReplayError.self) { try RouteLLMImporter(data: Data(), name: "r.csv", configuration: same) }
        let column = RouteLLMImporter.Configuration(weakColumn: "a", strongColumn: "a", weakModel: .deepseekV3, strongModel: .claudeOpus)
        #expect(throws: ReplayError.self) { try RouteLLMImporter(data: Data(), name: "r.csv", configuration: column) }
    }
}
