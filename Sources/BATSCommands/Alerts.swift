import ArgumentParser
import BudgetAlerts
import FleetLedger
import Foundation
import Logging
import ModelSelection
import SpendLedger

extension BATSCommand {
    /// `bats alerts`: the budget alerts a ledger recorded, and their delivery.
    struct Alerts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the budget alerts a ledger recorded, or deliver the pending ones to a webhook.",
            subcommands: [List.self, Deliver.self], defaultSubcommand: List.self)

        /// `bats alerts list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every alert recorded, delivered or pending.")

            @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, or the configuration file's ledger).")
            var ledger: String?

            @Option(help: "Output format: table or json.")
            var format: OutputFormat = .table

            @OptionGroup var deployment: ConfigOptions

            func validate() throws {
                if format == .csv { throw ValidationError("--format must be table or json") }
            }

            func run() async throws {
                let alerts = try await deployment.load().requiredLedgerLocation(ledger).openForReading().alerts(limit: .max)
                if format == .json {
                    let bodies = try alerts.map { try JSONSerialization.jsonObject(with: Data(BudgetAlertPayload.encode($0))) }
                    let data = try JSONSerialization.data(withJSONObject: bodies, options: [.sortedKeys, .prettyPrinted])
                    print(String(decoding: data, as: UTF8.self))
                    return
                }
                for a in alerts {
                    print("\(String(a.id).leftPad(5))  \(a.deliveredAt == nil ? "pending  " : "delivered")  \(a.summary)")
                }
                if alerts.isEmpty { print("no alerts recorded") }
            }
        }

        /// `bats alerts deliver`.
        struct Deliver: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Post pending alerts to a webhook (JSON, retried with backoff); with --once, one pass, then exit.",
                discussion: "Exits 0 when every due alert was delivered, 4 when some are still pending.")

            @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, or the configuration file's ledger).")
            var ledger: String?

            @Option(help: "The receiver's URL (default: the configuration file's alerts.webhook.url).")
            var webhook: String?

            @Option(help: "Milliseconds one attempt may take.")
            var timeoutMs: Int?

            @Flag(help: "Deliver what is due once, then exit.")
            var once = false

            @OptionGroup var deployment: ConfigOptions

            func validate() throws {
                if let timeoutMs, !(1...600_000).contains(timeoutMs) { throw ValidationError("--timeout-ms must be between 1 and 600000") }
                if let webhook {
                    guard let u = URL(string: webhook), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host != nil else {
                        throw ValidationError("--webhook must be an http(s) URL")
                    }
                }
            }

            func run() async throws {
                let settings = try deployment.load()
                let location = try settings.requiredLedgerLocation(ledger)
                if case .file(let path) = location { try InputFile.checkExistingLedger(path) }
                let fileHook = settings.file?.alerts.webhook
                guard let url = webhook.flatMap(URL.init(string:)) ?? fileHook?.url else {
                    throw CommandError("no webhook: give --webhook URL or alerts.webhook.url in the configuration file")
                }
                var config = WebhookAlertDelivery.Configuration(url: url)
                if let fileHook {
                    config.timeout = fileHook.timeout
                    config.backoffBase = fileHook.backoff
                    config.backoffMax = fileHook.maxBackoff
                }
                if let timeoutMs { config.timeout = .milliseconds(timeoutMs) }
                var logger = Logger(label: "bats.alerts")
                logger.logLevel = .notice
                switch location {
                case .file(let path):
                    let l = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, chainKey: try ledgerChainKey()))
                    try await deliver(WebhookAlertDelivery(ledger: l, configuration: config, logger: logger))
                case .postgres(let url):
                    // Deliverers on several hosts share the work: each claims alerts the others are not claiming.
                    try await LedgerLocation.withPostgres(url) { remote in
                        try await deliver(WebhookAlertDelivery(ledger: remote, configuration: config, logger: logger))
                    }
                }
            }

            /// One pass (`--once`, exit 4 when some are still pending), or delivery until stopped.
            func deliver(_ delivery: WebhookAlertDelivery) async throws {
                if once {
                    let pass = try await delivery.deliverDue()
                    print("delivered \(pass.delivered), still pending \(pass.failed)")
                    if pass.failed > 0 { throw ExitCode(4) }
                    return
                }
                try await delivery.run()
            }
        }
    }
}
