import ArgumentParser
import Foundation
import ModelSelection
import Replay
import SpendLedger

extension BATSCommand.Replay {
    /// `bats replay FILE --compare POLICIES`: one replay per policy, one table (or JSON), and the cost-versus-quality
    /// chart.
    func runComparison(_ compare: String, workload: String, selector: ModelSelector, limits: BudgetLimits, calendar: BudgetCalendar) throws {
        let policies = try QualityPolicy.list(parsing: compare, seed: seed)
        let url = URL(fileURLWithPath: workload)
        let reading = WorkloadReader.Configuration(skipInvalid: skipInvalid)
        // One pass for the labelled models and their base rates, then one per policy.
        var first = WorkloadReader(url: url, configuration: reading).makeIterator()
        var ladder = QualityLadder(catalog: selector.catalog)
        while let task = try first.next() { ladder.add(task) }
        for e in first.summary.errors { printError("skipped: \(e)") }
        let configuration = ReplayEngine.Configuration(
            limits: limits, calendar: calendar, failureRate: failureRate, seed: seed, commitMode: batchSize == 1 ? .perCall : .batched(batchSize))
        let comparison = try PolicyComparison.run(policies, selector: selector, configuration: configuration, ladder: ladder) {
            var it = WorkloadReader(url: url, configuration: reading).makeIterator()
            return { try it.next() }
        }
        if let report { try Data(try comparison.json().utf8).write(to: URL(fileURLWithPath: report)) }
        if let chart { try Data(QualityChart(comparison).render().utf8).write(to: URL(fileURLWithPath: chart)) }
        print(format == .json ? try comparison.json() : comparison.table(), terminator: "")
    }
}
