public import Foundation
public import ModelSelection
public import SpendLedger
import Yams

/// Everything one BATS deployment is configured with, read from one YAML file: the catalog, the routing (tier map,
/// chains, unknown-task rule), the global budget with its scopes and alert thresholds, the budget windows' time zone,
/// the alert webhook, the gateway, the ledger, the server (`bats serve`, with its caller keys), and the councils and
/// cascades the server offers by name.
///
/// Load a file with ``load(contentsOf:sourceName:)``; every problem in it is reported at once, each naming the file,
/// the line and the key (``ConfigurationError``). Sections the file leaves out are `nil` or at their defaults, so that
/// a command falls back to its flags' defaults or to what the ledger recorded. The precedence is flags, then the file,
/// then the ledger's recorded state, then the defaults; the command line applies the flags on top of these values.
///
/// The gateway key is never in the file: ``Gateway/apiKeyVariable`` names the environment variable
/// that holds it, and a key written inline is an error.
public struct DeploymentConfiguration: Sendable {
    /// How errors name the file: its path as given, or the source name of a string.
    public var source: String
    /// The catalog: the bundled one, a JSON file's, or the file's inline models.
    public var catalog: ModelCatalog
    /// Where ``catalog`` came from.
    public var catalogSource: CatalogSource
    /// The tier map, the chains, the unknown-task rule and the budget policies, checked against ``catalog``.
    public var routing: ModelSelector.Configuration
    /// The budget: global limits, scopes and alert thresholds; `nil` when the file sets none of them, so that the
    /// ledger's recorded limits apply.
    public var limits: BudgetLimits?
    /// The budget windows' time zone; `nil` when the file sets none (the ledger's recorded zone, or UTC for a new one).
    public var calendar: BudgetCalendar?
    /// Where budget alerts are delivered.
    public var alerts: Alerts
    /// The OpenAI-compatible gateway: its base URL and the name of the variable that holds its key.
    public var gateway: Gateway
    /// The spend ledger.
    public var ledger: Ledger
    /// `bats serve`: its address, limits and caller keys; empty (every default, no keys) when the file has no
    /// `server`.
    public var server: Server
    /// The councils `bats serve` offers as `bats/council/<name>`, by name; empty when the file has no `councils`.
    public var councils: [String: Council]
    /// The cascades `bats serve` offers as `bats/cascade/<name>`, by name; empty when the file has no `cascades`.
    public var cascades: [String: Cascade]

    /// Creates a configuration from its parts; every parameter but the catalog defaults to what an empty file gives.
    /// - Parameters:
    ///   - source: How errors name the file.
    ///   - catalog: The catalog (an empty file gives ``ModelCatalog/bundled()``).
    ///   - catalogSource: Where the catalog came from.
    ///   - routing: The selector configuration.
    ///   - limits: The budget, or `nil` for the ledger's.
    ///   - calendar: The windows' time zone, or `nil` for the ledger's.
    ///   - alerts: Alert delivery.
    ///   - gateway: The gateway.
    ///   - ledger: The ledger.
    ///   - server: The server.
    ///   - councils: The councils, by name.
    ///   - cascades: The cascades, by name.
    public init(
        source: String = "<defaults>", catalog: ModelCatalog, catalogSource: CatalogSource = .bundled,
        routing: ModelSelector.Configuration = .init(), limits: BudgetLimits? = nil, calendar: BudgetCalendar? = nil,
        alerts: Alerts = .init(), gateway: Gateway = .init(), ledger: Ledger = .init(),
        server: Server = .init(), councils: [String: Council] = [:], cascades: [String: Cascade] = [:]
    ) {
        self.source = source
        self.catalog = catalog
        self.catalogSource = catalogSource
        self.routing = routing
        self.limits = limits
        self.calendar = calendar
        self.alerts = alerts
        self.gateway = gateway
        self.ledger = ledger
        self.server = server
        self.councils = councils
        self.cascades = cascades
    }

    /// A selector over a catalog: ``catalog``, or another one (a `--prices` flag) checked against the same routing.
    /// - Parameter catalog: A catalog that replaces the file's, or `nil` for the file's.
    /// - Returns: The selector.
    /// - Throws: ``CatalogError`` when a chain names a model the catalog lacks.
    public func selector(catalog: ModelCatalog? = nil) throws -> ModelSelector {
        try ModelSelector(catalog: catalog ?? self.catalog, configuration: routing)
    }

    // MARK: - Loading

