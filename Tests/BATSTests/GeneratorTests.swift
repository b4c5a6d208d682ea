import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Trading workload generator")
struct GeneratorTests {
    static func bytes(days: Int, seed: UInt64, start: String = "2026-10-01") throws -> Data {
        WorkloadWriter.data(for: try TradingWorkloadGenerator(configuration: .init(days: days, seed: seed, startDate: start)))
    }

    /// UTC weekday (0 = Sunday) and seconds of day of a task.
    static func utc(_ task: WorkloadTask) -> (date: String, weekday: Int, seconds: Int) {
        let seconds = Int(task.epochNanoseconds / 1_000_000_000)
        let day = seconds / 86_400
        return (String(task.timestampString.prefix(10)), (day + 4) % 7, seconds % 86_400)
    }

    @Test("same seed, same bytes; another seed, other bytes")
    func determinism() throws {
        #expect(try Self.bytes(days: 5, seed: 7) == Self.bytes(days: 5, seed: 7))
        #expect(try Self.bytes(days: 5, seed: 7) != Self.bytes(days: 5, seed: 8))
    }

    @Test("the committed 30-day fixture is exactly --days 30 --seed 7")
    func fixture() throws {
        let url = try #require(Bundle.module.url(
            forResource: "trading-30d", withExtension: "jsonl", subdirectory: "Resources/workloads"))
        #expect(try Data(contentsOf: url) == Self.bytes(days: 30, seed: 7))
    }

    @Test("a date's traffic does not depend on the start date")
    func dayStreams() throws {
        let generator = try TradingWorkloadGenerator(configuration: .init(days: 3, seed: 7, startDate: "2026-10-01"))
        let later = try TradingWorkloadGenerator(configuration: .init(days: 1, seed: 7, startDate: "2026-10-05"))
        let fromStart = Array(generator).filter { $0.timestampString.hasPrefix("2026-10-05") }
        #expect(fromStart == Array(later))
        #expect(generator.tasks(on: "2026-10-05") == fromStart)
    }

    @Test("30 market days: weekdays only, in US market hours (with daylight saving), in time order")
    func marketDays() throws {
        let generator = try TradingWorkloadGenerator(configuration: .init(days: 30, seed: 7))
        let days = generator.marketDays
        #expect(days.count == 30)
        #expect(days.first == "2026-10-01")
        #expect(days.last == "2026-11-11")
        var previous: Int64 = .min
        var seen = Set<String>()
        for task in generator {
            #expect(task.epochNanoseconds >= previous)
            previous = task.epochNanoseconds
            let (date, weekday, seconds) = Self.utc(task)
            seen.insert(date)
            #expect(weekday >= 1 && weekday <= 5)
            // EDT until 2026-11-01 (UTC−4), EST after (UTC−5).
            let open = date < "2026-11-01" ? 13 * 3600 + 1800 : 14 * 3600 + 1800
            #expect(seconds >= open && seconds < open + 6 * 3600 + 1800, "\(task.timestampString)")
        }
        #expect(seen == Set(days))
    }

    @Test("holidays are skipped (Thanksgiving, Christmas, New Year's Day)")
    func holidays() throws {
        let days = try TradingWorkloadGenerator(configuration: .init(days: 30, seed: 1, startDate: "2026-11-20")).marketDays
        #expect(!days.contains("2026-11-26"))
        #expect(!days.contains("2026-12-25"))
        #expect(!days.contains("2027-01-01"))
        #expect(days.contains("2026-11-27"))
        let withHolidays = try TradingWorkloadGenerator(
            configuration: .init(days: 30, seed: 1, startDate: "2026-11-20", skipHolidays: false)).marketDays
        #expect(withHolidays.contains("2026-11-26"))
    }

    @Test("daily counts and token sizes are plausible for each kind")
    func plausibility() throws {
        let tasks = Array(try TradingWorkloadGenerator(configuration: .init(days: 20, seed: 3)))
        for kind in TradingWorkloadGenerator.Kind.pipeline {
            let ofKind = tasks.filter { $0.task == kind.name }
            let perDay = Double(ofKind.count) / 20
            #expect(perDay > Double(kind.dailyCount) * 0.8 && perDay < Double(kind.dailyCount) * 1.3, "\(kind.name): \(perDay)")
            #expect(ofKind.allSatisfy { $0.complexity == kind.complexity && $0.tags["agent"] == kind.agent })
            #expect(ofKind.allSatisfy { kind.inputTokens.contains($0.inputTokens) && kind.outputTokens.contains($0.outputTokens) })
            #expect(ofKind.allSatisfy { $0.maxOutputTokens == kind.maxOutputTokens && $0.tags["symbol"] != nil })
            let meanInput = Double(ofKind.map(\.inputTokens).reduce(0, +)) / Double(ofKind.count)
            let middle = Double(kind.inputTokens.lowerBound + kind.inputTokens.upperBound) / 2
            #expect(abs(meanInput - middle) / middle < 0.05)
        }
        #expect(Set(tasks.compactMap(\.id)).count == tasks.count)
    }

    @Test("every trade follows a pre-trade reasoning on the same symbol")
    func tradesFollowReasoning() throws {
        let tasks = try #require(TradingWorkloadGenerator(configuration: .init(days: 1, seed: 11)).tasks(on: "2026-10-02"))
        for (index, trade) in tasks.enumerated() where trade.complexity == .critical {
            let earlier = tasks[..<index].filter { $0.task == "pre_trade_reasoning" && $0.tags["symbol"] == trade.tags["symbol"] }
            #expect(!earlier.isEmpty)
        }
    }

    @Test("invalid configurations are rejected")
    func invalid() {
        #expect(throws: ReplayError.self) { try TradingWorkloadGenerator(configuration: .init(days: 0)) }
        #expect(throws: ReplayError.self) { try TradingWorkloadGenerator(configuration: .init(startDate: "2026-13-01")) }
    }

    @Test(
        "dates whose timestamps do not fit in 64-bit nanoseconds are an invalidArgument error, not a trap",
        arguments: [("9999-12-31", 5), ("0001-01-01", 5), ("1677-09-21", 1), ("2262-04-11", 1), ("2262-03-20", 30), ("2026-02-30", 1)])
    func outOfRange(start: String, days: Int) {
        #expect {
            try TradingWorkloadGenerator(configuration: .init(days: days, startDate: start))
        } throws: { error in
            (error as? ReplayError)?.code == .invalidArgument && "\(error)".contains(start)
        }
    }

    @Test("the first and last supported days generate, with every timestamp in range")
    func edgesOfRange() throws {
        for (start, first, last) in [("1677-09-22", "1677-09-22", "1677-09-23"), ("2262-04-07", "2262-04-07", "2262-04-10")] {
            let g = try TradingWorkloadGenerator(configuration: .init(days: 2, startDate: start, skipHolidays: false))
            let tasks = Array(g)
            #expect(!tasks.isEmpty)
            #expect(tasks.allSatisfy { (first...last).contains(String($0.timestampString.prefix(10))) })
        }
        let g = try TradingWorkloadGenerator(configuration: .init(days: 1))
        #expect(g.tasks(on: "9999-12-31") == nil && g.tasks(on: "0001-01-01") == nil && g.tasks(on: "2026-10-01")?.isEmpty == false)
    }

    @Test("the seeded generator matches the published SplitMix64 sequence and is uniform")
    func seededGenerator() {
        var state: UInt64 = 0
        #expect(SeededGenerator.splitMix64(&state) == 0xE220_A839_7B1D_CDAF)
        var a = SeededGenerator(seed: 99)
        var b = SeededGenerator(seed: 99)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[Int(a.uniform(below: 6))] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 500 })
        #expect((0..<1_000).allSatisfy { _ in (0..<1).contains(a.unitDouble()) })
    }
}
