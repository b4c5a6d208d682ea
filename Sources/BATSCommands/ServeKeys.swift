import BATSConfiguration
import BATSServer
import SpendLedger

/// The caller keys of `bats serve` (none until the keys module lands).
struct ServeKeys {
    var count = 0
    var authenticator: CallerAuthenticator? { nil }

    static func load(settings: Deployment) throws -> ServeKeys { ServeKeys() }

    func limits(_ limits: BudgetLimits?, forLedger path: String) throws -> BudgetLimits? { limits }
}
