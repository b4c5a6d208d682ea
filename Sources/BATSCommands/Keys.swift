import ArgumentParser
import BATSConfiguration
import Foundation
import ModelSelection

extension BATSCommand {
    /// `bats keys`: the caller keys `bats serve` accepts, in a keys file (hashed only).
    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list or remove the caller keys of bats serve (a keys file that stores only SHA-256 digests; docs/keys.md).",
            subcommands: [Add.self, List.self, Remove.self])

        /// `bats keys add NAME`.
        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a caller key: print its secret once on standard output, store only its SHA-256.",
                discussion: "The file is created with mode 0600 when missing. The secret cannot be shown again.")

            @Argument(help: "The key's name (\(CallerKey.nameRule)); its budget scope is key:NAME.")
            var name: String

            @Option(
                name: .customLong("tag"), help: ArgumentHelp("A tag its calls carry, KEY=VALUE (repeatable).", valueName: "key=value"),
                transform: KeysArgument.tag)
            var tags: [KeysArgument.Tag] = []

            @Option(help: "The key's own daily budget in dollars (its scope key:NAME).", transform: ArgumentTransform.dollars)
            var dailyBudget: MicroDollars?

            @Option(help: "The key's own monthly budget in dollars.", transform: ArgumentTransform.dollars)
            var monthlyBudget: MicroDollars?

            @OptionGroup var file: KeysFileOptions

            func validate() throws {
                try KeysArgument.checkName(name)
                var seen: Set<String> = []
                for t in tags where !seen.insert(t.key).inserted { throw ValidationError("--tag \(t.key) is given twice") }
                for (flag, amount) in [("--daily-budget", dailyBudget), ("--monthly-budget", monthlyBudget)] {
                    guard let amount else { continue }
                    guard amount >= .zero else { throw ValidationError("\(flag) must not be negative, got \(amount.formatted(decimals: 6))") }
                    guard amount <= BudgetOptions.maxBudget else {
                        throw ValidationError("\(flag) of \(amount.formatted()) is absurd (the limit is \(BudgetOptions.maxBudget.formatted()))")
                    }
                }
            }

            func run() async throws {
                let (path, config) = try file.resolve()
                let existing = try KeysFile.load(path, missingIsEmpty: true)
                if existing.keys.contains(where: { $0.name == name }) {
                    throw CommandError("caller key \(name) is already in '\(path)': remove it first (bats keys remove \(name))")
                }
                if let config, config.server.keys.contains(where: { $0.name == name }) {
                    throw CommandError("caller key \(name) is already configured inline in \(config.source) (server.keys)")
                }
                let secret = CallerKey.generateSecret()
                let key = CallerKey(
                    name: name, sha256: CallerKey.digest(of: secret), tags: Dictionary(tags.map { ($0.key, $0.value) }) { a, _ in a },
                    daily: dailyBudget, monthly: monthlyBudget)
                let keys: CallerKeys
                do { keys = try CallerKeys(existing.keys + [key]) } catch { throw CommandError("cannot add caller key \(name): \(error.message)") }
                do { try keys.write(to: path) } catch { throw CommandError("\(error.file): \(error.message)") }
                print(secret)
                printError(
                    "added caller key \(name) to \(path). Its secret is printed above, once: it cannot be shown again "
                        + "(only its SHA-256 is stored). Callers send it as Authorization: Bearer SECRET.")
            }
        }

        /// `bats keys list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the caller keys of a keys file: names, tags, budgets and the first 8 hex digits of each digest.")

            @Option(help: "Output format: table or json.")
            var format: OutputFormat = .table

            @OptionGroup var file: KeysFileOptions

            func validate() throws {
                if format == .csv { throw ValidationError("--format must be table or json") }
            }

            func run() async throws {
                let (path, _) = try file.resolve()
                let keys = try KeysFile.load(path, missingIsEmpty: false).keys
                if format == .json {
                    print(try encodeJSON(keys.map(KeyListing.init)))
                    return
                }
                guard !keys.isEmpty else {
                    print("no caller keys in \(path)")
                    return
                }
                func money(_ m: MicroDollars?) -> String { (m?.formatted() ?? "none").leftPad(12) }
                let width = max(4, keys.map(\.name.count).max() ?? 0)
                print("\("name".padding(toLength: width, withPad: " ", startingAt: 0))  sha256  \("daily".leftPad(12)) \("monthly".leftPad(12))  tags")
                for k in keys {
                    let tags = k.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    let name = k.name.padding(toLength: width, withPad: " ", startingAt: 0)
                    print("\(name)  \(KeyListing.prefix(k))\(money(k.daily)) \(money(k.monthly))  \(tags.isEmpty ? "-" : tags)")
                }
            }
        }

        /// `bats keys remove NAME`.
        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove a caller key from a keys file; its secret stops working when the server reads the file again.")

            @Argument(help: "The key's name.")
            var name: String

            @OptionGroup var file: KeysFileOptions

            func validate() throws { try KeysArgument.checkName(name) }

            func run() async throws {
                let (path, _) = try file.resolve()
                var keys = try KeysFile.load(path, missingIsEmpty: false)
                guard keys.keys.contains(where: { $0.name == name }) else { throw CommandError("no caller key \(name) in '\(path)'") }
                keys.keys.removeAll { $0.name == name }
                do { try keys.write(to: path) } catch { throw CommandError("\(error.file): \(error.message)") }
                print("removed caller key \(name) from \(path)")
            }
        }
    }
}

