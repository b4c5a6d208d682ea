import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

/// Parses flag values from text into the types the commands use, once, as ArgumentParser reads them
/// (`@Option(transform:)`), so that `run()` never parses again or force-unwraps.
///
/// Each function throws a `ValidationError` saying what the text must be; ArgumentParser prints it after the flag
/// and the value (`The value 'ten' is invalid for '--daily-budget <daily-budget>': must be a dollar amount …`),
/// with the usage text and exit status 64. Checks of a parsed value's range, and of several flags together, stay
/// in the commands' `validate()`.
enum ArgumentTransform {
    /// A dollar amount such as `50`, `12.50`, `-3` or `0.000001`, parsed exactly (no floating point).
    /// - Throws: `ValidationError` for anything else, or an amount past 64-bit micro-dollars.
    /// `SCOPE@DAILY[/MONTHLY]`: a scope's name and its limits in dollars (an empty part is no limit).
    @Sendable static func scopeBudget(_ text: String) throws -> BudgetScope {
        guard let at = text.lastIndex(of: "@") else {
            throw ValidationError("--scope-budget '\(text)': expected SCOPE@DAILY[/MONTHLY], e.g. tag:agent=scanner@2.50/40")
        }
        let limits = text[text.index(after: at)...].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        func amount(_ i: Int) throws -> MicroDollars? {
            guard i < limits.count, !limits[i].isEmpty else { return nil }
            let m = try dollars(String(limits[i]))
            guard m >= .zero else { throw ValidationError("--scope-budget '\(text)': a limit must not be negative") }
            return m
        }
        let daily = try amount(0), monthly = try amount(1)
        guard daily != nil || monthly != nil else { throw ValidationError("--scope-budget '\(text)': give a daily or a monthly limit") }
        do {
            let scope = try BudgetScope(name: String(text[..<at]), daily: daily, monthly: monthly)
            try scope.validate()
            return scope
        } catch let e as LedgerError {
            throw ValidationError("--scope-budget '\(text)': \(e.message)")
        }
    }

    @Sendable static func dollars(_ text: String) throws -> MicroDollars {
        guard let m = MicroDollars(parsing: text) else {
            throw ValidationError("must be a dollar amount such as 50 or 12.50 (at most 6 decimals)")
        }
        return m
    }

    /// An IANA time zone such as `UTC` or `America/New_York`, as the calendar of budget windows.
    /// - Throws: `ValidationError` for a name the system does not know.
    @Sendable static func budgetCalendar(_ text: String) throws -> BudgetCalendar {
        guard let calendar = try? BudgetCalendar(timeZoneIdentifier: text) else {
            throw ValidationError("unknown time zone '\(text)' (use an IANA name such as UTC or America/New_York)")
        }
        return calendar
    }

    /// A day `YYYY-MM-DD` that exists.
    /// - Throws: `ValidationError` for anything else (`2026-02-30`, `2026-1-01`, `yesterday`).
    @Sendable static func day(_ text: String) throws -> CalendarDate {
        guard let d = CalendarDate(parsing: text) else { throw ValidationError("must be a date YYYY-MM-DD that exists") }
        return d
    }

    /// An RFC 3339 time of a real date, such as `2026-11-21T15:00:00Z` or `2026-11-21T10:00:00.250-05:00`.
    /// - Throws: `ValidationError` for anything else.
    @Sendable static func instant(_ text: String) throws -> Date {
        guard let date = CalendarDate.parseTime(text) else {
            throw ValidationError("must be an RFC 3339 time of a real date, such as 2026-11-21T15:00:00Z")
        }
        return date
    }

    /// An audit grouping: `day`, `month`, `model`, `tier`, `task` or `tag:KEY`.
    /// - Throws: `ValidationError` for anything else.
    @Sendable static func auditGrouping(_ text: String) throws -> AuditGrouping {
        guard let g = AuditGrouping(parsing: text) else { throw ValidationError("must be day, month, model, tier, task, council, group or tag:KEY") }
        return g
    }

    /// A tier: `simple`, `medium`, `complex`, `reasoning` or `critical`.
    /// - Throws: `ValidationError` for anything else.
    @Sendable static func complexity(_ text: String) throws -> Complexity {
        guard let c = Complexity(rawValue: text) else {
            throw ValidationError("must be one of \(Complexity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return c
    }

    /// A tier mix such as `simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02`.
    /// - Throws: `ValidationError` with ``TierMix/init(parsing:)``'s reason.
    @Sendable static func tierMix(_ text: String) throws -> TierMix {
        do { return try TierMix(parsing: text) } catch { throw ValidationError(error.message) }
    }
}
