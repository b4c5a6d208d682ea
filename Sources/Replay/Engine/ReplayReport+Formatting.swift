import Foundation
import ModelSelection

extension ReplayReport {
    /// The report as a readable table.
    public func table() -> String {
        var lines: [String] = []
        let limits = "daily \(dailyLimit.map { $0.formatted() } ?? "unlimited"), monthly \(monthlyLimit.map { $0.formatted() } ?? "unlimited"), \(timeZone)"
        lines.append("BATS replay: \(tasks) tasks, \(days.count) days (\(limits))")
        lines.append("")
        lines.append("tier        tasks  refused        cost" + (hasOutcomes ? "  quality  correct/labelled  unlabelled" : ""))
        for tier in Complexity.allCases {
            guard let g = byTier[tier] else { continue }
            var row = "\(tier.rawValue.rightPadded(10)) \(String(g.tasks).leftPadded(6)) \(String(g.refused).leftPadded(8)) \(g.cost.formatted(decimals: 4).leftPadded(11))"
            if hasOutcomes { row += "  " + g.quality.columns }
            lines.append(row)
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
        lines.append(contentsOf: cacheLines)
        lines.append("opus-only baseline \(baselineOpusOnly.formatted(decimals: 4))   savings vs opus \(String(format: "%.1f%%", savingsVsOpus * 100))")
        lines.append("no-budget baseline \(baselineNoBudget.formatted(decimals: 4))")
        if hasOutcomes {
            lines.append(
                "quality \(quality.percentText) (\(quality.correct) of \(quality.labelled) labelled answers correct), unlabelled answers \(quality.unlabelled), policy \(policy), calls \(calls)")
            if simulatedVerdicts { lines.append(ReplayReport.simulationNote) }
        }
        lines.append("downgrades \(downgrades), refusals \(refusals), provider fallbacks \(providerFallbacks), retries \(retries), failed \(failed)")
        lines.append("critical \(criticalTotal) (on opus \(criticalOnPinnedModel), over budget \(criticalOverBudget)); days over limit \(overDays) of \(days.count), non-critical over limit \(days.filter(\.nonCriticalOverBudget).count)")
        lines.append(String(format: "throughput %.0f tasks/s, routing overhead p50 %.1f µs, p99 %.1f µs", tasksPerSecond, Double(overheadP50Nanos) / 1_000, Double(overheadP99Nanos) / 1_000))
        if !scopes.isEmpty {
            lines.append("")
            lines.append("scope                              tasks        spend  daily limit  max day  monthly limit  max month  refused  downgraded")
            for s in scopes {
                let f = { (m: MicroDollars?) in m?.formatted(decimals: 4) ?? "none" }
                lines.append(
                    "\(s.name.rightPadded(32)) \(String(s.tasks).leftPadded(7)) \(s.spend.formatted(decimals: 4).leftPadded(12)) \(f(s.dailyLimit).leftPadded(12)) \(s.maxDayNonCriticalSpend.formatted(decimals: 4).leftPadded(8)) \(f(s.monthlyLimit).leftPadded(14)) \(s.maxMonthNonCriticalSpend.formatted(decimals: 4).leftPadded(10)) \(String(s.refusals).leftPadded(8)) \(String(s.downgrades).leftPadded(11))"
                )
            }
        }
        if let ledgerPath { lines.append("ledger \(ledgerPath)") }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ReplayReport {
    /// The cache lines under the spend (none when the replay saw and assumed no cache reads): the cached share of
    /// input, what the cache saved, and whether the hits were assumed.
    var cacheLines: [String] {
        guard hasCache else { return [] }
        var out = [
            "cached input       \(String(format: "%.1f%%", cachedInputShare * 100)) (\(cachedInputTokens) of \(inputTokens) prompt tokens)   cache saved \(cacheSaved.formatted(decimals: 4))"
        ]
        if let share = cacheHitShare {
            out.append(
                "note: \(Self.cacheWhatIfNote): --cache-hit-share \(share) on \(cacheAssumedTasks) tasks without their own cached_input_tokens (floor(share × input_tokens) cached per call)")
        } else {
            out.append("note: cache hits measured: the workload's cached_input_tokens")
        }
        return out
    }

    /// The sentence every report of a replayed cascade carries.
    public static let simulationNote =
        "note: cascade verdicts are SIMULATED from the outcome labels with a seeded verifier of the given precision and recall; no verifier ran"
}

extension ReplayReport.Quality {
    /// `  85.7%        1130/1319           0`: the tier table's quality columns.
    var columns: String {
        "\(percentText.leftPadded(7))  \("\(correct)/\(labelled)".leftPadded(16))  \(String(unlabelled).leftPadded(10))"
    }
}

extension String {
    func leftPadded(_ n: Int, _ c: Character = " ") -> String { count >= n ? self : String(repeating: c, count: n - count) + self }
    func rightPadded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
