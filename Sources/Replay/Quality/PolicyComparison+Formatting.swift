import Foundation
import ModelSelection

extension PolicyComparison {
    /// The comparison as a readable table: one row per policy (cost, quality, refusals), the labelled models and
    /// the oracle bound, and the simulation note when a cascade ran.
    /// - Returns: The text, ending in a newline.
    public func table() -> String {
        var lines: [String] = []
        let first = rows.first?.report
        let limits = first.map { r in
            "daily \(r.dailyLimit.map { $0.formatted() } ?? "unlimited"), monthly \(r.monthlyLimit.map { $0.formatted() } ?? "unlimited")"
        } ?? ""
        lines.append("BATS policy comparison: \(ladder.tasks) tasks, \(ladder.labelledTasks) labelled (\(limits); each policy on its own ledger)")
        let models = ladder.rungs.map { r in
            "\(r.model) \(ReplayReport.percent(r.share)) (\(r.correct)/\(r.labelled))"
        }
        lines.append("labelled models, cheapest first: " + (models.isEmpty ? "none" : models.joined(separator: ", ")))
        lines.append("oracle bound (some labelled model correct): \(ReplayReport.percent(ladder.oracleShare)) (\(ladder.anyCorrect)/\(ladder.labelledTasks))")
        lines.append("")
        let onFrontier = Set(frontier.map(\.name))
        let relative = strongRow != nil
        var header = "policy".rightPadded(28) + "cost".leftPadded(12) + "quality".leftPadded(9) + "correct/labelled".leftPadded(18)
            + "unlabelled".leftPadded(11) + "refused".leftPadded(9) + "calls".leftPadded(8)
        if relative { header += "  of strong: quality    cost" }
        header += "  frontier"
        lines.append(header)
        for row in rows {
            let q = row.quality
            var line = row.name.rightPadded(28) + row.cost.formatted(decimals: 4).leftPadded(12) + q.percentText.leftPadded(9)
                + "\(q.correct)/\(q.labelled)".leftPadded(18) + String(q.unlabelled).leftPadded(11) + String(row.refused).leftPadded(9)
                + String(row.report.calls).leftPadded(8)
            if relative {
                if let r = relativeToStrong(row) {
                    line += String(format: "%19.1f%%", r.quality * 100) + String(format: "%7.1f%%", r.cost * 100)
                } else {
                    line += "n/a".leftPadded(20) + "n/a".leftPadded(8)
                }
            }
            line += onFrontier.contains(row.name) ? "  *" : row.policy.isBound ? "  bound" : ""
            lines.append(line)
        }
        let tiers = Complexity.allCases.filter { t in rows.contains { $0.report.byTier[t] != nil } }
        if tiers.count > 1 {
            lines.append("")
            lines.append("policy".rightPadded(28) + "tier".rightPadded(10) + "tasks".leftPadded(7) + "cost".leftPadded(12) + "quality".leftPadded(9)
                + "correct/labelled".leftPadded(18) + "unlabelled".leftPadded(11) + "refused".leftPadded(9))
            for row in rows {
                for tier in tiers {
                    guard let g = row.report.byTier[tier] else { continue }
                    lines.append(
                        row.name.rightPadded(28) + tier.rawValue.rightPadded(10) + String(g.tasks).leftPadded(7) + g.cost.formatted(decimals: 4).leftPadded(12)
                            + g.quality.percentText.leftPadded(9) + "\(g.quality.correct)/\(g.quality.labelled)".leftPadded(18)
                            + String(g.quality.unlabelled).leftPadded(11) + String(g.refused).leftPadded(9))
                }
            }
        }
        lines.append("")
        lines.append("*: on the cost-versus-quality frontier (no other policy is as cheap and as good); the oracle is a bound, not a policy")
        if hasSimulatedVerdicts { lines.append(ReplayReport.simulationNote) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The comparison as one line of JSON (and a newline), keys sorted.
    ///
    /// `tasks`, `labelled_tasks`, `ladder` (per model: `model`, `labelled`, `correct`, `share`), `oracle_bound`,
    /// `policies` (per policy: `policy`, `cost_usd` exact to the micro-dollar, `quality` as in a replay report,
    /// `refused`, `failed`, `calls`, `on_frontier`, `verdicts_simulated`, `by_tier` (per tier: `tasks`, `refused`,
    /// tokens, `cost_usd` and `quality`), and `quality_vs_strong` / `cost_vs_strong` when an always-strong policy ran) and `note` (the simulation note, `null` without a cascade).
    /// - Returns: The JSON document.
    /// - Throws: `EncodingError` (not expected).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(ComparisonJSON(self)), as: UTF8.self) + "\n"
    }
}

extension ReplayReport {
    /// A share as `85.7%`, or `n/a`.
    static func percent(_ share: Double?) -> String { share.map { String(format: "%.1f%%", $0 * 100) } ?? "n/a" }
}

/// The JSON shape of a ``PolicyComparison``.
struct ComparisonJSON: Encodable {
    struct Rung: Encodable {
        var model: String
        var labelled: Int
        var correct: Int
        var share: JSONFixed?
    }

