import ArgumentParser
import Foundation
import ModelSelection
import SpendLedger

extension BATSCommand {
    /// `bats budget`: spent, reserved and remaining for today and this month.
    struct Budget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show spent, reserved and remaining budget for today and this month.",
            discussion: "Without budget flags, the limits and time zone last recorded in the ledger apply.")

        @Option(help: "The ledger file.")
        var ledger: String

        @OptionGroup var budget: BudgetOptions

        @Option(help: "Output format: table or json.")
        var format: OutputFormat = .table

        @Option(help: "The moment to report on, RFC 3339 (default: now).")
        var at: String?

        func validate() throws {
            if format == .csv { throw ValidationError("--format must be table or json") }
            if let at, ISO8601DateFormatter().date(from: at) == nil { throw ValidationError("--at must be an RFC 3339 time such as 2026-11-21T15:00:00Z") }
            guard FileManager.default.fileExists(atPath: ledger) else { throw ValidationError("no ledger at '\(ledger)'") }
        }

        func run() async throws {
            let date = at.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
            let opened = try SQLiteLedger(path: ledger, configuration: .init(recordsLimits: false), now: date)
            let recorded = try opened.recordedLimits().last
            var config = opened.configuration
            config.limits = BudgetLimits(
                daily: budget.dailyBudget != nil ? budget.limits.daily : recorded?.limits.daily,
                monthly: budget.monthlyBudget != nil ? budget.limits.monthly : recorded?.limits.monthly)
            config.calendar = try budget.calendar ?? recorded.map { try BudgetCalendar(timeZoneIdentifier: $0.timeZone) } ?? BudgetCalendar()
            let l = opened.reconfigured(config)
            let s = try l.snapshotNow(at: date)
            if format == .json {
                func window(_ w: BudgetSnapshot.Window) -> String {
                    "{\"key\":\"\(w.key)\",\"limit_usd\":\(w.limit?.decimalString ?? "null"),\"settled_usd\":\(w.settled.decimalString),\"critical_settled_usd\":\(w.criticalSettled.decimalString),\"reserved_usd\":\(w.reserved.decimalString),\"remaining_usd\":\(w.remaining?.decimalString ?? "null")}"
                }
                print("{\"time_zone\":\"\(config.calendar.zoneName)\",\"day\":\(window(s.daily)),\"month\":\(window(s.monthly))}")
                return
            }
            print("window      key          limit        spent     critical     reserved    remaining")
            for (name, w) in [("today", s.daily), ("this month", s.monthly)] {
                let f = { (m: MicroDollars?) in (m?.formatted(decimals: 4) ?? "unlimited").leftPad(12) }
                print("\(name.padding(toLength: 11, withPad: " ", startingAt: 0)) \(w.key.padding(toLength: 10, withPad: " ", startingAt: 0)) \(f(w.limit)) \(f(w.settled)) \(f(w.criticalSettled)) \(f(w.reserved)) \(f(w.remaining))")
            }
            print("time zone \(config.calendar.zoneName)")
        }
    }
}
