import ArgumentParser
import Foundation
import Replay

extension BATSCommand {
    /// `bats workload`: make workloads to replay.
    struct Workload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import or generate workloads in the native JSONL format.", subcommands: [Import.self, Generate.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Convert a recorded trace to the native format.", subcommands: [Azure.self, RouteLLM.self])
        }

        /// `bats workload import azure FILE.csv`.
        struct Azure: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Convert an Azure LLM inference trace (TIMESTAMP,ContextTokens,GeneratedTokens) to JSONL.")

            @Argument(help: "The trace CSV file.")
            var file: String

            @Option(help: "Tier mix, as tier=share pairs. (default: \(TierMix.default))", transform: ArgumentTransform.tierMix)
            var mix: TierMix = .default

            @Option(help: "Seed of the tier draws.")
            var seed: UInt64 = 0

            @Option(help: "Stretch time by this factor (24 makes an hour stand for a day).")
            var timeScale: Double = 1

            @Option(name: .shortAndLong, help: "Output file (default: standard output).")
            var output: String?

            @Flag(help: "Count and report bad rows instead of stopping at the first.")
            var skipInvalid = false

            @OptionGroup var deployment: ConfigOptions

            func validate() throws {
                guard timeScale > 0, timeScale.isFinite else { throw ValidationError("--time-scale must be a positive number") }
            }

            func run() async throws {
                // Nothing in the file applies to an import; it is still checked, as by every command.
                _ = try deployment.load()
                try InputFile.checkReadable(file, what: "trace")
                let importer = try AzureTraceImporter(
                    url: URL(fileURLWithPath: file),
                    configuration: .init(mix: mix, seed: seed, timeScale: timeScale, skipInvalid: skipInvalid))
                var firstError: ReplayError?
                let writer = WorkloadWriter()
                // The writer takes a plain sequence; a read error ends it and is rethrown after writing stops.
                var it = importer.makeIterator()
                let checked = AnyIterator<WorkloadTask> {
                    do { return try it.next() } catch {
                        firstError = error as? ReplayError ?? ReplayError(.io, "\(error)")
                        return nil
                    }
                }
                let n: Int
                if let output {
                    n = try writer.write(AnySequence { checked }, to: URL(fileURLWithPath: output))
                } else {
                    n = try writer.write(AnySequence { checked }, to: FileHandle.standardOutput, name: "<stdout>")
                }
                if let firstError { throw firstError }
                let s = it.summary
                printError("imported \(n) tasks from \(file)" + (s.invalidLines > 0 ? " (\(s.invalidLines) invalid rows skipped)" : ""))
                for e in s.errors { printError("  \(e)") }
            }
        }

        /// `bats workload generate --profile trading`.
        struct Generate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Generate a synthetic workload (profile: trading).")

            @Option(help: "The profile: trading.")
            var profile: String = "trading"

            @Option(help: "Market days to generate.")
            var days: Int = 30

            @Option(help: "Seed.")
            var seed: UInt64 = 7

            @Option(help: "First day (YYYY-MM-DD).")
            var start: String = "2026-10-01"

            @Option(name: .shortAndLong, help: "Output file (default: standard output).")
            var output: String?

            @OptionGroup var deployment: ConfigOptions

            func validate() throws {
                guard profile == "trading" else { throw ValidationError("unknown --profile '\(profile)' (available: trading)") }
                guard days > 0, days <= 10_000 else { throw ValidationError("--days must be between 1 and 10000, got \(days)") }
                // The generator checks the date exists and that every market day's timestamps fit (1677-09-22…2262-04-10).
                do throws(ReplayError) {
                    _ = try TradingWorkloadGenerator(configuration: .init(days: days, seed: seed, startDate: start))
                } catch {
                    throw ValidationError("--start: \(error.message)")
                }
            }

            func run() async throws {
                // Nothing in the file applies to a generated workload; it is still checked, as by every command.
                _ = try deployment.load()
                let generator = try TradingWorkloadGenerator(configuration: .init(days: days, seed: seed, startDate: start))
                let writer = WorkloadWriter()
                let n: Int
                if let output {
                    n = try writer.write(generator, to: URL(fileURLWithPath: output))
                } else {
                    n = try writer.write(generator, to: FileHandle.standardOutput, name: "<stdout>")
                }
                printError("generated \(n) tasks over \(days) market days")
            }
        }
    }
}
