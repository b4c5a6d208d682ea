import ArgumentParser
import BATSConfiguration
import Foundation
import GatewayHTTP
import ModelSelection

/// `--config FILE` (or `BATS_CONFIG`): the deployment configuration file every command reads. Flags override it.
struct ConfigOptions: ParsableArguments {
    /// The variable that names the file when `--config` is not given.
    static let environmentVariable = "BATS_CONFIG"

    @Option(
        help: ArgumentHelp(
            "A deployment configuration file (YAML, see docs/configuration.md); default $BATS_CONFIG. Flags override it.",
            valueName: "file"))
    var config: String?

    /// The file `--config` names, else `BATS_CONFIG`, with where the name came from; `nil` without either.
    func path(environment: [String: String]) -> (path: String, origin: String)? {
        if let config { return (config, "--config") }
        if let v = environment[Self.environmentVariable], !v.isEmpty { return (v, Self.environmentVariable) }
        return nil
    }

    /// Loads and checks the file, or returns an empty deployment without one.
    /// - Parameter environment: Where `BATS_CONFIG` is read from.
    /// - Returns: The file's settings, for the flags to override.
    /// - Throws: ``CommandError`` naming the file, with one line for each problem in it.
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Deployment {
        guard let (path, origin) = path(environment: environment) else { return Deployment(file: nil) }
        let file = try Self.load(path, origin: origin)
        return Deployment(file: file)
    }

    /// Loads one configuration file.
    /// - Throws: ``CommandError`` naming the file, with one line for each problem in it.
    static func load(_ path: String, origin: String) throws -> DeploymentConfiguration {
        do {
            try InputFile.checkReadable(path, what: "configuration")
        } catch {
            throw CommandError(error.description + (origin == "--config" ? "" : " (named by \(origin))"))
        }
        do {
            return try DeploymentConfiguration.load(contentsOf: URL(fileURLWithPath: path), sourceName: path)
        } catch {
            throw CommandError(error.description)
        }
    }
}

/// The configuration file's settings, if any, with the flags that override them: each accessor takes the flag.
///
/// The precedence is flags, then the file, then what the ledger recorded, then the defaults.
struct Deployment {
    /// The loaded file, or `nil` when no file is configured.
    var file: DeploymentConfiguration?

    /// `--prices FILE`, else the file's catalog, else the bundled one.
    func catalog(prices: String?) throws -> ModelCatalog {
        if let prices {
            try InputFile.checkReadable(prices, what: "price catalog")
            return try loadCatalog(prices)
        }
        return try file?.catalog ?? ModelCatalog.bundled()
    }

    /// A selector over ``catalog(prices:)`` with the file's routing (or the default routing).
    func selector(prices: String?) throws -> ModelSelector {
        try ModelSelector(catalog: try catalog(prices: prices), configuration: file?.routing ?? .init())
    }

    /// The gateway client settings: the file's base URL and key variable over the usual environment variables.
    func gateway(environment: [String: String] = ProcessInfo.processInfo.environment) -> GatewayClient.Configuration {
        (file?.gateway ?? .init()).clientConfiguration(environment: environment)
    }
}
