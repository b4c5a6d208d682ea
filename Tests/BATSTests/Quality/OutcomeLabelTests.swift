import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Outcome labels in workload lines")
struct OutcomeLabelTests {
    static let base = #"{"ts":1,"complexity":"medium","input_tokens":10,"output_tokens":5"#

    @Test("labels parse: correct, optional output_tokens, null, unknown keys skipped")
    func parses() throws {
        let line = Self.base
            + #","outcomes":{"deepseek-v3":{"correct":false,"output_tokens":212,"grader":"x"},"claude-opus":{"correct":true,"output_tokens":null}}}"#
        let (tasks, _) = try readWorkload(line)
        let task = try #require(tasks.first)
        #expect(task.outcomes == [
            .deepseekV3: .init(correct: false, outputTokens: 212), .claudeOpus: .init(correct: true, outputTokens: nil),
        ])
        #expect(task.outputTokens(on: .deepseekV3) == 212)
        #expect(task.outputTokens(on: .claudeOpus) == 5)
        #expect(task.largestOutputTokens == 212)
        let none = try readWorkload(Self.base + #","outcomes":null}"#).tasks
        #expect(none.first?.outcomes.isEmpty == true)
        let empty = try readWorkload(Self.base + #","outcomes":{}}"#).tasks
        #expect(empty.first?.outcomes.isEmpty == true)
    }

    @Test("bad labels name the file, the line and the field", arguments: [
        (#","outcomes":[true]}"#, "must be an object of labels by model id"),
        (#","outcomes":{"deepseek-v3":true}}"#, "'deepseek-v3' must be an object"),
        (#","outcomes":{"deepseek-v3":{}}}"#, "'correct' (true or false) is required"),
        (#","outcomes":{"deepseek-v3":{"correct":"yes"}}}"#, "'correct' must be true or false, got \"yes\""),
        (#","outcomes":{"deepseek-v3":{"correct":1}}}"#, "'correct' must be true or false, got 1"),
        (#","outcomes":{"deepseek-v3":{"correct":true,"output_tokens":-3}}}"#, "'output_tokens' must be a non-negative integer, got -3"),
        (#","outcomes":{"deepseek-v3":{"correct":true,"output_tokens":2.5}}}"#, "got 2.5"),
        (#","outcomes":{"deepseek-v3":{"correct":true,"correct":false}}}"#, "'correct' is given twice"),
        (#","outcomes":{"deepseek-v3":{"correct":true},"deepseek-v3":{"correct":true}}}"#, "model 'deepseek-v3' is given twice"),
        (#","outcomes":{"":{"correct":true}}}"#, "a model id must not be empty"),
        (#","max_output_tokens":100,"outcomes":{"claude-opus":{"correct":true,"output_tokens":101}}}"#, "must be at most max_output_tokens (100)"),
        (#","outcomes":{"deepseek-v3":{"correct":true}"#, "invalid JSON"),
        (#","outcomes":{"deepseek-v3":{"correct":true},}}"#, "expected a model id"),
    ])
    func badLabel(suffix: String, fragment: String) throws {
        let error = try #require(workloadError(Self.base + suffix))
        #expect(error.file == "workload.jsonl")
        #expect(error.line == 3)
        #expect(error.field == "outcomes")
        #expect(error.description.hasPrefix("workload.jsonl:3: field 'outcomes': "), "\(error)")
        #expect(error.description.contains(fragment), "\(error)")
    }

    @Test("a label of a model outside the catalog is read like any other (the replay counts it as unlabelled)")
    func unknownModel() throws {
        let (tasks, _) = try readWorkload(Self.base + #","outcomes":{"gpt-9":{"correct":true}}}"#)
        #expect(tasks.first?.outcomes[ModelID("gpt-9")]?.correct == true)
    }

    @Test("the writer puts labels last, sorted by model id, and reading them back gives the same task and bytes")
    func roundTrip() throws {
        let task = WorkloadTask(
            epochNanoseconds: 0, id: "q-1", complexity: .medium, inputTokens: 40, outputTokens: 212, tags: ["source": "routellm"],
            outcomes: [.deepseekV3: .init(correct: false, outputTokens: 212), .claudeOpus: .init(correct: true), "a\"b": .init(correct: true, outputTokens: 0)])
        let line = WorkloadWriter.line(for: task)
        #expect(line == #"{"ts":"1970-01-01T00:00:00Z","id":"q-1","complexity":"medium","input_tokens":40,"output_tokens":212,"tags":{"source":"routellm"},"outcomes":{"a\"b":{"correct":true,"output_tokens":0},"claude-opus":{"correct":true},"deepseek-v3":{"correct":false,"output_tokens":212}}}"#)
        let (back, _) = try WorkloadReader(data: Data(line.utf8)).readAll()
        #expect(back == [task])
        #expect(WorkloadWriter.line(for: back[0]) == line)
    }
}
