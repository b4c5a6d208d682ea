import Foundation
import ModelSelection
import Replay
import Testing

// MARK: - Helpers

/// Reads JSONL text as a workload named `workload.jsonl`.
func readWorkload(_ text: String, skipInvalid: Bool = false) throws(ReplayError) -> (tasks: [WorkloadTask], summary: WorkloadReader.Summary) {
    try WorkloadReader(data: Data(text.utf8), configuration: .init(skipInvalid: skipInvalid)).readAll()
}

/// The error a single bad line (preceded by two good lines) produces.
func workloadError(_ line: String) -> ReplayError? {
    let good = #"{"ts":"2026-10-01T13:30:00Z","complexity":"simple","input_tokens":10,"output_tokens":5}"#
    do {
        _ = try readWorkload("\(good)\n\(good)\n\(line)\n\(good)\n")
        return nil
    } catch {
        return error
    }
}

@Suite("Workload reader")
struct WorkloadReaderTests {
    // MARK: - Field forms

    @Test("timestamps: RFC 3339 forms and epoch seconds", arguments: [
        (#""2026-10-01T13:30:00Z""#, Int64(1_790_861_400) * 1_000_000_000),
        (#""2026-10-01T13:30:00.5Z""#, Int64(1_790_861_400) * 1_000_000_000 + 500_000_000),
        (#""2026-10-01T13:30:00.123456789Z""#, Int64(1_790_861_400) * 1_000_000_000 + 123_456_789),
        (#""2026-10-01T09:30:00-04:00""#, Int64(1_790_861_400) * 1_000_000_000),
        (#""2026-10-01T15:30:00+02:00""#, Int64(1_790_861_400) * 1_000_000_000),
        (#""2026-10-01 13:30:00""#, Int64(1_790_861_400) * 1_000_000_000),
        (#""2026-10-01t13:30:00z""#, Int64(1_790_861_400) * 1_000_000_000),
        ("1790861400", Int64(1_790_861_400) * 1_000_000_000),
        ("1790861400.25", Int64(1_790_861_400) * 1_000_000_000 + 250_000_000),
        ("1.7908614e9", Int64(1_790_861_400) * 1_000_000_000),
    ])
    func timestamps(ts: String, nanos: Int64) throws {
        let (tasks, _) = try readWorkload(#"{"ts":\#(ts),"complexity":"simple","input_tokens":1,"output_tokens":0}"#)
        #expect(tasks.map(\.epochNanoseconds) == [nanos])
    }

    @Test("every field, escapes, nulls and unknown fields")
    func allFields() throws {
        let line = #"""
            { "ts" : "2026-10-01T13:30:00.250Z", "id": "a\"b\\c\u00e9\ud83d\ude00", "task": "parse_market_data",
              "complexity": "simple", "input_tokens": 600, "output_tokens": 80, "max_output_tokens": 256,
              "tags": {"agent": "scanner", "symbol": "SPY"}, "extra": [1, {"x": [true, false, null]}, "s"] }
            """#.replacingOccurrences(of: "\n", with: " ")
        let (tasks, summary) = try readWorkload(line)
        let task = try #require(tasks.first)
        #expect(task.id == "a\"b\\cé😀")
        #expect(task.task == "parse_market_data")
        #expect(task.complexity == .simple)
        #expect(task.inputTokens == 600)
        #expect(task.outputTokens == 80)
        #expect(task.maxOutputTokens == 256)
        #expect(task.tags == ["agent": "scanner", "symbol": "SPY"])
        #expect(task.timestampString == "2026-10-01T13:30:00.250Z")
        #expect(summary.tasks == 1)
    }

    @Test("task only, complexity only, nulls for optional fields")
    func optionalForms() throws {
        let text = """
            {"ts":1,"task":"execute_trade","input_tokens":1,"output_tokens":0}
            {"ts":2,"complexity":"critical","input_tokens":1,"output_tokens":0,"id":null,"tags":null,"max_output_tokens":null}
            """
        let (tasks, _) = try readWorkload(text)
        #expect(tasks[0].task == "execute_trade" && tasks[0].complexity == nil)
        #expect(tasks[1].task == nil && tasks[1].complexity == .critical && tasks[1].id == nil && tasks[1].tags.isEmpty)
    }

    @Test("blank lines, CRLF, BOM and a missing final newline")
    func blankLines() throws {
        let line = #"{"ts":1,"complexity":"medium","input_tokens":3,"output_tokens":4}"#
        let text = "\u{FEFF}\(line)\r\n\r\n   \n\t\n\(line)"
        let (tasks, summary) = try readWorkload(text)
        #expect(tasks.count == 2)
        #expect(summary.lines == 5)
        #expect(summary.blankLines == 3)
    }

    // MARK: - Bad lines

    @Test("bad lines name the file, the line and the field", arguments: [
        (#"{"ts":1,"complexity":"simple","input_tokens":-5,"output_tokens":1}"#, "input_tokens",
         "must be a positive integer, got -5"),
        (#"{"ts":1,"complexity":"simple","input_tokens":0,"output_tokens":1}"#, "input_tokens", "got 0"),
        (#"{"ts":1,"complexity":"simple","input_tokens":1.5,"output_tokens":1}"#, "input_tokens", "got 1.5"),
        (#"{"ts":1,"complexity":"simple","input_tokens":"12","output_tokens":1}"#, "input_tokens", #"got "12""#),
        (#"{"ts":1,"complexity":"simple","input_tokens":1,"output_tokens":-1}"#, "output_tokens",
         "must be a non-negative integer, got -1"),
        (#"{"ts":1,"complexity":"simple","input_tokens":1,"output_tokens":true}"#, "output_tokens", "got true"),
        (#"{"ts":1,"complexity":"simple","input_tokens":1,"output_tokens":5,"max_output_tokens":2}"#,
         "max_output_tokens", "at least output_tokens"),
        (#"{"ts":1,"complexity":"simple","input_tokens":99999999999,"output_tokens":1}"#, "input_tokens", "at most"),
        (#"{"ts":1,"complexity":"hard","input_tokens":1,"output_tokens":1}"#, "complexity", #"got "hard""#),
        (#"{"ts":1,"complexity":3,"input_tokens":1,"output_tokens":1}"#, "complexity", "must be a string"),
        (#"{"ts":1,"input_tokens":1,"output_tokens":1}"#, "complexity", "'task' or 'complexity'"),
        (#"{"ts":1,"task":"","input_tokens":1,"output_tokens":1}"#, "task", "must not be empty"),
        (#"{"ts":"yesterday","task":"x","input_tokens":1,"output_tokens":1}"#, "ts", "RFC 3339"),
        (#"{"ts":"2026-02-30T00:00:00Z","task":"x","input_tokens":1,"output_tokens":1}"#, "ts", "RFC 3339"),
        (#"{"ts":[1],"task":"x","input_tokens":1,"output_tokens":1}"#, "ts", "RFC 3339"),
        (#"{"task":"x","input_tokens":1,"output_tokens":1}"#, "ts", "is required"),
        (#"{"ts":1,"task":"x","output_tokens":1}"#, "input_tokens", "is required"),
        (#"{"ts":1,"task":"x","input_tokens":1}"#, "output_tokens", "is required"),
        (#"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1,"tags":{"a":1}}"#, "tags", "tag 'a' must be a string"),
        (#"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1,"tags":"a"}"#, "tags", "object of strings"),
        (#"{"ts":1,"task":"x","task":"y","input_tokens":1,"output_tokens":1}"#, "task", "duplicate"),
        (#"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1,"tags":{"a":"b"#, "tags", "invalid JSON"),
    ])
    func badLine(line: String, field: String, fragment: String) throws {
        let error = try #require(workloadError(line))
        #expect(error.file == "workload.jsonl")
        #expect(error.line == 3)
        #expect(error.field == field)
        #expect(error.description.hasPrefix("workload.jsonl:3: field '\(field)': "), "\(error)")
        #expect(error.description.contains(fragment), "\(error)")
    }

    @Test("the example message of the format doc")
    func exampleMessage() throws {
        let error = try #require(workloadError(#"{"ts":1,"complexity":"simple","input_tokens":-5,"output_tokens":1}"#))
        #expect(error.description == "workload.jsonl:3: field 'input_tokens': must be a positive integer, got -5")
        #expect(error.code == .invalidField)
    }

    @Test("truncated or malformed JSON", arguments: [
        #"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1"#,
        #"{"ts":1,"task":"x","input_tokens":1,"#,
        #"{"ts":1,"task":"x"#,
        #"["ts"]"#,
        #"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1} trailing"#,
        #"{"ts":1 "task":"x"}"#,
        "{",
        "not json",
    ])
    func malformed(line: String) throws {
        let error = try #require(workloadError(line))
        #expect(error.code == .malformedLine || error.code == .invalidField || error.code == .missingField)
        #expect(error.description.hasPrefix("workload.jsonl:3: "), "\(error)")
    }

    @Test("skip-invalid counts bad lines and keeps the first few messages")
    func skipInvalid() throws {
        let good = #"{"ts":1,"complexity":"simple","input_tokens":1,"output_tokens":1}"#
        var lines: [String] = []
        for n in 1...20 { lines.append(n % 3 == 0 ? #"{"ts":1,"complexity":"nope","input_tokens":1,"output_tokens":1}"# : good) }
        let (tasks, summary) = try readWorkload(lines.joined(separator: "\n"), skipInvalid: true)
        #expect(tasks.count == 14)
        #expect(summary.invalidLines == 6)
        #expect(summary.errors.count == 5)
        #expect(summary.errors.map(\.line) == [3, 6, 9, 12, 15])
        #expect(summary.errors.allSatisfy { $0.field == "complexity" })
    }

    // MARK: - Files

    @Test("reads a file in small blocks, lines spanning blocks; async iteration agrees")
    func fileBlocks() async throws {
        let fixture = try #require(Bundle.module.url(
            forResource: "trading-30d", withExtension: "jsonl", subdirectory: "Resources/workloads"))
        // The fixture's first 3,000 lines (about 110 blocks of 4 KiB, nearly every one ending mid-line) exercise the
        // block boundaries as well as all 63,096 would, in a twentieth of the time.
        let lines = try Data(contentsOf: fixture).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).prefix(3_000)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bats-blocks-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(lines.joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")]).write(to: url)
        #expect(try Data(contentsOf: url).count > 100 * 4096)
        let small = WorkloadReader(url: url, configuration: .init(blockSize: 4096))
        var iterator = small.makeIterator()
        var count = 0
        var last: WorkloadTask?
        while let task = try iterator.next() {
            count += 1
            if let last { #expect(last.epochNanoseconds <= task.epochNanoseconds) }
            last = task
        }
        #expect(count == iterator.summary.tasks)
        #expect(count == 3_000)
        var asyncCount = 0
        for try await _ in WorkloadReader(url: url) { asyncCount += 1 }
        #expect(asyncCount == count)
    }

    @Test("a missing file is an io error naming it")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/w.jsonl")
        var iterator = WorkloadReader(url: url).makeIterator()
        #expect(throws: ReplayError.self) { try iterator.next() }
        do {
            _ = try WorkloadReader(url: url).readAll()
        } catch {
            #expect(error.code == .io)
            #expect(error.file == "w.jsonl")
        }
    }
}
