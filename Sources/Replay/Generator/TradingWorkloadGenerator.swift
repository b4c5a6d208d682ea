public import ModelSelection

/// Generates a plausible, reproducible workload of an automated trading desk (`--profile trading`).
///
/// Each market day (Monday–Friday, NYSE holidays skipped) runs the pipeline of ``Kind/pipeline``: a scanner
/// parses market data, an analyst reads technicals, a strategist structures options trades and reasons
/// before trading, and an executor places trades. Every trade follows a pre-trade reasoning on the same
/// symbol by 30 s to 5 min. Calls fall within 09:30–16:00 America/New_York, busier in the first and the last
/// half hour, and are written in time order with ids `trd-YYYYMMDD-NNNN` and tags `agent` and `symbol`.
///
/// Daily counts vary with a day factor (80–130 %) and a per-kind jitter (90–110 %); token counts are
/// triangular over each kind's range. Every draw comes from a ``SeededGenerator`` seeded by the seed and the
/// day's date, so the same seed always gives the same bytes, and a date's traffic does not depend on the
/// start date.
public struct TradingWorkloadGenerator: Sequence, Sendable {
    /// How the workload is generated.
    public struct Configuration: Sendable, Hashable {
        /// The number of market days to generate (≥ 1).
        public var days: Int
        /// The seed of every draw.
        public var seed: UInt64
        /// The first date (`YYYY-MM-DD`); generation starts on the first market day on or after it.
        public var startDate: String
        /// Skip NYSE full-day holidays as well as weekends.
        public var skipHolidays: Bool

        /// Creates a configuration.
        /// - Parameters:
        ///   - days: Market days to generate (default 30).
        ///   - seed: The seed (default 7).
        ///   - startDate: The first date, `YYYY-MM-DD` (default `2026-10-01`).
        ///   - skipHolidays: Skip NYSE holidays (default `true`).
        public init(days: Int = 30, seed: UInt64 = 7, startDate: String = "2026-10-01", skipHolidays: Bool = true) {
            self.days = days
            self.seed = seed
            self.startDate = startDate
            self.skipHolidays = skipHolidays
        }
    }

    /// One kind of call in the pipeline: its name, tier, agent, base daily count and token ranges.
    public struct Kind: Sendable, Hashable {
        /// The task name (`parse_market_data`).
        public var name: String
        /// The tier the task runs at.
        public var complexity: Complexity
        /// The `agent` tag.
        public var agent: String
        /// Calls on an average day, before variation.
        public var dailyCount: Int
        /// Prompt tokens (triangular over the range, mode at its middle).
        public var inputTokens: ClosedRange<Int>
        /// Completion tokens (triangular over the range).
        public var outputTokens: ClosedRange<Int>
        /// The `max_output_tokens` of each call.
        public var maxOutputTokens: Int

        /// Creates a kind.
        /// - Parameters:
        ///   - name: The task name.
        ///   - complexity: Its tier.
        ///   - agent: The `agent` tag.
        ///   - dailyCount: Calls on an average day.
        ///   - inputTokens: Prompt token range.
        ///   - outputTokens: Completion token range.
        ///   - maxOutputTokens: The `max_output_tokens` of each call.
        public init(
            name: String, complexity: Complexity, agent: String, dailyCount: Int, inputTokens: ClosedRange<Int>,
            outputTokens: ClosedRange<Int>, maxOutputTokens: Int
        ) {
            self.name = name
            self.complexity = complexity
            self.agent = agent
            self.dailyCount = dailyCount
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
            self.maxOutputTokens = maxOutputTokens
        }

        /// Parse a market data snapshot into structured fields.
        public static let parseMarketData = Kind(
            name: "parse_market_data", complexity: .simple, agent: "scanner", dailyCount: 1_500,
            inputTokens: 350...850, outputTokens: 40...120, maxOutputTokens: 256)
        /// Read indicators and chart structure for a symbol.
        public static let analyzeTechnicals = Kind(
            name: "analyze_technicals", complexity: .medium, agent: "analyst", dailyCount: 400,
            inputTokens: 1_200...2_400, outputTokens: 250...550, maxOutputTokens: 1_024)
        /// Design a multi-leg options position.
        public static let optionsStructure = Kind(
            name: "options_structure", complexity: .complex, agent: "strategist", dailyCount: 80,
            inputTokens: 2_000...4_000, outputTokens: 500...1_100, maxOutputTokens: 2_048)
        /// Reason through risk and sizing before a trade.
        public static let preTradeReasoning = Kind(
            name: "pre_trade_reasoning", complexity: .reasoning, agent: "strategist", dailyCount: 40,
            inputTokens: 2_000...4_000, outputTokens: 1_000...2_000, maxOutputTokens: 4_096)
        /// Decide and place an order.
        public static let executeTrade = Kind(
            name: "execute_trade", complexity: .critical, agent: "executor", dailyCount: 15,
            inputTokens: 1_500...2_500, outputTokens: 200...400, maxOutputTokens: 512)

