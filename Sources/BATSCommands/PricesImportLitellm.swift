import ArgumentParser
import Foundation
import ModelSelection

extension BATSCommand.Prices.Import {
    /// `bats prices import litellm FILE`: LiteLLM's price map against the catalog, price by price.
    struct Litellm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare LiteLLM's price map (model_prices_and_context_window.json) with the catalog, price by price.",
            discussion: """
                Each catalog model takes the entry named for it in --mapping (JSON: catalog id → LiteLLM key), else \
                the entries keyed gateway_id or provider/gateway_id: one, or several with the same prices, match; \
                several that disagree are ambiguous and reported. Models without an entry, entries without an input or \
                output price, and price fields the importer does not map are reported, never guessed. Prices are \
                converted exactly ($/token to micro-dollars per million tokens, no rounding). Nothing is written \
                without --write; the bundled catalog is never modified.
                """)

        @Argument(help: ArgumentHelp("LiteLLM's price map (JSON).", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("A JSON object of catalog id → LiteLLM key, for models the rule does not find.", valueName: "file"))
        var mapping: String?

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @Option(help: ArgumentHelp("Write the catalog with the imported prices to this file.", valueName: "out"))
        var write: String?

        @OptionGroup var deployment: ConfigOptions

        func run() async throws {
            let settings = try deployment.load()
            let catalog = try settings.catalog(prices: prices)
            try InputFile.checkReadable(file, what: "LiteLLM price map")
            let map = try LiteLLMPriceMap.load(contentsOf: URL(fileURLWithPath: file), sourceName: file)
            var table: [String: String] = [:]
            if let mapping {
                try InputFile.checkReadable(mapping, what: "LiteLLM mapping")
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: mapping)) } catch {
                    throw CommandError("cannot read LiteLLM mapping file '\(mapping)' (\(error.localizedDescription))")
                }
                table = try LiteLLMImport.mapping(data, source: mapping)
            }
            let result = try LiteLLMImport(map: map, catalog: catalog, mapping: table, mappingSource: mapping ?? "<mapping>")
            let origin = prices ?? (settings.file != nil ? "the configuration file's catalog" : "the bundled catalog")
            print(Self.report(result, entries: map.entries.count, file: file, catalog: origin))
            if let write {
                let url = URL(fileURLWithPath: write)
                do { try result.catalog.encodedJSON().write(to: url, options: .atomic) } catch {
                    throw CommandError("cannot write the catalog to '\(write)' (\(error.localizedDescription))")
                }
                // The file must load as it is: read it back with the loader every command uses.
                _ = try ModelCatalog.load(contentsOf: url, sourceName: write)
                print("wrote \(write): \(result.catalog.models.count) models")
            }
        }

        /// The report: the changed prices as a table, then each model's match and what was left out.
        static func report(_ r: LiteLLMImport, entries: Int, file: String, catalog: String) -> String {
            func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
            var lines = ["LiteLLM price map \(file): \(entries) entries; \(catalog): \(r.results.count) models"]
            if r.changes.isEmpty {
                lines.append("no price differs")
            } else {
                lines.append(pad("model", 23) + " " + pad("field", 22) + " " + "current".leftPad(12) + " " + "LiteLLM".leftPad(12) + " " + "change".leftPad(13))
                for c in r.changes {
                    let change = c.change.map { ($0 >= .zero ? "+" : "") + $0.decimalString } ?? "new"
                    lines.append(
                        pad(c.model.rawValue, 23) + " " + pad(c.field, 22) + " " + (c.current?.decimalString ?? "none").leftPad(12) + " "
                            + c.litellm.decimalString.leftPad(12) + " " + change.leftPad(13))
                }
            }
            for m in r.results {
                let entry = m.key.map { " ← \($0) (\(m.rule?.description ?? ""))" } ?? ""
                if m.imported {
                    lines.append("imported      \(m.model)\(entry)")
                    if !m.candidates.isEmpty { lines.append("                same prices under: \(m.candidates.joined(separator: ", "))") }
                } else {
                    lines.append("NOT imported  \(m.model) (gateway id \(m.gatewayID))\(entry)")
                    for p in m.problems { lines.append("                \(p)") }
                    if !m.candidates.isEmpty { lines.append("                candidates: \(m.candidates.joined(separator: ", "))") }
                }
                if !m.unknownFields.isEmpty {
                    lines.append("                not understood, left out: \(m.unknownFields.joined(separator: ", "))")
                }
            }
            let imported = r.results.filter(\.imported).count
            lines.append("\(imported) of \(r.results.count) models imported; \(r.changes.count) prices differ, \(r.unchanged) are the same")
            return lines.joined(separator: "\n")
        }
    }
}
