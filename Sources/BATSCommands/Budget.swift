import ArgumentParser
import BATSServer
import FleetLedger
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

        @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, or the configuration file's ledger).")
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
            let location = try settings.requiredLedgerLocation(ledger)
            let date = at ?? Date()
            let l: SQLiteLedger
            // On PostgreSQL the windows are the database's live totals, where room held by budget leases counts as
            // reserved (the copy the forecast reads has no leases).
            var live: BudgetSnapshot? = nil
            switch location {
            case .file(let ledger):
                // The ledger is checked here, not in validate(): a missing file is one line on stderr, not a usage error.
                try InputFile.checkExistingLedger(ledger)
                // Without flags or a file's budget, only read; with them, record the change (with its time) and show the result.
                var config = budget.setsSomething(file: file) ? try budget.ledgerConfiguration(forLedger: ledger, file: file) : try readOnlyLedgerConfiguration()
                config.busyTimeout = .seconds(10)
                l = try SQLiteLedger(path: ledger, configuration: config, now: date)
            case .postgres(let url):
                var config = try await budget.postgresConfiguration(url, file: file)
                config.recordsLimits = budget.setsSomething(file: file)
                (l, live) = try await PostgresLedger.withLedger(config, now: date) { remote in
                    (try await remote.reportingCopy(), try await remote.snapshot(at: date))
                }
            }
            let s = try live ?? l.snapshotNow(at: date)
            let zone = try l.timeZone(at: date)
            let forecasts = try l.forecast(at: date)
            if format == .json {
                print(try encodeJSON(BudgetDocument(timeZone: zone, snapshot: s, forecasts: forecasts)))
                return
            }
            print("window      key          limit        spent     critical     reserved    remaining")
            let rows = [("", s.daily, s.monthly)] + s.scopes.map { ("  scope \($0.name)", $0.daily, $0.monthly) }
            for (suffix, day, month) in rows {
                for (name, w) in [("today", day), ("this month", month)] {
                    let f = { (m: MicroDollars?) in (m?.formatted(decimals: 4) ?? "unlimited").leftPad(12) }
                    print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(w.key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(w.limit)) \(f(w.settled)) \(f(w.criticalSettled)) \(f(w.reserved)) \(f(w.remaining))\(suffix)")
                }
            }
            print("")
            print("forecast  month         spent    burn/day     month-end    runs out  per day left  budget")
            for fc in forecasts {
                let f = fc.forecast
                print("          \(fc.monthKey.padding(toLength: 7, withPad: " ", startingAt: 0)) \(fc.monthSpent.formatted(decimals: 4).leftPad(12)) \(f.burnRatePerDay.formatted(decimals: 4).leftPad(11)) \(f.projectedMonthEnd.formatted(decimals: 4).leftPad(13)) \((f.runOutDay ?? "-").leftPad(11)) \((f.dailyAllowance?.formatted(decimals: 4) ?? "unlimited").leftPad(13))  \(fc.scope.map { "scope \($0)" } ?? "global")")
            }
            print("time zone \(zone)")
        }
    }
}

