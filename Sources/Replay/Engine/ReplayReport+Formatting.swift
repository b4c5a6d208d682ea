import Foundation
import Gateway
import ModelSelection

extension ReplayReport {
    /// The report as JSON: dollars as decimal numbers with micro-dollar precision, keys in a fixed order.
    public func json() -> String {
        let j = JSONWriter()
        j.object {
            j.field("tasks", tasks)
            j.field("invalid_lines", invalidLines)
            j.key("by_tier")
            j.object {
                for tier in Complexity.allCases {
                    guard let g = byTier[tier] else { continue }
                    j.key(tier.rawValue)
                    j.group(g, refused: true)
                }
            }
            j.key("by_model")
            j.object {
                for (m, g) in byModel.sorted(by: { $0.key < $1.key }) {
                    j.key(m)
                    j.group(g, refused: false)
                }
            }
            j.money("cost_usd", cost)
            j.money("baseline_opus_only_usd", baselineOpusOnly)
            j.money("baseline_no_budget_usd", baselineNoBudget)
            j.field("savings_vs_opus", savingsVsOpus, decimals: 6)
            j.money("daily_limit_usd", dailyLimit)
            j.money("monthly_limit_usd", monthlyLimit)
            j.field("time_zone", timeZone)
            j.key("days")
            j.windows(days, keyName: "date")
            j.key("months")
            j.windows(months, keyName: "month")
            j.field("downgrades", downgrades)
            j.field("refusals", refusals)
            j.field("provider_fallbacks", providerFallbacks)
            j.field("retries", retries)
            j.field("failed", failed)
            j.field("critical_total", criticalTotal)
            j.field("critical_on_opus", criticalOnPinnedModel)
            j.field("critical_over_budget", criticalOverBudget)
            j.field("elapsed_seconds", elapsedSeconds, decimals: 3)
            j.field("tasks_per_second", tasksPerSecond, decimals: 1)
            j.field("overhead_us_p50", Double(overheadP50Nanos) / 1_000, decimals: 2)
            j.field("overhead_us_p99", Double(overheadP99Nanos) / 1_000, decimals: 2)
            if let ledgerPath { j.field("ledger", ledgerPath) }
        }
        return j.out + "\n"
    }

    /// The report as a readable table.
    public func table() -> String {
        var lines: [String] = []
        let limits = "daily \(dailyLimit.map { $0.formatted() } ?? "unlimited"), monthly \(monthlyLimit.map { $0.formatted() } ?? "unlimited"), \(timeZone)"
        lines.append("BATS replay: \(tasks) tasks, \(days.count) days (\(limits))")
        lines.append("")
        lines.append("tier        tasks  refused        cost")
        for tier in Complexity.allCases {
            guard let g = byTier[tier] else { continue }
            lines.append("\(tier.rawValue.rightPadded(10)) \(String(g.tasks).leftPadded(6)) \(String(g.refused).leftPadded(8)) \(g.cost.formatted(decimals: 4).leftPadded(11))")
        }
        lines.append("")
        lines.append("model               calls   in tokens  out tokens        cost")
        for (m, g) in byModel.sorted(by: { $0.value.cost > $1.value.cost }) {
            lines.append(
                "\(m.rightPadded(18)) \(String(g.tasks).leftPadded(6)) \(String(g.inputTokens).leftPadded(11)) \(String(g.outputTokens).leftPadded(11)) \(g.cost.formatted(decimals: 4).leftPadded(11))")
        }
        lines.append("")
        let overDays = days.filter(\.overBudget).count
        lines.append("spend              \(cost.formatted(decimals: 4))")
        lines.append("opus-only baseline \(baselineOpusOnly.formatted(decimals: 4))   savings vs opus \(String(format: "%.1f%%", savingsVsOpus * 100))")
        lines.append("no-budget baseline \(baselineNoBudget.formatted(decimals: 4))")
        lines.append("downgrades \(downgrades), refusals \(refusals), provider fallbacks \(providerFallbacks), retries \(retries), failed \(failed)")
        lines.append("critical \(criticalTotal) (on opus \(criticalOnPinnedModel), over budget \(criticalOverBudget)); days over limit \(overDays) of \(days.count), non-critical over limit \(days.filter(\.nonCriticalOverBudget).count)")
        lines.append(String(format: "throughput %.0f tasks/s, routing overhead p50 %.1f µs, p99 %.1f µs", tasksPerSecond, Double(overheadP50Nanos) / 1_000, Double(overheadP99Nanos) / 1_000))
        if let ledgerPath { lines.append("ledger \(ledgerPath)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    func leftPadded(_ n: Int, _ c: Character = " ") -> String { count >= n ? self : String(repeating: c, count: n - count) + self }
    func rightPadded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

/// A small ordered JSON writer (keys in insertion order, money as exact decimals).
final class JSONWriter {
    var out = ""
    private var needsComma = [false]
    init() {}

    func object(_ body: () -> Void) {
        comma()
        out += "{"
        needsComma.append(false)
        body()
        needsComma.removeLast()
        out += "}"
    }

    func array(_ body: () -> Void) {
        comma()
        out += "["
        needsComma.append(false)
        body()
        needsComma.removeLast()
        out += "]"
    }

    func key(_ k: String) {
        comma()
        out += Self.quote(k) + ":"
        needsComma[needsComma.count - 1] = false
        pendingValue = true
    }

    private var pendingValue = false

    private func comma() {
        if pendingValue {
            pendingValue = false
            needsComma[needsComma.count - 1] = true
            return
        }
        if needsComma[needsComma.count - 1] { out += "," }
        needsComma[needsComma.count - 1] = true
    }

    func raw(_ v: String) {
        comma()
        out += v
    }

    func field(_ k: String, _ v: Int) {
        key(k)
        raw(String(v))
    }
    func field(_ k: String, _ v: String) {
        key(k)
        raw(Self.quote(v))
    }
    func field(_ k: String, _ v: Bool) {
        key(k)
        raw(v ? "true" : "false")
    }
    func field(_ k: String, _ v: Double, decimals: Int) {
        key(k)
        raw(v.isFinite ? String(format: "%.\(decimals)f", v) : "null")
    }
    func money(_ k: String, _ v: MicroDollars?) {
        key(k)
        raw(v?.decimalString ?? "null")
    }

    func group(_ g: ReplayReport.Group, refused: Bool) {
        object {
            field("tasks", g.tasks)
            if refused { field("refused", g.refused) }
            field("input_tokens", g.inputTokens)
            field("output_tokens", g.outputTokens)
            money("cost_usd", g.cost)
        }
    }

    func windows(_ ws: [ReplayReport.Window], keyName: String) {
        array {
            for w in ws {
                object {
                    field(keyName, w.key)
                    field("tasks", w.tasks)
                    field("refusals", w.refusals)
                    money("spend_usd", w.spend)
                    money("non_critical_spend_usd", w.nonCriticalSpend)
                    money("critical_spend_usd", w.criticalSpend)
                    money("limit_usd", w.limit)
                    field("over_budget", w.overBudget)
                    field("non_critical_over_budget", w.nonCriticalOverBudget)
                }
            }
        }
    }

    static func quote(_ s: String) -> String { JSONValue.string(s).compactJSON }
}
