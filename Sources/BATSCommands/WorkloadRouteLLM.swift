import ArgumentParser
import Foundation
import ModelSelection
import Replay

extension BATSCommand.Workload {
    /// `bats workload import routellm FILE --weak MODEL --strong MODEL --map-weak ID --map-strong ID`.
    struct RouteLLM: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "routellm",
            abstract: "Convert a RouteLLM response CSV (prompt, one True/False column per model) to JSONL with outcome labels.")

        @Argument(help: "The RouteLLM CSV file.")
        var file: String

        @Option(help: "The weak model's column in the file (e.g. mistralai/Mixtral-8x7B-Instruct-v0.1).")
        var weak: String

        @Option(help: "The strong model's column in the file (e.g. gpt-4-1106-preview).")
        var strong: String

        @Option(help: "The catalog model the weak column's labels are written for (e.g. deepseek-v3).")
        var mapWeak: String

        @Option(help: "The catalog model the strong column's labels are written for (e.g. claude-opus).")
        var mapStrong: String

        @Option(help: "The tier of every task: simple, medium, complex, reasoning or critical (default: medium).", transform: ArgumentTransform.complexity)
        var complexity: Complexity = .medium

        @Option(help: "Draw each task's tier from this mix (tier=share pairs) instead of --complexity.", transform: ArgumentTransform.tierMix)
        var mix: TierMix?

        @Option(help: "Seed of the --mix draws.")
        var seed: UInt64 = 0

        @Option(help: "Completion tokens of a task when the file has no <model>_response text.")
        var outputTokens: Int = 256

        @Option(help: "A price catalog JSON file to check --map-weak and --map-strong against instead of the configured one.")
        var prices: String?

        @Option(name: .shortAndLong, help: "Output file (default: standard output).")
        var output: String?

        @OptionGroup var deployment: ConfigOptions

        func validate() throws {
            guard mapWeak != mapStrong else { throw ValidationError("--map-weak and --map-strong must name different models") }
            guard weak != strong else { throw ValidationError("--weak and --strong must name different columns") }
            guard outputTokens >= 0 else { throw ValidationError("--output-tokens must not be negative") }
        }

        func run() async throws {
            let catalog = try deployment.load().selector(prices: prices).catalog
            for (flag, id) in [("--map-weak", mapWeak), ("--map-strong", mapStrong)] where catalog.model(ModelID(id))?.kind != .chat {
                let chat = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue)
                throw CommandError("\(flag) \(id): not a chat model of the catalog (models: \(chat.joined(separator: ", ")))")
            }
            try InputFile.checkReadable(file, what: "RouteLLM file")
            let importer = try RouteLLMImporter(
                url: URL(fileURLWithPath: file),
                configuration: .init(
                    weakColumn: weak, strongColumn: strong, weakModel: ModelID(mapWeak), strongModel: ModelID(mapStrong),
                    complexity: complexity, mix: mix, seed: seed, defaultOutputTokens: outputTokens))
            let tasks = try importer.importAll()
            let writer = WorkloadWriter()
            if let output {
                try writer.write(tasks, to: URL(fileURLWithPath: output))
            } else {
                try writer.write(tasks, to: FileHandle.standardOutput, name: "<stdout>")
            }
            let weakRight = tasks.filter { $0.outcomes[ModelID(mapWeak)]?.correct == true }.count
            let strongRight = tasks.filter { $0.outcomes[ModelID(mapStrong)]?.correct == true }.count
            printError("imported \(tasks.count) tasks from \(file): \(mapWeak) correct on \(weakRight), \(mapStrong) on \(strongRight)")
        }
    }
}
