import BATSConfiguration
import BATSServer
import Foundation
import SpendLedger

/// The caller keys of `bats serve`: the configuration file's `server.keys` and `server.keys_file`, or `--keys-file`.
struct ServeKeys {
    /// The keys the server accepts; empty when none are configured.
    let keys: CallerKeys

    /// How many keys there are.
    var count: Int { keys.keys.count }

    /// How the server checks a bearer token: the matching key's name and tags, or `nil` without keys.
    var authenticator: CallerAuthenticator? {
        guard !keys.isEmpty else { return nil }
        let keys = keys
        return { secret in keys.match(secret: secret).map { Caller(name: $0.name, tags: $0.tags) } }
    }

    /// Loads the keys: `--keys-file` replaces the configuration file's `server.keys_file` (its inline keys stay).
    /// - Throws: The keys file's problems, each with the file, the line and the key.
    static func load(settings: Deployment, keysFile: String?) throws -> ServeKeys {
        var server = settings.file?.server ?? DeploymentConfiguration.Server()
        if let keysFile { server.keysFile = keysFile }
        do {
            return ServeKeys(keys: try server.callerKeys())
        } catch {
            throw CommandError(error.description)
        }
    }

    /// The limits with every key's own budget as a `key:NAME` scope.
    ///
    /// A `key:NAME` scope configured in the budget (flags or file) for a key that has its own budget is an error: the
    /// budget is given once. When no limits are configured the ledger's stored ones are the base, and their `key:`
    /// scopes are replaced by the keys' (the keys file is where a key's budget lives).
    /// - Parameters:
    ///   - limits: The limits the flags and file configure, or `nil` to keep the ledger's.
    ///   - path: The ledger file, for its stored limits.
    /// - Returns: The limits to set, or `nil` when there is nothing to change.
    func limits(_ limits: BudgetLimits?, forLedger path: String) throws -> BudgetLimits? {
        try self.limits(limits, stored: { try storedLimits(ofLedger: path) })
    }

    /// ``limits(_:forLedger:)`` with the ledger's recorded limits read by `stored` (a PostgreSQL ledger's).
    func limits(_ limits: BudgetLimits?, stored: () throws -> BudgetLimits?) throws -> BudgetLimits? {
        let keyScopes = keys.scopes
        if var configured = limits {
            let names = Set(keyScopes.map(\.name))
            if let clash = configured.scopes.first(where: { names.contains($0.name) }) {
                throw CommandError(
                    "scope \(clash.name) is configured in the budget and by the key's own budget; give it in one place")
            }
            configured.scopes += keyScopes
            try configured.validate()
            return configured
        }
        guard !keyScopes.isEmpty else { return nil }
        var base = try stored() ?? .unlimited
        base.scopes = base.scopes.filter { !$0.name.hasPrefix("key:") } + keyScopes
        try base.validate()
        return base
    }
}
