import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Azure trace import")
struct AzureImportTests {
    static func traceURL(_ kind: String) throws -> URL {
        try #require(Bundle.module.url(
            forResource: "AzureLLMInferenceTrace_\(kind)", withExtension: "csv", subdirectory: "Resources/traces/azure_llm_2023"))
    }

    static func importBytes(_ kind: String, _ configuration: AzureTraceImporter.Configuration) throws -> Data {
        let (tasks, _) = try AzureTraceImporter(url: traceURL(kind), configuration: configuration).importAll()
        return WorkloadWriter.data(for: tasks)
    }

    @Test("imports the conv slice: ids, source tag, tokens, UTC timestamps")
    func importsConv() throws {
        let (tasks, summary) = try AzureTraceImporter(url: Self.traceURL("conv")).importAll()
        #expect(tasks.count == 2_000)
        #expect(summary.tasks == 2_000)
        let first = try #require(tasks.first)
        #expect(first.id == "azure-1")
        #expect(tasks.last?.id == "azure-2000")
        #expect(first.tags == ["source": "azure-conv"])
        #expect(first.inputTokens == 374 && first.outputTokens == 44)
        #expect(first.task == nil && first.complexity != nil)
        #expect(first.timestampString == "2023-11-16T18:15:46.680590Z")
        let (code, _) = try AzureTraceImporter(url: Self.traceURL("code")).importAll()
        #expect(code.first?.tags["source"] == "azure-code")
    }

    @Test("same seed, same bytes; another seed, other bytes")
    func determinism() throws {
        let a = try Self.importBytes("conv", .init(seed: 7, timeScale: 24))
        let b = try Self.importBytes("conv", .init(seed: 7, timeScale: 24))
        let c = try Self.importBytes("conv", .init(seed: 8, timeScale: 24))
        #expect(a == b)
        #expect(a != c)
    }

    @Test("tier proportions follow the mix")
    func proportions() throws {
        let mix = try TierMix(parsing: "simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02")
        var tasks: [WorkloadTask] = []
        for kind in ["conv", "code"] {
            tasks += try AzureTraceImporter(url: Self.traceURL(kind), configuration: .init(mix: mix, seed: 42)).importAll().tasks
        }
        let n = Double(tasks.count)
        for tier in Complexity.allCases {
            let share = Double(tasks.filter { $0.complexity == tier }.count) / n
            #expect(abs(share - mix.share(of: tier)) < 0.03, "\(tier): \(share)")
        }
        let onlyCritical = try AzureTraceImporter(url: Self.traceURL("code"), configuration: .init(mix: TierMix(parsing: "critical=1")))
        #expect(try onlyCritical.importAll().tasks.allSatisfy { $0.complexity == .critical })
    }

    @Test("time scale stretches offsets from the first row", arguments: [1.0, 24.0, 0.5])
    func timeScale(scale: Double) throws {
        let plain = try AzureTraceImporter(url: Self.traceURL("conv")).importAll().tasks
        let scaled = try AzureTraceImporter(url: Self.traceURL("conv"), configuration: .init(timeScale: scale)).importAll().tasks
        let start = plain[0].epochNanoseconds
        #expect(scaled[0].epochNanoseconds == start)
        for (p, s) in zip(plain, scaled) {
            let expected = start + Int64((Double(p.epochNanoseconds - start) * scale).rounded())
            #expect(s.epochNanoseconds == expected)
        }
        if scale == 24 {
            let hours = Double(scaled.last!.epochNanoseconds - start) / 3.6e12
            #expect(abs(hours - 24 * Double(plain.last!.epochNanoseconds - start) / 3.6e12) < 1e-6)
        }
    }

    @Test("bad rows name file, line and column", arguments: [
        ("2023-11-16 18:15:46.6805900,-3,44", "ContextTokens", "must be a positive integer, got '-3'"),
        ("2023-11-16 18:15:46.6805900,0,44", "ContextTokens", "got '0'"),
        ("2023-11-16 18:15:46.6805900,10,x", "GeneratedTokens", "got 'x'"),
        ("2023-13-16 18:15:46.6805900,10,1", "TIMESTAMP", "must be a timestamp"),
        ("2023-11-16 18:15:46.6805900,10", nil, "expected 3 columns"),
    ] as [(String, String?, String)])
    func badRows(row: String, column: String?, fragment: String) throws {
        let csv = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:40.0000000,5,5\n\(row)\n"
        do {
            _ = try AzureTraceImporter(data: Data(csv.utf8), name: "trace.csv").importAll()
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "trace.csv")
            #expect(error.line == 3)
            #expect(error.field == column)
            #expect(error.description.hasPrefix("trace.csv:3: "), "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
        let skipped = try AzureTraceImporter(data: Data(csv.utf8), name: "trace.csv", configuration: .init(skipInvalid: true)).importAll()
        #expect(skipped.tasks.count == 1 && skipped.summary.invalidLines == 1)
    }

    @Test("a wrong header is rejected")
    func badHeader() {
        #expect(throws: ReplayError.self) {
            try AzureTraceImporter(data: Data("time,in,out\n2023-11-16 18:15:40,5,5\n".utf8), name: "t.csv").importAll()
        }
    }

    @Test("time scale must be positive", arguments: [0.0, -1.0, .infinity, .nan])
    func badTimeScale(scale: Double) {
        #expect(throws: ReplayError.self) {
            try AzureTraceImporter(data: Data(), name: "t.csv", configuration: .init(timeScale: scale))
        }
    }

    // MARK: - Mix

    @Test("mix parsing rejects bad input", arguments: [
        "simple=0.5,medium=0.25", "simple=0.5,hard=0.5", "simple=-0.5,medium=1.5", "simple=abc,medium=1",
        "simple=0.5,simple=0.5", "simple", "", "simple=nan,medium=1",
    ])
    func badMix(text: String) {
        #expect(throws: ReplayError.self) { try TierMix(parsing: text) }
    }

    @Test("mix parsing accepts near-1 sums, spaces and omitted tiers; description round-trips")
    func goodMix() throws {
        let mix = try TierMix(parsing: " simple = 0.6 , critical=0.395 ")
        #expect(mix.weights.values.reduce(0, +) == 1_000_000)
        #expect(mix.share(of: .medium) == 0)
        #expect(try TierMix(parsing: mix.description) == mix)
        #expect(TierMix.default.description == "simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02")
    }
}
