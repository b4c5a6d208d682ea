import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Workload writer")
struct WorkloadWriterTests {
    @Test("canonical line: fixed key order, sorted tags, UTC timestamps")
    func canonicalLine() {
        let task = WorkloadTask(
            epochNanoseconds: 1_790_861_400_123_000_000, id: "t-1", task: "parse_market_data", complexity: .simple,
            inputTokens: 600, outputTokens: 80, maxOutputTokens: 256, tags: ["symbol": "SPY", "agent": "scanner"])
        #expect(WorkloadWriter.line(for: task) == #"{"ts":"2026-10-01T13:30:00.123Z","id":"t-1","task":"parse_market_data","complexity":"simple","input_tokens":600,"output_tokens":80,"max_output_tokens":256,"tags":{"agent":"scanner","symbol":"SPY"}}"#)
        let minimal = WorkloadTask(epochNanoseconds: 0, complexity: .critical, inputTokens: 1, outputTokens: 0)
        #expect(WorkloadWriter.line(for: minimal) == #"{"ts":"1970-01-01T00:00:00Z","complexity":"critical","input_tokens":1,"output_tokens":0}"#)
    }

    @Test("fraction digits: none, 3, 6 or 9", arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (Int64(5_000_000), "1970-01-01T00:00:00.005Z"),
        (Int64(5_000), "1970-01-01T00:00:00.000005Z"), (Int64(5), "1970-01-01T00:00:00.000000005Z"),
        (Int64(-1_000_000_000), "1969-12-31T23:59:59Z"), (Int64(951_782_400) * 1_000_000_000, "2000-02-29T00:00:00Z"),
    ])
    func timestamps(nanos: Int64, text: String) {
        #expect(WorkloadTask(epochNanoseconds: nanos, complexity: .simple, inputTokens: 1, outputTokens: 0).timestampString == text)
    }

    @Test("escapes strings so any value reads back unchanged")
    func escaping() throws {
        let task = WorkloadTask(
            epochNanoseconds: 1, id: "q\"\\\n\t\u{01}é😀", task: "x", inputTokens: 1, outputTokens: 0, tags: ["k\"": "v\n"])
        let line = WorkloadWriter.line(for: task)
        let (back, _) = try WorkloadReader(data: Data(line.utf8)).readAll()
        #expect(back == [task])
    }

    @Test("read → write → read is the identity, and writing twice gives the same bytes")
    func roundTrip() throws {
        let url = try #require(Bundle.module.url(
            forResource: "trading-30d", withExtension: "jsonl", subdirectory: "Resources/workloads"))
        // The fixture's first 5,000 lines: more than two market days, every task kind, tag and field the generator
        // writes. (GeneratorTests checks the whole fixture against the generator's output.)
        let lines = try Data(contentsOf: url).split(separator: UInt8(ascii: "\n")).prefix(5_000)
        let original = Data(lines.joined(separator: [UInt8(ascii: "\n")]) + [UInt8(ascii: "\n")])
        let (tasks, _) = try WorkloadReader(data: original, name: "trading-30d.jsonl").readAll()
        #expect(tasks.count == 5_000)
        #expect(WorkloadWriter.data(for: tasks) == original)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bats-writer-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: out) }
        let written = try WorkloadWriter(bufferSize: 10_000).write(tasks, to: out)
        #expect(written == tasks.count)
        #expect(try Data(contentsOf: out) == original)
    }
}