    /// The top-level keys of a file.
    static let topLevelKeys = ["version", "catalog", "routing", "budget", "alerts", "gateway", "ledger", "server", "councils", "cascades"]

    /// Loads a configuration file.
    ///
    /// Relative paths in it (`catalog.path`, `ledger.path`, `server.keys_file`) are taken from the file's directory.
    /// - Parameters:
    ///   - url: The file.
    ///   - sourceName: How errors name the file; defaults to its path.
    /// - Returns: The checked configuration.
    /// - Throws: ``ConfigurationError/List`` with every problem found, each naming the file, the line and the key.
    public static func load(contentsOf url: URL, sourceName: String? = nil) throws(ConfigurationError.List) -> DeploymentConfiguration {
        let source = sourceName ?? url.path
        let data: Data
        // Through a file handle, so that a pipe or /dev/stdin (`--config <(generate)`) reads as a file does.
        do { data = try FileHandle(forReadingFrom: url).readToEnd() ?? Data() } catch {
            throw .init([.unreadable(file: source, message: "cannot read the configuration file (\(reason(error)))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .init([.unreadable(file: source, message: "the configuration file is not UTF-8 text")])
        }
        return try parse(text, sourceName: source, baseDirectory: url.deletingLastPathComponent())
    }

    /// Parses a configuration from YAML text.
    /// - Parameters:
    ///   - text: The YAML document.
    ///   - sourceName: How errors name the document.
    ///   - baseDirectory: The directory relative paths are taken from (default: the current directory).
    /// - Returns: The checked configuration.
    /// - Throws: ``ConfigurationError/List`` with every problem found.
    public static func parse(
        _ text: String, sourceName: String = "<string>", baseDirectory: URL? = nil
    ) throws(ConfigurationError.List) -> DeploymentConfiguration {
        let root: Node
        do {
            // An empty file (or one of comments only) configures nothing: every default applies.
            root = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch {
            throw .init([syntaxError(error, file: sourceName, text: text)])
        }
        let base = baseDirectory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        var parser = DeploymentParser(file: sourceName, baseDirectory: base)
        let result = parser.parse(root)
        let errors = parser.reader.errors
        guard errors.isEmpty, let result else {
            throw .init(errors.isEmpty ? [.syntax(file: sourceName, line: 1, column: 1, message: "the configuration is not usable")] : errors)
        }
        return result
    }

    /// A YAML error as a configuration error at its line.
    static func syntaxError(_ error: any Error, file: String, text: String) -> ConfigurationError {
        guard let yaml = error as? YamlError else {
            return .syntax(file: file, line: 1, column: 1, message: "not valid YAML (\(error))")
        }
        // libYAML's context says what it was reading and from where: "while scanning a quoted scalar" (from line 2).
        func context(_ c: YamlError.Context?) -> String { c.map { " (\($0.text), line \($0.mark.line))" } ?? "" }
        switch yaml {
        case .scanner(let c, let problem, let mark, _), .parser(let c, let problem, let mark, _), .composer(let c, let problem, let mark, _):
            return .syntax(file: file, line: mark.line, column: mark.column, message: "not valid YAML: \(problem)\(context(c))")
        case .duplicatedKeysInMapping(let duplicates, let c):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            // Yams marks the first occurrence; point at the repeat, the line to delete or rename, when it is found.
            let again = duplicates.first.flatMap { repeatLine(of: $0, after: c.mark, in: text) }
            return .syntax(
                file: file, line: again ?? c.mark.line, column: c.mark.column,
                message: "key \(names) is given twice in one table" + (again == nil ? "" : " (first at line \(c.mark.line))"))
        case .reader(let problem, let offset, _, _):
            let line = offset.map { o in text.utf8.prefix(o).reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 } } ?? 1
            return .syntax(file: file, line: line, column: 1, message: "cannot read the YAML text: \(problem)")
        default:
            return .syntax(file: file, line: 1, column: 1, message: "not valid YAML (\(yaml))")
        }
    }

    /// The next line after `mark` that starts, at the same column, with the key `key` of a block mapping.
    static func repeatLine(of key: String, after mark: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = mark.column - 1
        guard mark.line >= 1, mark.line < lines.count, indent >= 0 else { return nil }
        for n in mark.line..<lines.count {
            let line = lines[n]
            guard line.count > indent, line.prefix(indent).allSatisfy({ $0 == " " }) else { continue }
            let rest = line.dropFirst(indent)
            if rest.hasPrefix("\(key):") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") { return n + 1 }
        }
        return nil
    }

    /// A short reason from a Foundation error.
    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return ns.localizedDescription
    }
}