    struct Policy: Encodable {
        var policy: String
        var cost: JSONDollars
        var quality: ReplayReportJSON.Quality
        var refused: Int
        var failed: Int
        var calls: Int
        var onFrontier: Bool
        var verdictsSimulated: Bool
        var qualityVsStrong: JSONFixed?
        var costVsStrong: JSONFixed?
        var byTier: [String: ReplayReportJSON.Group]

        enum CodingKeys: String, CodingKey {
            case policy, cost = "cost_usd", quality, refused, failed, calls, onFrontier = "on_frontier", byTier = "by_tier"
            case verdictsSimulated = "verdicts_simulated", qualityVsStrong = "quality_vs_strong", costVsStrong = "cost_vs_strong"
        }
    }

    var tasks: Int
    var labelledTasks: Int
    var ladder: [Rung]
    var oracleBound: JSONFixed?
    var policies: [Policy]
    var note: String?

    enum CodingKeys: String, CodingKey {
        case tasks, labelledTasks = "labelled_tasks", ladder, oracleBound = "oracle_bound", policies, note
    }

    init(_ c: PolicyComparison) {
        tasks = c.ladder.tasks
        labelledTasks = c.ladder.labelledTasks
        ladder = c.ladder.rungs.map { Rung(model: $0.model.rawValue, labelled: $0.labelled, correct: $0.correct, share: $0.share.map { JSONFixed($0, decimals: 6) }) }
        oracleBound = c.ladder.oracleShare.map { JSONFixed($0, decimals: 6) }
        let frontier = Set(c.frontier.map(\.name))
        policies = c.rows.map { row in
            let relative = c.relativeToStrong(row)
            return Policy(
                policy: row.name, cost: JSONDollars(row.cost), quality: ReplayReportJSON.Quality(row.quality), refused: row.refused,
                failed: row.report.failed, calls: row.report.calls, onFrontier: frontier.contains(row.name),
                verdictsSimulated: row.policy.simulatesVerdicts, qualityVsStrong: relative.map { JSONFixed($0.quality, decimals: 6) },
                costVsStrong: relative.map { JSONFixed($0.cost, decimals: 6) },
                byTier: Dictionary(uniqueKeysWithValues: row.report.byTier.map { ($0.key.rawValue, ReplayReportJSON.Group($0.value, refused: true, quality: true)) }))
        }
        note = c.hasSimulatedVerdicts ? ReplayReport.simulationNote : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tasks, forKey: .tasks)
        try c.encode(labelledTasks, forKey: .labelledTasks)
        try c.encode(ladder, forKey: .ladder)
        try c.encode(oracleBound, forKey: .oracleBound)
        try c.encode(policies, forKey: .policies)
        try c.encode(note, forKey: .note)
    }
}
