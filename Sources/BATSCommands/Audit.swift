import ArgumentParser
import Foundation
import ModelSelection
import Replay
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

            @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, or the configuration file's ledger).")
            var ledger: String?

            @OptionGroup var deployment: ConfigOptions

            @Option(help: "First day to include (YYYY-MM-DD).", transform: ArgumentTransform.day)
            var since: CalendarDate?

            @Option(help: "Last day to include (YYYY-MM-DD).", transform: ArgumentTransform.day)
            var until: CalendarDate?

            @Option(help: "Group by day, month, model, tier, task, council, group or tag:KEY. (default: day)", transform: ArgumentTransform.auditGrouping)
            var by: AuditGrouping = .day

            @Option(help: "Output format: table, csv or json.")
            var format: OutputFormat = .table

            @Option(help: "A catalog JSON to price what the cache saved (default: the configuration's catalog, else the bundled one).")
            var prices: String?

            func validate() throws {
                if let since, let until, until < since { throw ValidationError("--until \(until) is before --since \(since)") }
            }

            func run() async throws {
                // Audits judge spend against the limits the ledger recorded, never the file's budget.
                // The ledger is checked here, not in validate(): a missing file is one line on stderr, not a usage error.
                let settings = try deployment.load()
                let l = try await settings.requiredLedgerLocation(ledger).openForReading()
                var a = try l.audit(by: by, since: since?.description, until: until?.description)
                // What the cache saved, at the deployment catalog's prices (the ledger records tokens, not rates).
                try a.priceCacheSavings(with: settings.catalog(prices: prices))
                switch format {
                case .json: print(try AuditFormatter.json(a))
                case .csv: print(AuditFormatter.csv(a), terminator: "")
                case .table: print(AuditFormatter.table(a), terminator: "")
                }
                // Judged per reservation, against the limit in force when it was made (a.breaches).
                if !a.breaches.isEmpty {
                    for b in a.breaches { printError(AuditFormatter.breachLine(b)) }
                    throw ExitCode(3)
                }
            }
        }

        /// `bats audit verify`.
        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Verify the ledger's hash chain and window totals; exits 2 at the first edited, inserted or deleted entry.")

            @Option(help: "The ledger: an SQLite file or postgres://USER@HOST:PORT/DB (default: BATS_LEDGER_URL, or the configuration file's ledger).")
            var ledger: String?

            @OptionGroup var deployment: ConfigOptions

            func run() async throws {
                let r = try await deployment.load().requiredLedgerLocation(ledger).verify()
                let mode = r.chainMode == "hmac-sha256" ? "keyed chain (HMAC-SHA256)" : "unkeyed chain (SHA-256; set BATS_LEDGER_KEY when creating a ledger to key it)"
                if let p = r.firstProblem {
                    print("TAMPERED after \(r.entriesChecked) entries: \(p) [\(mode)]")
                    throw ExitCode(2)
                }
                print("ok: \(r.entriesChecked) entries, \(mode), chain head \(r.headHash)")
            }
        }
    }
}

/// Renders audit reports.
enum AuditFormatter {
    static let columns = [
        "group", "calls", "spend_usd", "critical_spend_usd", "input_tokens", "output_tokens", "estimated", "refused", "released", "expired",
        "open", "open_reserved_usd", "critical_over_budget", "limit_usd", "expired_charged_usd", "over_reservation", "usage_suspect",
        "reply_lost", "settled_after_expiry", "cached_input_tokens", "cached_input_share", "cache_saved_usd",
    ]

    /// A share as a fraction with four decimals (`0.6250`), or empty when there is none.
    static func share(_ s: Double?) -> String { s.map { String(format: "%.4f", $0) } ?? "" }

    /// One line for a breach: the window, the entry, what was charged, the limit then and now, and whether a provider
    /// billing beyond its reservation caused it.
    static func breachLine(_ b: BudgetBreach) -> String {
        var s = "budget breach: \(b.scope.map { "scope \($0) " } ?? "")\(b.period) \(b.key) charged \(b.charged) through entry \(b.entryID), over the limit \(b.limitThen) in force when it was reserved"
        s += " (limit now \(b.limitNow?.description ?? "unlimited"))"
        if b.overReservations > 0 {
            s += "; \(b.overReservations) entr\(b.overReservations == 1 ? "y" : "ies") flagged over-reservation: a provider billed beyond the limits it was sent"
        }
        return s
    }

