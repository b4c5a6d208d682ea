import ArgumentParser
import Foundation
import ModelSelection
import SpendLedger

/// Daily and monthly budgets and the windows' time zone.
struct BudgetOptions: ParsableArguments {
    @Option(name: .long, help: "Daily budget in dollars for non-critical calls (e.g. 50 or 12.50). 0 lets only critical calls run.")
    var dailyBudget: String?

    @Option(name: .long, help: "Monthly budget in dollars for non-critical calls.")
    var monthlyBudget: String?

    @Option(name: .customLong("tz"), help: "IANA time zone of the budget windows (default UTC).")
    var timeZone: String?

    func validate() throws {
        _ = try Self.dollars(dailyBudget, flag: "--daily-budget")
        _ = try Self.dollars(monthlyBudget, flag: "--monthly-budget")
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw ValidationError("unknown time zone '\(timeZone)' for --tz (use an IANA name such as UTC or America/New_York)")
        }
    }

    var limits: BudgetLimits {
        BudgetLimits(daily: try! Self.dollars(dailyBudget, flag: ""), monthly: try! Self.dollars(monthlyBudget, flag: ""))
    }

    var calendar: BudgetCalendar? { timeZone.map { try! BudgetCalendar(timeZoneIdentifier: $0) } }

    /// Parses a dollar amount exactly; rejects negative, non-numeric and absurd (> $1,000,000,000) values.
    static func dollars(_ text: String?, flag: String) throws -> MicroDollars? {
        guard let text else { return nil }
        guard let m = MicroDollars(parsing: text) else {
            throw ValidationError("\(flag) must be a dollar amount such as 50 or 12.50 (at most 6 decimals), got '\(text)'")
        }
        guard m >= .zero else { throw ValidationError("\(flag) must not be negative, got '\(text)'") }
        guard m <= .dollars(1_000_000_000) else { throw ValidationError("\(flag) of \(m.formatted()) is absurd (the limit is $1,000,000,000)") }
        return m
    }
}

/// Output format of tables.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// Loads the catalog: a user's prices file, or the bundled one.
func loadCatalog(_ path: String?) throws -> ModelCatalog {
    if let path { return try ModelCatalog.load(contentsOf: URL(fileURLWithPath: path)) }
    return try ModelCatalog.bundled()
}

/// Writes to standard error.
func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