// MARK: - Options

/// `--keys-file FILE`, else the configuration file's `server.keys_file` (`--config` or `BATS_CONFIG`).
struct KeysFileOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp("The caller keys file (default: server.keys_file of --config FILE or $BATS_CONFIG).", valueName: "file"))
    var keysFile: String?

    @OptionGroup var deployment: ConfigOptions

    /// The keys file, with the configuration file when one is given.
    /// - Throws: ``CommandError`` for a configuration file with problems; `ValidationError` when neither names a
    ///   keys file.
    func resolve() throws -> (path: String, config: DeploymentConfiguration?) {
        let config = try deployment.load().file
        guard let path = keysFile ?? config?.server.keysFile else {
            throw ValidationError(
                "give --keys-file FILE, or server.keys_file in the configuration file (--config or \(ConfigOptions.environmentVariable))")
        }
        return (path, config)
    }
}

/// Parses and checks the values of `bats keys` flags.
enum KeysArgument {
    /// One `--tag KEY=VALUE`.
    struct Tag: Sendable, Hashable {
        var key: String
        var value: String
    }

    /// `KEY=VALUE`, a usable tag.
    /// - Throws: `ValidationError` for anything else.
    @Sendable static func tag(_ text: String) throws -> Tag {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex, text.index(after: eq) != text.endIndex else {
            throw ValidationError("must be KEY=VALUE, such as desk=a")
        }
        let tag = Tag(key: String(text[..<eq]), value: String(text[text.index(after: eq)...]))
        guard CallerKey.isValidTag(key: tag.key, value: tag.value) else {
            throw ValidationError("\(CallerKey.tagRule), and must not look like a secret")
        }
        return tag
    }

    /// Checks a key's name, without repeating one that looks like a secret.
    /// - Throws: `ValidationError` when it is not ``CallerKey/isValidName(_:)``.
    static func checkName(_ name: String) throws {
        guard CallerKey.isValidName(name) else {
            throw ValidationError("a caller key's NAME must be \(CallerKey.nameRule), and not look like a secret")
        }
    }
}

// MARK: - Files and output

/// Reads a keys file for a command.
enum KeysFile {
    /// The file's keys; a missing file has none when `missingIsEmpty`.
    /// - Throws: ``CommandError`` naming the file (one line a problem in it).
    static func load(_ path: String, missingIsEmpty: Bool) throws -> CallerKeys {
        switch InputFile.kind(of: path) {
        case .missing where missingIsEmpty: return try CallerKeys([])
        case .missing: throw CommandError("no keys file at '\(path)'")
        case .directory: throw CommandError("keys file '\(path)' is a directory, not a file")
        case .regular, .other, .unreadable: break
        }
        do { return try CallerKeys.load(contentsOf: path) } catch { throw CommandError(error.description) }
    }
}

/// One key as `bats keys list --format json` shows it: never the secret, only the digest's first 8 hex digits.
struct KeyListing: Encodable {
    var name: String
    var sha256Prefix: String
    var tags: [String: String]
    var daily: Decimal?
    var monthly: Decimal?

    init(_ key: CallerKey) {
        name = key.name
        sha256Prefix = Self.prefix(key)
        tags = key.tags
        daily = key.daily?.decimalValue
        monthly = key.monthly?.decimalValue
    }

    /// The first 8 hex digits of the key's digest.
    static func prefix(_ key: CallerKey) -> String { String(key.digestHex.prefix(8)) }

    private enum CodingKeys: String, CodingKey {
        case name, tags
        case sha256Prefix = "sha256_prefix"
        case daily = "daily_budget_usd"
        case monthly = "monthly_budget_usd"
    }

    /// Writes every field; a budget that is not set is `null`.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(sha256Prefix, forKey: .sha256Prefix)
        try c.encode(tags, forKey: .tags)
        try c.encode(daily, forKey: .daily)
        try c.encode(monthly, forKey: .monthly)
    }
}
