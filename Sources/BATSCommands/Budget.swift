import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

extension BATSCommand {
    /// `bats budget`: spent, reserved and remaining for today and this month.
    struct Budget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show spent, reserved and remaining budget for today and this month.",
            discussion: "Without budget flags or a configuration file's budget, the limits and time zone last recorded in the ledger apply.")

        @Option(help: "The ledger file (default: the configuration file's ledger.path).")
        var ledger: String?

        @OptionGroup var budget: BudgetOptions

        @OptionGroup var deployment: ConfigOptions

        @Option(help: "Output format: table or json.")
        var format: OutputFormat = .table

        @Option(help: "The moment to report on, RFC 3339 (default: now).", transform: ArgumentTransform.instant)
        var at: Date?

        func validate() throws {
            if format == .csv { throw ValidationError("--format must be table or json") }
        }

        func run() async throws {
            let settings = try deployment.load()
            let file = settings.file
            let ledger = try settings.requiredLedgerPath(ledger)
            // The ledger is checked here, not in validate(): a missing file is one line on stderr, not a usage error.
            try InputFile.checkExistingLedger(ledger)
            let date = at ?? Date()
            // Without flags or a file's budget, only read; with them, record the change (with its time) and show the result.
            var config = budget.setsSomething(file: file) ? try budget.ledgerConfiguration(forLedger: ledger, file: file) : try readOnlyLedgerConfiguration()
            config.busyTimeout = .seconds(10)
            let l = try SQLiteLedger(path: ledger, configuration: config, now: date)
            let s = try l.snapshotNow(at: date)
            let zone = try l.timeZone(at: date)
            if format == .json {
                print(try encodeJSON(BudgetJSON(timeZone: zone, snapshot: s)))
                return
            }
            print("window      key          limit        spent     critical     reserved    remaining")
            for (name, w) in [("today", s.daily), ("this month", s.monthly)] {
                let f = { (m: MicroDollars?) in (m?.formatted(decimals: 4) ?? "unlimited").leftPad(12) }
                print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(w.key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(w.limit)) \(f(w.settled)) \(f(w.criticalSettled)) \(f(w.reserved)) \(f(w.remaining))")
            }
            print("time zone \(zone)")
        }
    }
}

/// The JSON shape of `bats budget --format json`: `time_zone`, `day` and `month`, keys sorted.
///
/// To add a field, add a property and its key to `CodingKeys`.
struct BudgetJSON: Encodable {
    /// One window; money as dollars (``JSONDollars``), `limit_usd` and `remaining_usd` `null` when unlimited.
    struct Window: Encodable {
        var key: String
        var limit: JSONDollars
        var settled: JSONDollars
        var criticalSettled: JSONDollars
        var reserved: JSONDollars
        var remaining: JSONDollars

        init(_ w: BudgetSnapshot.Window) {
            key = w.key
            limit = JSONDollars(w.limit)
            settled = JSONDollars(w.settled)
            criticalSettled = JSONDollars(w.criticalSettled)
            reserved = JSONDollars(w.reserved)
            remaining = JSONDollars(w.remaining)
        }

        enum CodingKeys: String, CodingKey {
            case key, limit = "limit_usd", settled = "settled_usd", criticalSettled = "critical_settled_usd", reserved = "reserved_usd"
            case remaining = "remaining_usd"
        }
    }

    var timeZone: String
    var day: Window
    var month: Window

    init(timeZone: String, snapshot: BudgetSnapshot) {
        self.timeZone = timeZone
        day = Window(snapshot.daily)
        month = Window(snapshot.monthly)
    }

    enum CodingKeys: String, CodingKey {
        case timeZone = "time_zone", day, month
    }
}
