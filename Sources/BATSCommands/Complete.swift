import ArgumentParser
import BATS
import FleetLedger
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger

extension BATSCommand {
    /// `bats complete`: one real routed call through the configured gateway, recorded in the ledger.
    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Route one prompt through the configured OpenAI-compatible gateway and record it in the ledger.",
            discussion: """
                The gateway is the configuration file's gateway.base_url, else LLM_GATEWAY_BASE_URL or TARS_API_BASE, else \
                https://api.router.tetrate.ai/v1; the key comes from the variable gateway.api_key_env names, else from \
                LLM_GATEWAY_API_KEY, TARS_API_KEY or TETRATE_API_KEY.
                """)

        @Option(help: "The task kind (e.g. parse_market_data); mapped to a tier.")
        var task: String?

        @Option(help: "The tier: simple, medium, complex, reasoning or critical.", transform: ArgumentTransform.complexity)
        var complexity: Complexity?

        @Flag(help: "Stream the answer as it arrives.")
        var stream = false

        @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, the configuration file's ledger, else ./bats-ledger.sqlite).")
        var ledger: String?

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        @Option(help: "Completion-token cap.")
        var maxTokens: Int?

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @Option(help: "Seconds the call may take, retries included.")
        var timeout: Int = 120

        @Argument(help: "The prompt.")
        var prompt: String

        func validate() throws {
            if (task == nil) == (complexity == nil) { throw ValidationError("give exactly one of --task KIND or --complexity TIER") }
            if let maxTokens, maxTokens <= 0 { throw ValidationError("--max-tokens must be positive") }
            // A ceiling keeps deadlines (timeout × attempts, in micro- and nanoseconds) far from overflowing.
            guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be between 1 and 86400 seconds, got \(timeout)") }
        }

        func run() async throws {
            let settings = try deployment.load()
            let location = try settings.ledgerLocation(ledger) ?? .file("bats-ledger.sqlite")
            let selector = try settings.selector(prices: prices)
            let store: any BudgetLedger
            var remote: PostgresLedger?
            switch location {
            case .file(let path):
                try InputFile.checkWritableLedger(path)
                store = try SQLiteLedger(path: path, configuration: try budget.ledgerConfiguration(forLedger: path, file: settings.file))
            case .postgres(let url):
                let r = try await PostgresLedger.connect(try await budget.postgresConfiguration(url, file: settings.file))
                (store, remote) = (r, r)
            }
            let config = settings.gateway()
            let routed = RoutedTask(
                kind: task, complexity: complexity, request: ChatRequest(messages: [.user(prompt)]),
                maxOutputTokens: maxTokens, tags: ["source": "cli"])
            let record: RouteRecord = try await withGatewayClient(configuration: config) { client in
                let router = Router(selector: selector, ledger: store, gateway: client, configuration: .init(requestTimeout: .seconds(timeout)))
                if stream {
                    let (_, record) = try await router.stream(routed) { chunks in
                        for try await chunk in chunks {
                            if let t = chunk.choices.first?.delta.content {
                                FileHandle.standardOutput.write(Data(t.utf8))
                            }
                        }
                        return 0
                    }
                    print("")
                    return record
                }
                let out = try await router.complete(routed)
                print(out.response.text)
                return out.record
            }
            let usage = "\(record.usage.promptTokens) in / \(record.usage.completionTokens) out" + (record.usageEstimated ? " (estimated)" : "")
            print("model \(record.model) (\(record.tier), \(record.reason)); cost \(record.cost) for \(usage); ledger entry \(record.entryID)")
            await remote?.close()  // on an error the process ends: the router has closed the call's reservation already
        }
    }
}
