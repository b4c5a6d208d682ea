import ArgumentParser
import Foundation
import ModelSelection
import SpendLedger

extension BATSCommand {
    /// `bats audit`: where the money went, from the ledger.
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Audit spend from a ledger, or verify its hash chain.",
            subcommands: [Report.self, Verify.self], defaultSubcommand: Report.self)

        /// `bats audit [report]`.
        struct Report: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Settled spend, counts, tokens and open reservations, grouped, against the limits in force.",
                discussion: "Exits with status 3 when non-critical spend passed a window's limit.")

            @Option(help: "The ledger file.")
            var ledger: String

            @Option(help: "First day to include (YYYY-MM-DD).")
            var since: String?

            @Option(help: "Last day to include (YYYY-MM-DD).")
            var until: String?

            @Option(help: "Group by day, month, model, tier, task or tag:KEY.")
            var by: String = "day"

            @Option(help: "Output format: table, csv or json.")
            var format: OutputFormat = .table

            func validate() throws {
                guard AuditGrouping(parsing: by) != nil else { throw ValidationError("--by must be day, month, model, tier, task or tag:KEY, got '\(by)'") }
                var dates: [CalendarDate] = []
                for (flag, v) in [("--since", since), ("--until", until)] {
                    guard let v else { continue }
                    guard let d = CalendarDate(parsing: v) else {
                        throw ValidationError("\(flag) must be a date YYYY-MM-DD that exists, got '\(v)'")
                    }
                    dates.append(d)
                }
                if dates.count == 2, dates[1] < dates[0] {
                    throw ValidationError("--until \(dates[1]) is before --since \(dates[0])")
                }
            }

            func run() async throws {
                // The ledger is checked here, not in validate(): a missing file is one line on stderr, not a usage error.
                try InputFile.checkExistingLedger(ledger)
                let l = try SQLiteLedger(path: ledger, configuration: .init(recordsLimits: false, readOnly: true))
                let a = try l.audit(by: AuditGrouping(parsing: by)!, since: since, until: until)
                switch format {
                case .json: print(try AuditFormatter.json(a))
                case .csv: print(AuditFormatter.csv(a), terminator: "")
                case .table: print(AuditFormatter.table(a), terminator: "")
                }
                let breaches = try l.windowTotals().filter { w in w.limit.map { w.nonCriticalSettled > $0 } ?? false }
                if !breaches.isEmpty {
                    for b in breaches { printError("budget breach: \(b.period) \(b.key) non-critical spend \(b.nonCriticalSettled) over limit \(b.limit!)") }
                    throw ExitCode(3)
                }
            }
        }

        /// `bats audit verify`.
        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Verify the ledger's hash chain and window totals; exits 2 at the first edited, inserted or deleted entry.")

            @Option(help: "The ledger file.")
            var ledger: String

            func run() async throws {
                try InputFile.checkExistingLedger(ledger)
                let l = try SQLiteLedger(path: ledger, configuration: .init(recordsLimits: false, readOnly: true))
                let r = try l.verify()
                if let p = r.firstProblem {
                    print("TAMPERED after \(r.entriesChecked) entries: \(p)")
                    throw ExitCode(2)
                }
                print("ok: \(r.entriesChecked) entries, chain head \(r.headHash)")
            }
        }
    }
}

/// Renders audit reports.
enum AuditFormatter {
    static let columns = [
        "group", "calls", "spend_usd", "critical_spend_usd", "input_tokens", "output_tokens", "estimated", "refused", "released", "expired",
        "open", "open_reserved_usd", "critical_over_budget", "limit_usd",
    ]

    static func values(_ r: AuditRow) -> [String] {
        [
            r.group, "\(r.calls)", r.spend.decimalString, r.criticalSpend.decimalString, "\(r.inputTokens)", "\(r.outputTokens)",
            "\(r.estimatedCalls)", "\(r.refused)", "\(r.released)", "\(r.expired)", "\(r.openReservations)", r.openReserved.decimalString,
            "\(r.overBudgetCritical)", r.limit?.decimalString ?? "",
        ]
    }