        /// The trading pipeline, from the cheapest tier to the critical one.
        public static let pipeline: [Kind] = [
            parseMarketData, analyzeTechnicals, optionsStructure, preTradeReasoning, executeTrade,
        ]
    }

    /// Symbols and their relative weights.
    static let symbols: [(String, Int)] = [
        ("SPY", 12), ("QQQ", 10), ("NVDA", 8), ("AAPL", 7), ("MSFT", 6), ("TSLA", 6), ("AMZN", 5), ("META", 5),
        ("AMD", 4), ("GOOGL", 4), ("IWM", 3), ("AVGO", 3), ("JPM", 3), ("NFLX", 2), ("XOM", 2), ("COIN", 2),
        ("PLTR", 2), ("UBER", 1), ("BA", 1), ("DIS", 1),
    ]

    /// How the workload is generated.
    public let configuration: Configuration
    private let firstDay: Int64

    /// Creates a generator.
    /// - Parameter configuration: Days, seed and start date.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for days outside 1...100,000, a start
    ///   date that is not a real `YYYY-MM-DD` date, or market days that would run outside 1677-09-22…2262-04-10 (the
    ///   days whose timestamps fit in 64-bit epoch nanoseconds).
    public init(configuration: Configuration = .init()) throws(ReplayError) {
        guard configuration.days >= 1, configuration.days <= 100_000 else {
            throw ReplayError(.invalidArgument, "days must be between 1 and 100000, got \(configuration.days)")
        }
        guard let day = Timestamp.parseDate(configuration.startDate) else {
            throw ReplayError(.invalidArgument, "start date must be a real date YYYY-MM-DD, got '\(configuration.startDate)'")
        }
        guard day >= Timestamp.firstSupportedDay, day <= Timestamp.lastSupportedDay else {
            throw ReplayError(
                .invalidArgument, "start date must be within \(Timestamp.supportedRange), got '\(configuration.startDate)'")
        }
        self.configuration = configuration
        var first = day
        while !MarketCalendar.isMarketDay(first, skipHolidays: configuration.skipHolidays) { first += 1 }
        firstDay = first
        // Any 14 days hold at least 7 market days, so this bound is safe; walk the days only when it is not enough.
        var last = first + 2 * Int64(configuration.days) + 14
        if last > Timestamp.lastSupportedDay {
            last = first
            var counted = 1
            while counted < configuration.days, last <= Timestamp.lastSupportedDay {
                last += 1
                if MarketCalendar.isMarketDay(last, skipHolidays: configuration.skipHolidays) { counted += 1 }
            }
        }
        guard last <= Timestamp.lastSupportedDay else {
            throw ReplayError(
                .invalidArgument,
                "\(configuration.days) market days from \(configuration.startDate) run past 2262-04-10, the last date whose timestamps fit in 64 bits")
        }
    }

    /// The market days generated, as `YYYY-MM-DD`.
    public var marketDays: [String] {
        var out: [String] = []
        var day = firstDay
        while out.count < configuration.days {
            if MarketCalendar.isMarketDay(day, skipHolidays: configuration.skipHolidays) {
                out.append(Timestamp.dateString(days: day))
            }
            day += 1
        }
        return out
    }

    /// Generates one market day's tasks, in time order.
    /// - Parameter date: The day as `YYYY-MM-DD` (need not be a market day).
    /// - Returns: The day's tasks, or `nil` for a date that is not a real `YYYY-MM-DD` date or lies outside
    ///   1677-09-22…2262-04-10.
    public func tasks(on date: String) -> [WorkloadTask]? {
        guard let day = Timestamp.parseDate(date), day >= Timestamp.firstSupportedDay, day <= Timestamp.lastSupportedDay else { return nil }
        return generateDay(day)
    }

    // MARK: - Iteration

    /// Produces tasks day by day; memory holds one day at a time.
    public struct Iterator: IteratorProtocol {
        private let generator: TradingWorkloadGenerator
        private var day: Int64
        private var daysDone = 0
        private var batch: [WorkloadTask] = []
        private var index = 0

