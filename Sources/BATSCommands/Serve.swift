import ArgumentParser
import BATS
import BATSServer
import BudgetAlerts
import FleetLedger
import Foundation
import GatewayHTTP
import Logging
import ModelSelection
import ServiceLifecycle
import SpendLedger

extension BATSCommand {
    /// `bats serve`: the OpenAI-compatible budget sidecar.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the OpenAI API on this machine, routing every call through the budget (see docs/serve.md).",
            discussion: """
                Point an OpenAI SDK's base URL at the printed URL + /v1. The upstream is configured as for `bats complete`: the \
                configuration file's gateway.base_url, else LLM_GATEWAY_BASE_URL or TARS_API_BASE, else TARS; its key from the \
                environment only. Without caller keys the server binds to loopback only. SIGTERM or SIGINT stops it gracefully.
                """)

        @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, the configuration file's ledger, else ./bats-ledger.sqlite).")
        var ledger: String?

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        @Option(help: "The address to bind (default: the configuration file's server.host, else 127.0.0.1).")
        var host: String?

        @Option(help: "The port (default: the configuration file's server.port, else 8080; 0 for a free one).")
        var port: Int?

        @Option(help: "A caller keys file (see bats keys) instead of the configuration file's server.keys_file.")
        var keysFile: String?

        @Option(help: "A price catalog JSON file to use instead of the configuration file's or the bundled one.")
        var prices: String?

        @Option(help: "Seconds one upstream call may take, retries included.")
        var timeout: Int = 120

        @Option(help: "Seconds calls in flight may run after SIGTERM or SIGINT before they are cancelled.")
        var shutdownGrace: Int?

        @Option(help: "The largest request body accepted, in bytes.")
        var maxBodyBytes: Int?

        @Option(help: "Log level: trace, debug, info, notice, warning, error.")
        var logLevel: String = "notice"

        func validate() throws {
            if let port, !(0...65_535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
            guard timeout > 0, timeout <= 86_400 else { throw ValidationError("--timeout must be between 1 and 86400 seconds") }
            if let shutdownGrace, !(0...300).contains(shutdownGrace) { throw ValidationError("--shutdown-grace must be between 0 and 300 seconds") }
            if let maxBodyBytes, !(1_024...(64 << 20)).contains(maxBodyBytes) {
                throw ValidationError("--max-body-bytes must be between 1024 and 67108864")
            }
            if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        }

        func run() async throws {
            let settings = try deployment.load()
            let location = try settings.ledgerLocation(ledger) ?? .file("bats-ledger.sqlite")
            if case .file(let path) = location { try InputFile.checkWritableLedger(path) }
            let selector = try settings.selector(prices: prices)
            let keys = try ServeKeys.load(settings: settings, keysFile: keysFile)
            let server = settings.file?.server
            var config = BATSServer.Configuration(
                host: host ?? server?.host ?? "127.0.0.1", port: port ?? server?.port ?? 8080, authenticator: keys.authenticator)
            if let b = maxBodyBytes ?? server?.maxBodyBytes { config.maxBodyBytes = b }
            if let g = shutdownGrace.map({ Duration.seconds($0) }) ?? server?.shutdownGrace { config.shutdownGrace = g }
            config.councils = try ServeEnsembles.councils(settings.file, catalog: selector.catalog)
            config.cascades = try ServeEnsembles.cascades(settings.file, catalog: selector.catalog)
            try config.validate()  // before the ledger is opened or created
            switch location {
            case .file(let path):
                var ledgerConfig = try budget.ledgerConfiguration(forLedger: path, file: settings.file)
                ledgerConfig.limits = try keys.limits(ledgerConfig.limits, forLedger: path)
                let store = try SQLiteLedger(path: path, configuration: ledgerConfig)
                try await serve(store, reports: store, alerts: store, name: path, settings: settings, selector: selector, keys: keys, config: config)
            case .postgres(let url):
                var ledgerConfig = try await budget.postgresConfiguration(url, file: settings.file)
                if keys.count > 0 {  // the keys' own budgets join the recorded scopes
                    let stored = ledgerConfig.limits == nil ? try await location.storedLimits() : nil
                    ledgerConfig.limits = try keys.limits(ledgerConfig.limits, stored: { stored })
                }
                try await PostgresLedger.withLedger(ledgerConfig) { remote in
                    try await serve(
                        remote, reports: PostgresReports(ledger: remote), alerts: remote, name: url.description, settings: settings, selector: selector,
                        keys: keys, config: config)
                }
            }
        }

        /// Runs the server on `store` until SIGTERM or SIGINT, with alert delivery beside it when a webhook is set.
        func serve(
            _ store: some BudgetLedger, reports: any LedgerReporting, alerts: any BudgetAlertStore, name: String, settings: Deployment,
            selector: ModelSelector, keys: ServeKeys, config: BATSServer.Configuration
        ) async throws {
            var logger = Logger(label: "bats.serve")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
            var services: [any Service] = []
            if let hook = settings.file?.alerts.webhook {
                var c = WebhookAlertDelivery.Configuration(url: hook.url)
                c.timeout = hook.timeout
                c.backoffBase = hook.backoff
                c.backoffMax = hook.maxBackoff
                services.append(AlertDeliveryService(delivery: WebhookAlertDelivery(ledger: alerts, configuration: c, logger: logger)))
            }
            let gateway = settings.gateway()
            try await withGatewayClient(configuration: gateway, logger: logger) { client in
                let router = Router(selector: selector, ledger: store, gateway: client, configuration: .init(requestTimeout: .seconds(timeout)))
                let s = try BATSServer(router: router, reports: reports, configuration: config, logger: logger)
                try await s.run(services: services) { url in
                    let keyNote = keys.count == 0 ? "no caller keys (loopback only)" : "\(keys.count) caller key(s)"
                    FileHandle.standardOutput.write(Data("bats serve: listening on \(url) (ledger \(name), \(keyNote))\n".utf8))
                }
                let open = s.metrics.openReservations
                FileHandle.standardError.write(Data("bats serve: stopped; \(open) reservation(s) left open by this server\n".utf8))
            }
        }
    }
}

/// Alert delivery as a service beside the server: it stops with the server.
struct AlertDeliveryService: Service {
    let delivery: WebhookAlertDelivery

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await delivery.run() }
        } catch is CancellationError {
            // Stopped with the server: an alert not yet delivered stays pending for the next run or `bats alerts deliver`.
        }
    }
}
