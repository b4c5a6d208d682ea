import ArgumentParser
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection

extension BATSCommand {
    /// `bats models`: the catalog with prices, or the gateway's own list.
    struct Models: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the model catalog with prices (or the gateway's models with --remote).")

        @Option(help: "Output format: table or json.")
        var format: OutputFormat = .table

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @OptionGroup var deployment: ConfigOptions

        @Flag(help: "List the models the configured gateway offers (GET /models).")
        var remote = false

        func validate() throws {
            if format == .csv { throw ValidationError("--format must be table or json") }
        }

        func run() async throws {
            let settings = try deployment.load()
            if remote {
                let ids = try await Self.remoteIDs(settings.gateway())
                if format == .json {
                    print(String(decoding: try JSONEncoder.sorted.encode(ids), as: UTF8.self))
                } else {
                    for id in ids { print(id) }
                }
                return
            }
            let catalog = try settings.catalog(prices: prices)
            if format == .json {
                print(catalogJSON(catalog))
                return
            }
            print("id                      gateway id                kind       $/M in   $/M out    context  capabilities           cache read/write $/M")
            for m in catalog.models {
                let price = { (p: MicroDollars) in p.formatted(decimals: 2) }
                print(
                    [
                        m.id.rawValue.padding(toLength: 23, withPad: " ", startingAt: 0),
                        m.gatewayID.padding(toLength: 25, withPad: " ", startingAt: 0),
                        m.kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0),
                        price(m.inputPerMillionTokens).leftPad(8), price(m.outputPerMillionTokens).leftPad(9),
                        String(m.contextWindow).leftPad(10),
                        (" " + m.capabilities.names.joined(separator: ",")).padding(toLength: 23, withPad: " ", startingAt: 0),
                        cacheColumn(m),
                    ].joined(separator: " ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
            }
            print("gateway margin: \(Double(catalog.marginPartsPerMillion) / 10_000)% on every cost (unless a model names its own)")
        }

        /// The cache prices, the per-request fee and a model's own margin, where the catalog gives them.
        func cacheColumn(_ m: ModelInfo) -> String {
            var parts: [String] = []
            if m.cachedInputPerMillionTokens != nil || m.cacheWritePerMillionTokens != nil {
                let read = m.cachedInputPerMillionTokens.map { $0.formatted(decimals: 3) } ?? "input"
                let write = m.cacheWritePerMillionTokens.map { $0.formatted(decimals: 2) } ?? "input"
                parts.append("\(read)/\(write)")
            }
            if m.perRequest > .zero { parts.append("+\(m.perRequest.formatted(decimals: 4))/request") }
            if let margin = m.marginPartsPerMillion { parts.append("margin \(Double(margin) / 10_000)%") }
            return parts.joined(separator: " ")
        }

        /// The ids the gateway lists (`GET /models`), the key redacted from them.
        static func remoteIDs(_ config: GatewayClient.Configuration) async throws -> [String] {
            try config.validate()
            let models = try await withGatewayClient(configuration: config) { client in
                try await client.models(options: .init(timeout: .seconds(30)), logger: nil).data
            }
            // The client already redacts the key from model ids; printing goes through the same redactor again.
            let redactor = SecretRedactor(secret: config.apiKey)
            return models.map { redactor.redact($0.id) }
        }

        func catalogJSON(_ c: ModelCatalog) -> String {
            var items: [String] = []
            for m in c.models {
                items.append(
                    "{\"id\":\"\(m.id)\",\"name\":\"\(m.name)\",\"gateway_id\":\"\(m.gatewayID)\",\"kind\":\"\(m.kind)\",\"input_per_mtok\":\(m.inputPerMillionTokens.decimalString),\"output_per_mtok\":\(m.outputPerMillionTokens.decimalString),\"per_image\":\(m.perImage.decimalString),\"cached_input_per_mtok\":\(m.cachedInputPerMillionTokens?.decimalString ?? "null"),\"cache_write_per_mtok\":\(m.cacheWritePerMillionTokens?.decimalString ?? "null"),\"per_request\":\(m.perRequest.decimalString),\"gateway_margin\":\(m.marginPartsPerMillion.map { MicroDollars(micros: $0).decimalString } ?? "null"),\"context_window\":\(m.contextWindow),\"max_output_tokens\":\(m.maxOutputTokens),\"capabilities\":[\(m.capabilities.names.map { "\"\($0)\"" }.joined(separator: ","))]}"
                )
            }
            return "{\"gateway_margin\":\(MicroDollars(micros: c.marginPartsPerMillion).decimalString),\"models\":[\(items.joined(separator: ","))]}"
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
