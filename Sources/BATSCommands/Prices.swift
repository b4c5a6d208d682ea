import ArgumentParser
import Foundation
import GatewayHTTP
import ModelSelection

extension BATSCommand {
    /// `bats prices`: the price catalog against what the gateway offers.
    struct Prices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the price catalog against the gateway, or import prices from LiteLLM's price map.", subcommands: [Check.self, Import.self])

        /// `bats prices check`.
        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the gateway's models (GET /models) against the catalog: models it does not offer, and ids that look like them.",
                discussion: """
                    Exit status: 0 when every model the selector routes to (each tier chain and the critical model) is \
                    offered under its catalog gateway id; 1 when one is not (the catalog is not usable as it is: fix its \
                    gateway_id, or route around the model). Missing embedding or image models are listed but do not fail.
                    """)

            @Option(help: "Output format: table or json.")
            var format: OutputFormat = .table

            @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
            var prices: String?

            @OptionGroup var deployment: ConfigOptions

            func validate() throws {
                if format == .csv { throw ValidationError("--format must be table or json") }
            }

            func run() async throws {
                let settings = try deployment.load()
                let selector = try settings.selector(prices: prices)
                let config = settings.gateway()
                let check = CatalogCheck(selector: selector, gatewayIDs: try await Models.remoteIDs(config))
                print(format == .json ? Self.json(check, selector.catalog) : Self.table(check, selector.catalog, base: config.baseURL))
                if !check.isUsable { throw ExitCode(1) }
            }

            static func table(_ check: CatalogCheck, _ catalog: ModelCatalog, base: String) -> String {
                var lines = ["gateway \(base): \(check.listed) models listed; the catalog has \(catalog.models.count)"]
                for id in check.offered {
                    lines.append("  ok       \(id.rawValue.padding(toLength: 23, withPad: " ", startingAt: 0)) offered as \(catalog.model(id)?.gatewayID ?? "")")
                }
                for m in check.missing {
                    let what = m.routed ? "MISSING " : "missing "
                    let alike = m.lookalikes.isEmpty ? "" : "; looks like: \(m.lookalikes.joined(separator: ", "))"
                    lines.append("  \(what) \(m.model.rawValue.padding(toLength: 23, withPad: " ", startingAt: 0)) not offered as \(m.gatewayID)\(alike)")
                }
                let routedMissing = check.missing.filter(\.routed).map(\.model.rawValue)
                lines.append(
                    check.isUsable
                        ? "usable: every routed model is offered"
                        : "NOT usable: the selector routes to \(routedMissing.joined(separator: ", ")), which the gateway does not offer under the catalog's gateway id")
                return lines.joined(separator: "\n")
            }

            static func json(_ check: CatalogCheck, _ catalog: ModelCatalog) -> String {
                struct Doc: Encodable {
                    struct Missing: Encodable {
                        var model: String
                        var gateway_id: String
                        var routed: Bool
                        var lookalikes: [String]
                    }
                    var usable: Bool
                    var listed: Int
                    var offered: [String]
                    var missing: [Missing]
                }
                let doc = Doc(
                    usable: check.isUsable, listed: check.listed, offered: check.offered.map(\.rawValue),
                    missing: check.missing.map { .init(model: $0.model.rawValue, gateway_id: $0.gatewayID, routed: $0.routed, lookalikes: $0.lookalikes) })
                return (try? JSONEncoder.sorted.encode(doc)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            }
        }
    }
}