        fileprivate init(generator: TradingWorkloadGenerator) {
            self.generator = generator
            day = generator.firstDay
        }

        /// Returns the next task, or `nil` after the last day.
        /// - Returns: The next task in time order.
        public mutating func next() -> WorkloadTask? {
            while index == batch.count {
                guard daysDone < generator.configuration.days else { return nil }
                while !MarketCalendar.isMarketDay(day, skipHolidays: generator.configuration.skipHolidays) { day += 1 }
                batch = generator.generateDay(day)
                index = 0
                daysDone += 1
                day += 1
            }
            defer { index += 1 }
            return batch[index]
        }
    }

    /// Makes an iterator from the first market day.
    /// - Returns: An iterator over all tasks in time order.
    public func makeIterator() -> Iterator { Iterator(generator: self) }

    // MARK: - One day

    private static let sessionMillis = 6 * 3_600_000 + 1_800_000  // 09:30–16:00
    private static let openSeconds: Int64 = 9 * 3600 + 1800

    private func generateDay(_ day: Int64) -> [WorkloadTask] {
        var rng = SeededGenerator(seed: configuration.seed, stream: UInt64(bitPattern: day))
        let dayFactor = rng.uniform(in: 80...130)
        let open = MarketCalendar.newYorkInstant(day: day, secondsOfDay: Self.openSeconds)
        let symbolTotal = Self.symbols.reduce(0) { $0 + $1.1 }
        var entries: [(millis: Int, seq: Int, task: WorkloadTask)] = []

        func count(_ kind: Kind) -> Int {
            let jitter = rng.uniform(in: 90...110)
            return (kind.dailyCount * dayFactor * jitter + 5_000) / 10_000
        }
        func sampleMillis() -> Int {
            let r = rng.uniform(in: 0...99)
            if r < 20 { return rng.uniform(in: 0...(1_800_000 - 1)) }
            if r < 35 { return rng.uniform(in: (Self.sessionMillis - 1_800_000)...(Self.sessionMillis - 1)) }
            return rng.uniform(in: 0...(Self.sessionMillis - 1))
        }
        func triangular(_ range: ClosedRange<Int>) -> Int {
            let half = (range.upperBound - range.lowerBound) / 2
            return range.lowerBound + rng.uniform(in: 0...half) + rng.uniform(in: 0...(range.upperBound - range.lowerBound - half))
        }
        func symbol() -> String {
            var r = rng.uniform(in: 0...(symbolTotal - 1))
            for (name, weight) in Self.symbols {
                if r < weight { return name }
                r -= weight
            }
            return Self.symbols[0].0
        }
        func add(_ kind: Kind, at millis: Int, symbol: String) {
            let task = WorkloadTask(
                epochNanoseconds: open + Int64(millis) * 1_000_000, task: kind.name, complexity: kind.complexity,
                inputTokens: triangular(kind.inputTokens), outputTokens: triangular(kind.outputTokens),
                maxOutputTokens: kind.maxOutputTokens, tags: ["agent": kind.agent, "symbol": symbol])
            entries.append((millis, entries.count, task))
        }

        let kinds = Kind.pipeline
        let counts = kinds.map { count($0) }
        for (kind, n) in zip(kinds, counts) where kind != .executeTrade {
            for _ in 0..<n { add(kind, at: sampleMillis(), symbol: symbol()) }
        }
        // Each trade follows one of the day's pre-trade reasonings on the same symbol.
        if let tradeIndex = kinds.firstIndex(of: .executeTrade) {
            let reasonings = entries.filter { $0.task.task == Kind.preTradeReasoning.name }
            for k in 0..<Swift.min(counts[tradeIndex], reasonings.count) {
                let after = rng.uniform(in: 30_000...300_000)
                let millis = Swift.min(reasonings[k].millis + after, Self.sessionMillis - 1)
                add(.executeTrade, at: millis, symbol: reasonings[k].task.tags["symbol"] ?? "SPY")
            }
        }
        entries.sort { $0.millis != $1.millis ? $0.millis < $1.millis : $0.seq < $1.seq }
        let stamp = Timestamp.dateString(days: day).replacingDashes
        return entries.enumerated().map { n, entry in
            var task = entry.task
            task.id = "trd-\(stamp)-\(String(n + 1).leftPadded(to: 4))"
            return task
        }
    }
}

extension String {
    fileprivate var replacingDashes: String { String(filter { $0 != "-" }) }

    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
