import BATS
import FleetLedger
import Foundation

// One host of a fleet: the shared budget on PostgreSQL, reserved locally against budget leases (docs/fleet.md).
// The password comes from BATS_LEDGER_PASSWORD, BATS_LEDGER_PASSWORD_FILE or ~/.pgpass; a keyed chain from BATS_LEDGER_KEY.
let selector = try ModelSelector(catalog: try ModelCatalog.bundled())
var config = PostgresLedger.Configuration(url: try PostgresLedgerURL("postgres://bats@db.internal:5432/bats?sslmode=require"))
config.chainKey = try LedgerChainKey.fromEnvironment(ProcessInfo.processInfo.environment)
let remote = try await PostgresLedger.connect(config)
let ledger = try await LeasedLedger.open(
    remote: remote, configuration: .init(host: "trader-3", journalPath: "/var/lib/bats/trader-3.journal"))

try await withGatewayClient(configuration: .fromEnvironment()) { client in
    let router = Router(selector: selector, ledger: ledger, gateway: client)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await ledger.run() }  // renews the leases and flushes the journal until cancelled
        let reply = try await router.complete(RoutedTask(
            kind: "classify_headline", request: ChatRequest(messages: [.user("Fed holds rates: bullish or bearish?")])))
        print(reply.response.text, reply.record.model, reply.record.cost)
        group.cancelAll()
    }
}
try await ledger.close()  // writes what is pending and gives the leases back
await remote.close()
