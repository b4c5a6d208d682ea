import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BATSCommand {
    /// `bats replay`: what a policy and budget would have cost on a recorded workload.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a workload through the real selector and SQLite ledger on a virtual clock, and report its cost.")

        @Argument(help: "The workload (JSONL). Omit with --from-ledger.")
        var workload: String?

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        @Option(help: "Keep the replay's ledger in this file (default: a temporary file, deleted afterwards).")
        var ledger: String?

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @Option(help: "Chance (0...1) that one provider attempt fails with a 429, 503 or timeout.")
        var failureRate: Double = 0

        @Option(help: "Seed of the injected failures.")
        var seed: UInt64 = 1

        @Option(
            help: ArgumentHelp(
                "What-if: the share (0...1) of each prompt served from the provider's cache, for tasks without their own cached_input_tokens.",
                discussion: "Each such call reads floor(SHARE × input_tokens) prompt tokens from the cache (an agent repeating a long system prompt), priced at the model's cached rate. The report says the hits were assumed, not measured.",
                valueName: "share"))
        var cacheHitShare: String?

        @Option(help: "Write the report as JSON to this file.")
        var report: String?

        @Option(help: "Write an SVG chart of daily spend by model against the daily limit.")
        var chart: String?

        @Option(help: "Chart this budget scope's daily spend against its daily limit instead of the global budget's (a --scope-budget name).")
        var chartScope: String?

        @Option(help: "Re-price and re-route the tasks recorded in a past ledger instead of a workload file.")
        var fromLedger: String?

        @Flag(help: "Count and report malformed workload lines instead of stopping at the first.")
        var skipInvalid = false

        @Option(help: "Tasks per ledger transaction; 1 commits every reserve and settle on its own, as live routing does.")
        var batchSize: Int = 5_000

        @Option(help: "Output format on standard output: table or json.")
        var format: OutputFormat = .table

        @Option(
            help: ArgumentHelp(
                "Compare policies on a labelled workload: static, cheap[:MODEL], strong[:MODEL], random:SHARE, oracle, cascade[:PRECISION/RECALL], council (comma-separated).",
                discussion: "Each policy replays against its own in-memory ledger with the same budget. --chart then draws cost against quality; --report writes the comparison's JSON."))
        var compare: String?

        func validate() throws {
            if (workload == nil) == (fromLedger == nil) { throw ValidationError("give a workload file or --from-ledger PATH (one of them)") }
            if let compare {
                do throws(ReplayError) { _ = try QualityPolicy.list(parsing: compare, seed: seed) } catch {
                    throw ValidationError("--compare: \(error.message)")
                }
                if fromLedger != nil { throw ValidationError("--compare needs a labelled workload file, not --from-ledger") }
                if ledger != nil { throw ValidationError("--compare replays each policy on an in-memory ledger of its own: drop --ledger") }
                if chartScope != nil { throw ValidationError("--chart-scope does not apply to --compare (its chart is cost against quality)") }
            }
            if let cacheHitShare {
                do throws(ReplayError) { _ = try CacheHitShare(parsing: cacheHitShare) } catch {
                    throw ValidationError("--cache-hit-share \(error.message)")
                }
                if compare != nil { throw ValidationError("--cache-hit-share does not apply to --compare yet: replay each policy without it") }
            }
            guard (0...1).contains(failureRate) else { throw ValidationError("--failure-rate must be between 0 and 1, got \(failureRate)") }
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
            if format == .csv { throw ValidationError("--format must be table or json") }
        }

        func run() async throws {
            // Files are checked here, not in validate(): a missing file is one line on stderr, not a usage error.
            if let workload { try InputFile.checkReadable(workload, what: "workload") }
            if let fromLedger, case .file(let path) = try LedgerLocation(fromLedger) { try InputFile.checkExistingLedger(path) }
            if let ledger {
                // A replay runs on a virtual clock: its ledger is a file of its own, never the fleet's live database.
                if case .postgres = try LedgerLocation(ledger) {
                    throw CommandError("a replay writes its ledger to an SQLite file (its clock is virtual); move it with bats ledger copy FILE postgres://…")
                }
                try InputFile.checkWritableLedger(ledger)
            }
            // The file's catalog, routing and budget apply; never its ledger: a replay does not write the live one.
            let settings = try deployment.load()
            let selector = try settings.selector(prices: prices)
            let calendar = budget.calendar(file: settings.file) ?? BudgetCalendar()
            let limits = budget.flagLimits(file: settings.file)
            if let compare, let workload {
                try runComparison(compare, workload: workload, selector: selector, limits: limits, calendar: calendar)
                return
            }
            var tempDir: URL?
            let path: String
            if let ledger {
                path = ledger
            } else {
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-replay-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                tempDir = dir
                path = dir.appendingPathComponent("replay.sqlite").path
            }
            defer { if let tempDir { try? FileManager.default.removeItem(at: tempDir) } }
            let store = try SQLiteLedger(path: path, configuration: .init(limits: limits, calendar: calendar, reservationTimeToLive: .seconds(3_600), chainKey: try ledgerChainKey()))
            let engine = ReplayEngine(
                selector: selector,
                configuration: .init(
                    limits: limits, calendar: calendar, failureRate: failureRate, seed: seed,
                    commitMode: batchSize == 1 ? .perCall : .batched(batchSize), cacheHitShare: try cacheHitShare.map(CacheHitShare.init(parsing:))))
            let interactive = isatty(2) == 1
            let progress: (Int) -> Void = { n in if interactive { printErrorInline("\rreplayed \(n) tasks") } }
            var result: ReplayReport
            switch (workload, fromLedger) {
            case (_, let fromLedger?):
                let past = try await LedgerLocation(fromLedger).openForReading()
                var source = LedgerWorkload(ledger: past)
                result = try engine.run(next: { try source.next() }, into: store, progress: progress)
            case (nil, nil):
                // validate() refuses this; kept as an error rather than a force-unwrap.
                throw ValidationError("give a workload file or --from-ledger PATH (one of them)")
            case (let workload?, nil):
                let reader = WorkloadReader(url: URL(fileURLWithPath: workload), configuration: .init(skipInvalid: skipInvalid))
                var it = reader.makeIterator()
                result = try engine.run(next: { try it.next() }, into: store, progress: progress)
                result.invalidLines = it.summary.invalidLines
                for e in it.summary.errors { printError("skipped: \(e)") }
            }
            if interactive { printErrorInline("\r\u{1B}[K") }
            if tempDir != nil { result.ledgerPath = nil }
            if let report { try Data(try result.json().utf8).write(to: URL(fileURLWithPath: report)) }
            if let chart {
                var windows = result.days
                var title = SpendChart.Configuration().title
                if let chartScope {
                    guard let s = result.scopes.first(where: { $0.name == chartScope }) else {
                        throw CommandError("--chart-scope \(chartScope): no such scope in this replay's budget (scopes: \(result.scopes.map(\.name).joined(separator: ", ")))")
                    }
                    windows = s.days
                    title = "Daily spend of scope \(s.name) by model vs. its daily limit"
                }
                let days = windows.map { d in
                    SpendChart.Day(
                        date: d.key, byModel: d.byModel.sorted { $0.key < $1.key }.map { SpendChart.ModelSpend(model: $0.key, spend: $0.value) },
                        limit: d.limit, criticalSpend: d.criticalSpend)
                }
                try Data(try SpendChart(days: days, configuration: .init(title: title)).render().utf8).write(to: URL(fileURLWithPath: chart))
            }
            print(format == .json ? try result.json() : result.table(), terminator: "")
        }
    }
}

func printErrorInline(_ s: String) {
    FileHandle.standardError.write(Data(s.utf8))
}