    static func csv(_ a: AuditReport) -> String {
        func esc(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        return ([columns] + (a.rows + [a.totals]).map(values)).map { $0.map(esc).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func json(_ a: AuditReport) throws -> String { try encodeJSON(AuditJSON(a)) }

    static func table(_ a: AuditReport) -> String {
        var out = "\(String(describing: a.grouping).padding(toLength: 18, withPad: " ", startingAt: 0))  calls        spend     critical  refused  released  open      limit\n"
        for r in a.rows + [a.totals] {
            let limit = r.limit.map { $0.formatted(decimals: 2) } ?? ""
            out += "\(r.group.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(r.calls).leftPad(6)) \(r.spend.formatted(decimals: 4).leftPad(12)) \(r.criticalSpend.formatted(decimals: 4).leftPad(12)) \(String(r.refused).leftPad(8)) \(String(r.released).leftPad(9)) \(String(r.openReservations).leftPad(5)) \(limit.leftPad(10))"
            if r.overBudgetCritical > 0 { out += "  critical over budget: \(r.overBudgetCritical)" }
            out += "\n"
        }
        if let l = a.limits.last {
            out += "limits in force: daily \(l.limits.daily?.formatted() ?? "unlimited"), monthly \(l.limits.monthly?.formatted() ?? "unlimited"), \(l.timeZone)\n"
        }
        return out
    }
}

// MARK: - JSON

/// The JSON shape of `bats audit --format json`: `by`, `rows`, `totals` and `limits`, keys sorted.
///
/// To add a field, add a property to the struct it belongs to and its key to `CodingKeys`.
struct AuditJSON: Encodable {
    /// One group; the same columns as the CSV, money as dollars (``JSONDollars``), `limit_usd` `null` when unlimited.
    struct Row: Encodable {
        var group: String
        var calls: Int
        var spend: JSONDollars
        var criticalSpend: JSONDollars
        var inputTokens: Int
        var outputTokens: Int
        var estimated: Int
        var refused: Int
        var released: Int
        var expired: Int
        var open: Int
        var openReserved: JSONDollars
        var criticalOverBudget: Int
        var limit: JSONDollars

        init(_ r: AuditRow) {
            group = r.group
            calls = r.calls
            spend = JSONDollars(r.spend)
            criticalSpend = JSONDollars(r.criticalSpend)
            inputTokens = r.inputTokens
            outputTokens = r.outputTokens
            estimated = r.estimatedCalls
            refused = r.refused
            released = r.released
            expired = r.expired
            open = r.openReservations
            openReserved = JSONDollars(r.openReserved)
            criticalOverBudget = r.overBudgetCritical
            limit = JSONDollars(r.limit)
        }

        enum CodingKeys: String, CodingKey {
            case group, calls, spend = "spend_usd", criticalSpend = "critical_spend_usd", inputTokens = "input_tokens"
            case outputTokens = "output_tokens", estimated, refused, released, expired, open, openReserved = "open_reserved_usd"
            case criticalOverBudget = "critical_over_budget", limit = "limit_usd"
        }
    }

    /// Limits recorded in the ledger: when they took effect (RFC 3339, UTC), the limits and the zone.
    struct Limits: Encodable {
        var effectiveAt: String
        var dailyLimit: JSONDollars
        var monthlyLimit: JSONDollars
        var timeZone: String

        init(_ l: RecordedLimits) {
            effectiveAt = ISO8601DateFormatter().string(from: l.effectiveAt)
            dailyLimit = JSONDollars(l.limits.daily)
            monthlyLimit = JSONDollars(l.limits.monthly)
            timeZone = l.timeZone
        }

        enum CodingKeys: String, CodingKey {
            case effectiveAt = "effective_at", dailyLimit = "daily_limit_usd", monthlyLimit = "monthly_limit_usd", timeZone = "time_zone"
        }
    }

    var by: String
    var rows: [Row]
    var totals: Row
    var limits: [Limits]

    init(_ a: AuditReport) {
        by = a.grouping.description
        rows = a.rows.map(Row.init)
        totals = Row(a.totals)
        limits = a.limits.map(Limits.init)
    }
}
