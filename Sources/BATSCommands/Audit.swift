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
                for (flag, v) in [("--since", since), ("--until", until)] {
                    if let v, v.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) == nil {
                        throw ValidationError("\(flag) must be a date YYYY-MM-DD, got '\(v)'")
                    }
                }
                guard FileManager.default.fileExists(atPath: ledger) else { throw ValidationError("no ledger at '\(ledger)'") }
            }

            func run() async throws {
                let l = try SQLiteLedger(path: ledger, configuration: .init(recordsLimits: false))
                let a = try l.audit(by: AuditGrouping(parsing: by)!, since: since, until: until)
                switch format {
                case .json: print(AuditFormatter.json(a))
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

            func validate() throws {
                guard FileManager.default.fileExists(atPath: ledger) else { throw ValidationError("no ledger at '\(ledger)'") }
            }

            func run() async throws {
                let l = try SQLiteLedger(path: ledger, configuration: .init(recordsLimits: false))
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

    static func json(_ a: AuditReport) -> String {
        func row(_ r: AuditRow) -> String {
            let v = values(r)
            return "{" + zip(columns, v).map { k, x in
                let numeric = k != "group" && !(k == "limit_usd" && x.isEmpty)
                return "\"\(k)\":" + (numeric ? x : (k == "limit_usd" ? "null" : "\"\(x.replacingOccurrences(of: "\"", with: "\\\""))\""))
            }.joined(separator: ",") + "}"
        }
        let limits = a.limits.map {
            "{\"effective_at\":\"\(ISO8601DateFormatter().string(from: $0.effectiveAt))\",\"daily_limit_usd\":\($0.limits.daily?.decimalString ?? "null"),\"monthly_limit_usd\":\($0.limits.monthly?.decimalString ?? "null"),\"time_zone\":\"\($0.timeZone)\"}"
        }
        return "{\"by\":\"\(a.grouping)\",\"rows\":[\(a.rows.map(row).joined(separator: ","))],\"totals\":\(row(a.totals)),\"limits\":[\(limits.joined(separator: ","))]}"
    }

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