    static func values(_ r: AuditRow) -> [String] {
        [
            r.group, "\(r.calls)", r.spend.decimalString, r.criticalSpend.decimalString, "\(r.inputTokens)", "\(r.outputTokens)",
            "\(r.estimatedCalls)", "\(r.refused)", "\(r.released)", "\(r.expired)", "\(r.openReservations)", r.openReserved.decimalString,
            "\(r.overBudgetCritical)", r.limit?.decimalString ?? "", r.expiredCharged.decimalString, "\(r.overReservation)", "\(r.usageSuspect)",
            "\(r.replyLost)", "\(r.settledAfterExpiry)", "\(r.cachedInputTokens)", share(r.cachedInputShare), r.cacheSavings?.decimalString ?? "",
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
            if r.expired > 0 { out += "  expired: \(r.expired) charged \(r.expiredCharged.formatted(decimals: 4))" }
            if r.overReservation > 0 { out += "  over reservation: \(r.overReservation)" }
            if r.usageSuspect > 0 { out += "  suspect usage: \(r.usageSuspect)" }
            if r.replyLost > 0 { out += "  lost replies: \(r.replyLost)" }
            if r.cachedInputTokens > 0 {
                let pct = String(format: "%.1f", (r.cachedInputShare ?? 0) * 100)
                out += "  cached input: \(pct)%" + (r.cacheSavings.map { ", cache saved \($0.formatted(decimals: 4))" } ?? "")
            }
            if let scope = r.scope {
                out += "  scope \(scope): daily \(r.scopeDailyLimit?.formatted() ?? "unlimited"), monthly \(r.scopeMonthlyLimit?.formatted() ?? "unlimited")"
            }
            out += "\n"
        }
        for b in a.breaches { out += breachLine(b) + "\n" }
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
        var expiredCharged: JSONDollars
        var overReservation: Int
        var usageSuspect: Int
        var replyLost: Int
        var settledAfterExpiry: Int
        var scope: String?
        var scopeDailyLimit: JSONDollars?
        var scopeMonthlyLimit: JSONDollars?
        var cachedInputTokens: Int
        /// The cached share of settled input, as a decimal fraction (`null` without input).
        var cachedInputShare: Decimal?
        var cacheSaved: JSONDollars

        init(_ r: AuditRow) {
            cachedInputTokens = r.cachedInputTokens
            cachedInputShare = r.cachedInputShare.flatMap { Decimal(string: String(format: "%.4f", $0)) }
            cacheSaved = JSONDollars(r.cacheSavings)
            scope = r.scope
            scopeDailyLimit = r.scope == nil ? nil : JSONDollars(r.scopeDailyLimit)
            scopeMonthlyLimit = r.scope == nil ? nil : JSONDollars(r.scopeMonthlyLimit)
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
            expiredCharged = JSONDollars(r.expiredCharged)
            overReservation = r.overReservation
            usageSuspect = r.usageSuspect
            replyLost = r.replyLost
            settledAfterExpiry = r.settledAfterExpiry
        }

        enum CodingKeys: String, CodingKey {
            case group, calls, spend = "spend_usd", criticalSpend = "critical_spend_usd", inputTokens = "input_tokens"
            case outputTokens = "output_tokens", estimated, refused, released, expired, open, openReserved = "open_reserved_usd"
            case criticalOverBudget = "critical_over_budget", limit = "limit_usd", expiredCharged = "expired_charged_usd"
            case overReservation = "over_reservation", usageSuspect = "usage_suspect", replyLost = "reply_lost"
            case settledAfterExpiry = "settled_after_expiry", scope, scopeDailyLimit = "scope_daily_limit_usd"
            case scopeMonthlyLimit = "scope_monthly_limit_usd", cachedInputTokens = "cached_input_tokens"
            case cachedInputShare = "cached_input_share", cacheSaved = "cache_saved_usd"
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

    /// A window where non-critical spend passed the limit in force when it was reserved.
    struct Breach: Encodable {
        var period: String
        var key: String
        var entryID: Int64
        var charged: JSONDollars
        var limitThen: JSONDollars
        var limitNow: JSONDollars
        var overReservations: Int
        /// The scope's name; absent for the global budget.
        var scope: String?

        init(_ b: BudgetBreach) {
            scope = b.scope
            period = b.period
            key = b.key
            entryID = b.entryID
            charged = JSONDollars(b.charged)
            limitThen = JSONDollars(b.limitThen)
            limitNow = JSONDollars(b.limitNow)
            overReservations = b.overReservations
        }

        enum CodingKeys: String, CodingKey {
            case period, key, entryID = "entry_id", charged = "charged_usd", limitThen = "limit_then_usd", limitNow = "limit_now_usd"
            case overReservations = "over_reservations", scope
        }
    }

    var by: String
    var rows: [Row]
    var totals: Row
    var limits: [Limits]
    var breaches: [Breach]

    init(_ a: AuditReport) {
        by = a.grouping.description
        rows = a.rows.map(Row.init)
        totals = Row(a.totals)
        limits = a.limits.map(Limits.init)
        breaches = a.breaches.map(Breach.init)
    }
}
