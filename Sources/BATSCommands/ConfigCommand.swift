import ArgumentParser
import BATSConfiguration
import Foundation
import ModelSelection
import SpendLedger

extension BATSCommand {
    /// `bats config`: the deployment configuration file.
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a deployment configuration file (docs/configuration.md).", subcommands: [Check.self])

        /// `bats config check FILE`.
        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Validate a configuration file: print a summary, or one line per problem (FILE:LINE: KEY: MESSAGE).",
                discussion: "Exits with status 1 when the file has a problem. Nothing is written and no gateway is called.")

            @Argument(help: "The file (default: --config FILE, else $BATS_CONFIG).")
            var file: String?

            @OptionGroup var deployment: ConfigOptions

            func run() async throws {
                let environment = ProcessInfo.processInfo.environment
                guard let (path, origin) = file.map({ ($0, "--config") }) ?? deployment.path(environment: environment) else {
                    throw ValidationError("give a FILE to check (or --config FILE, or set \(ConfigOptions.environmentVariable))")
                }
                try InputFile.checkReadable(path, what: "configuration")
                let config: DeploymentConfiguration
                do {
                    config = try DeploymentConfiguration.load(contentsOf: URL(fileURLWithPath: path), sourceName: path)
                } catch {
                    for e in error.errors { printError(e.description) }
                    let n = error.errors.count
                    printError("\(n) problem\(n == 1 ? "" : "s") in \(path)" + (origin == "--config" ? "" : " (named by \(origin))"))
                    throw ExitCode.failure
                }
                // The caller keys file is read too, when it exists (bats keys add creates it).
                var keyCount: Int?
                if let keysFile = config.server.keysFile, InputFile.kind(of: keysFile) != .missing {
                    do { keyCount = try config.server.callerKeys().keys.count } catch {
                        for e in error.errors { printError(e.description) }
                        let n = error.errors.count
                        printError("\(n) problem\(n == 1 ? "" : "s") in the caller keys of \(path)")
                        throw ExitCode.failure
                    }
                }
                print(ConfigSummary.lines(config, environment: environment, callerKeys: keyCount).joined(separator: "\n"))
            }
        }
    }
}

/// The few lines `bats config check` prints for a valid file.
enum ConfigSummary {
    /// `ok: FILE`, then one line a section.
    /// - Parameter callerKeys: How many caller keys the server accepts, when they were read.
    static func lines(_ c: DeploymentConfiguration, environment: [String: String], callerKeys: Int? = nil) -> [String] {
        func money(_ m: MicroDollars?) -> String { m?.formatted() ?? "unlimited" }
        var out = ["ok: \(c.source)"]
        let chat = c.catalog.models.filter { $0.kind == .chat }.count
        out.append("  catalog: \(c.catalogSource), \(c.catalog.models.count) models (\(chat) chat)")
        let chains = Complexity.allCases.map { t in "\(t) \(c.routing.chains[t]?.first?.rawValue ?? "-")" }.joined(separator: ", ")
        out.append("  routing: \(c.routing.taskTiers.count) task kinds, unknown tasks \(c.routing.unknownTask); first models \(chains)")
        if let l = c.limits {
            let alerts = l.alerts.map(\.description).joined(separator: ", ")
            out.append("  budget: daily \(money(l.daily)), monthly \(money(l.monthly))" + (alerts.isEmpty ? "" : "; alerts \(alerts)"))
            for s in l.scopes {
                let a = s.alerts.isEmpty ? "" : "; alerts \(s.alerts.map(\.description).joined(separator: ", "))"
                out.append("    scope \(s.name): daily \(money(s.daily)), monthly \(money(s.monthly))\(a)")
            }
        } else {
            out.append("  budget: not set (the ledger's recorded limits apply)")
        }
        out.append("  time zone: \(c.calendar?.zoneName ?? "not set (the ledger's, or UTC for a new ledger)")")
        if let w = c.alerts.webhook {
            // The host only: a webhook's path may carry a token.
            out.append("  alerts: webhook to \(w.url.host ?? "?"), \(w.maxAttempts) attempts, timeout \(w.timeout)")
        }
        let g = c.gateway
        let key: String
        if let v = g.apiKeyVariable {
            key = "key from $\(v) (\(environment[v]?.isEmpty == false ? "set" : "not set") here)"
        } else {
            key = "key from the usual variables (LLM_GATEWAY_API_KEY, TARS_API_KEY, TETRATE_API_KEY)"
        }
        out.append("  gateway: \(g.baseURL ?? "default (LLM_GATEWAY_BASE_URL, TARS_API_BASE or TARS)"), \(key)")
        out.append("  ledger: \(c.ledger.path ?? c.ledger.url ?? "not set")")
        out.append(serverLine(c.server, callerKeys: callerKeys))
        for (name, k) in c.councils.sorted(by: { $0.key < $1.key }) {
            let members = k.members.map(\.description).joined(separator: ", ")
            out.append("  council bats/council/\(name): \(members); \(k.aggregation), extractor \(k.extractor), tier \(k.tier ?? .simple)")
        }
        for (name, k) in c.cascades.sorted(by: { $0.key < $1.key }) {
            let steps = k.steps.isEmpty ? "the tier's chain" : k.steps.map(\.rawValue).joined(separator: " > ")
            out.append("  cascade bats/cascade/\(name): \(steps); verifier \(k.verifier), tier \(k.tier ?? .simple)")
        }
        return out
    }

    /// `  server: HOST:PORT, N caller keys (M inline, keys file PATH)`.
    static func serverLine(_ s: DeploymentConfiguration.Server, callerKeys: Int?) -> String {
        typealias S = DeploymentConfiguration.Server
        let host = s.host ?? S.defaultHost
        let address = host.contains(":") ? "[\(host)]:\(s.port ?? S.defaultPort)" : "\(host):\(s.port ?? S.defaultPort)"
        var keys = "\(s.keys.count) inline"
        if let file = s.keysFile { keys += callerKeys == nil ? ", keys file \(file) (not created yet: bats keys add)" : ", keys file \(file)" }
        let count = callerKeys ?? s.keys.count
        return "  server: \(address), \(count) caller key\(count == 1 ? "" : "s") (\(keys))"
    }
}
