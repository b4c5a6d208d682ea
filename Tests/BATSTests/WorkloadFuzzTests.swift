import Foundation
import Replay
import Testing

@Suite("Workload fuzzing")
struct WorkloadFuzzTests {
    static let seeds: [UInt64] = [1, 2, 3, 4]

    @Test("random mutations of valid lines never crash: each line parses or gives a typed error", arguments: seeds)
    func mutations(seed: UInt64) throws {
        let valid = [
            #"{"ts":"2026-10-01T13:30:00.123Z","id":"trd-1","task":"parse_market_data","complexity":"simple","input_tokens":600,"output_tokens":80,"max_output_tokens":256,"tags":{"agent":"scanner","symbol":"SPY"}}"#,
            #"{"ts":1790861400.5,"complexity":"critical","input_tokens":2000,"output_tokens":300,"tags":{"a\"b":"\u00e9"}}"#,
        ]
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \tnulltruefalse"\u"#.utf8) + [0x00, 0xFF, 0xC3, 0x0A]
        var rng = SeededGenerator(seed: seed)
        var parsed = 0
        var failed = 0
        for _ in 0..<3_000 {
            var bytes = Array(valid[rng.uniform(in: 0...1)].utf8)
            for _ in 0..<rng.uniform(in: 1...4) {
                let position = rng.uniform(in: 0...(bytes.count - 1))
                switch rng.uniform(in: 0...3) {
                case 0: bytes[position] = alphabet[rng.uniform(in: 0...(alphabet.count - 1))]
                case 1: bytes.remove(at: position)
                case 2: bytes.insert(alphabet[rng.uniform(in: 0...(alphabet.count - 1))], at: position)
                default: bytes.removeSubrange(position...)
                }
                if bytes.isEmpty { bytes = [UInt8(ascii: "{")] }
            }
            let text = Data(bytes)
            do {
                let (tasks, _) = try WorkloadReader(data: text, name: "fuzz.jsonl").readAll()
                for task in tasks {
                    #expect(task.inputTokens > 0 && task.outputTokens >= 0)
                    #expect(task.task != nil || task.complexity != nil)
                }
                parsed += 1
            } catch {
                #expect(error.file == "fuzz.jsonl")
                #expect(error.line != nil)
                failed += 1
            }
        }
        #expect(parsed > 0 && failed > 0)
    }

    @Test("deep nesting in an unknown field does not overflow the stack")
    func deepNesting() {
        let deep = String(repeating: "[", count: 200_000)
        let line = #"{"ts":1,"task":"x","input_tokens":1,"output_tokens":1,"junk":\#(deep)"#
        #expect(throws: ReplayError.self) { try WorkloadReader(data: Data(line.utf8)).readAll() }
    }
}
