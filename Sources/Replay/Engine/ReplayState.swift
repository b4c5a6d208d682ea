import BATS
import Foundation
import Gateway
import Histogram
import ModelSelection
import SpendLedger

/// The running tallies of one replay.
struct ReplayState {
    let engine: ReplayEngine
    var report = ReplayReport()
    var provider: SimulatedProvider
    /// Per-task routing overhead, ns (flat memory for any number of tasks).
    var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .two)
    var days: [String: ReplayReport.Window] = [:]
    var months: [String: ReplayReport.Window] = [:]
    /// Spend, refusals and downgrades per budget scope.
    var scopes: ScopeTally
    let opus: ModelInfo
    let clock = ContinuousClock()
    /// Where each task's decision goes, if anywhere.
    var decisions: ((RoutingDecision) -> Void)?

    init(engine: ReplayEngine) {
        self.engine = engine
        self.provider = SimulatedProvider(failureRate: engine.configuration.failureRate, seed: engine.configuration.seed)
        self.opus = engine.selector.catalog.model(engine.selector.criticalModel)!
        self.scopes = ScopeTally(engine.configuration.limits.scopes)
    }

    mutating func process(_ t: WorkloadTask, ops: inout some ReplayLedgerOps) throws {
        let started = clock.now
        defer { _ = histogram.record(UInt64(max(0, Self.nanos(clock.now - started)))) }
        let selector = engine.selector, catalog = selector.catalog
        report.tasks += 1
        if !t.outcomes.isEmpty { report.labelledTasks += 1 }
        let tier: Complexity
        if let c = t.complexity {
            tier = c
        } else if let k = t.task, let r = try? selector.tier(for: k) {
            tier = r.tier
        } else {
            report.failed += 1
            return
        }
        let critical = tier == .critical
        if critical { report.criticalTotal += 1 }
        // Reserved for the most any recorded answer produced (the task's own count or a label's), unless capped.
        let profile = TaskProfile(
            kind: t.task, complexity: tier, inputTokens: t.inputTokens, maxOutputTokens: max(1, t.maxOutputTokens ?? t.largestOutputTokens))

        // Baselines: everything on Opus; everything on the tier's preferred model with no budget.
        // Every amount and total is checked: a cost or a sum that does not fit throws MoneyError, never traps.
        // The baselines read the same cache hits as the routed calls (each at its model's cached price).
        let cached = cachedTokens(for: t)
        if cached != nil, t.cachedInputTokens == nil { report.cacheAssumedTasks += 1 }
        report.baselineOpusOnly = try report.baselineOpusOnly.adding(
            catalog.cost(of: opus, Self.billable(t, cached: cached, output: t.outputTokens(on: opus.id))))
        if let preferred = catalog.model(selector.chain(for: tier)[0]) {
            report.baselineNoBudget = try report.baselineNoBudget.adding(
                catalog.cost(
                    of: preferred,
                    Self.billable(t, cached: cached, output: min(t.outputTokens(on: preferred.id), selector.outputCap(for: profile, on: preferred)))))
        }

        let requestID = t.id ?? "replay-\(report.tasks)"
        var tierGroup = report.byTier[tier, default: .init()]
        tierGroup.tasks += 1
        defer { report.byTier[tier] = tierGroup }
        // Critical tasks follow the critical rules under every policy: one call on the pinned model.
        let route = critical ? .routed : engine.policy.route(for: t, ordinal: report.tasks, ladder: engine.ladder)
        let answer = try run(route, task: t, profile: profile, requestID: requestID, tierGroup: &tierGroup, ops: &ops)
        switch answer {
        case .answered(let grade):
            report.quality.add(grade)
            tierGroup.quality.add(grade)
        case .refused(let binding):
            report.refusals += 1
            tierGroup.refused += 1
            scopes.bound(by: binding, refusal: true)
        case .failed:
            report.failed += 1
        }
    }

    /// How one call ended.
    enum CallResult {
        /// The model answered and its call settled.
        case answered(ModelID)
        /// The budget refused the call (the binding window, when known).
        case refused(BudgetSnapshot.Binding?)
        /// Every model the call could use failed.
        case failed
    }

    /// How one task ended.
    enum TaskAnswer {
        /// An answer was kept, with its grade.
        case answered(ReplayReport.Grade)
        /// The budget refused the task.
        case refused(BudgetSnapshot.Binding?)
        /// No model answered.
        case failed
    }

    /// One routed call: reserve, the simulated provider, settle, and the call's tallies (cost by model, window and
    /// scope, downgrades, retries and fallbacks). `profile.model` pins the model; `nil` routes down the tier's chain.
    mutating func call(
        _ t: WorkloadTask, profile: TaskProfile, requestID: String, tierGroup: inout ReplayReport.Group, ops: inout some ReplayLedgerOps
    ) throws -> CallResult {
        let selector = engine.selector, catalog = selector.catalog, config = engine.configuration
        let date = t.date
        let critical = profile.complexity == .critical
        // The one routing policy, driven on the virtual clock with the simulated provider.
        var machine = RoutingStateMachine(
            selector: selector, plan: .chat(profile), requestID: requestID, taskKind: t.task, tags: t.tags,
            configuration: .init(criticalAttempts: config.criticalAttempts))
        // Provider attempts per model of this call (a handful: a list, not a dictionary).
        var tries: [(model: ModelID, count: Int)] = []
        var overLimit = false
        var windows = (day: "", month: "")
        var action = machine.start()
        while true {
            switch action {
            case .reserve(let request):
                // The closure reads the machine in place (no copy, no allocation) while the ledger chooses.
                let outcome = try ops.reserve(request, at: date) { machine.choose($0) }
                if case .refused(_, let snapshot, _) = outcome {
                    days[snapshot.daily.key, default: .init(key: snapshot.daily.key)].refusals += 1
                    months[snapshot.monthly.key, default: .init(key: snapshot.monthly.key)].refusals += 1
                }
                action = machine.reserved(outcome)
            case .send(let r):
                windows = (r.dayKey, r.monthKey)
                // One gateway call: the client's retries of the same model, then the policy decides.
                let gatewayID = catalog.model(r.model)?.gatewayID ?? r.model.rawValue
                var failure: GatewayError?
                for n in 0...config.retriesPerModel {
                    let k: Int
                    if let i = tries.firstIndex(where: { $0.model == r.model }) {
                        tries[i].count += 1
                        k = tries[i].count
                    } else {
                        tries.append((r.model, 1))
                        k = 1
                    }
                    failure = provider.attempt(requestID: requestID, model: gatewayID, attempt: k)
                    guard failure != nil else { break }
                    if n < config.retriesPerModel { report.retries += 1 }
                }
                if let failure {
                    action = machine.failed(failure)
                } else {
                    // A label's output count, when the model has one, is what this model produced.
                    let output = min(t.outputTokens(on: r.model), r.selection.maxOutputTokens)
                    // Cache reads (recorded, or assumed by the what-if share) settle at the model's cached price through
                    // the same pricing as a live reply's `prompt_tokens_details.cached_tokens`; the reservation assumed none.
                    let usage = Usage(promptTokens: t.inputTokens, completionTokens: output, cachedPromptTokens: cachedTokens(for: t))
                    action = machine.answered(usage: usage, replyBytes: 0)
                }
            case .release(let r, let error):
                try ops.release(r.id, error: error, at: date)
                action = machine.released()
            case .settle(let r, let settlement):
                let receipt = try ops.settle(r.id, settlement, at: date)
                overLimit = receipt.overLimit
                action = machine.settled(receipt)
            case .fail(let error):
                if let e = error as? RoutingError { decisions?(RoutingDecision(e)) }
                if let e = error as? RoutingError, e.kind == .budgetExhausted { return .refused(e.refusal?.binding) }
                return .failed
            case .finish(let record):
                let model = record.model
                report.calls += 1
                let cachedRead = record.usageEstimated ? 0 : record.usage.cachedPromptTokens ?? 0
                try tally(model: model, cost: record.cost, input: record.usage.promptTokens, cached: cachedRead,
                    output: record.usage.completionTokens, critical: critical, day: windows.day, month: windows.month)
                try tierGroup.add(cost: record.cost, input: record.usage.promptTokens, cached: cachedRead, output: record.usage.completionTokens)
                if record.reason == .downgradedForBudget {
                    report.downgrades += 1
                    scopes.bound(by: record.boundBy, refusal: false)
                }
                try scopes.settled(record.scopes, model: model, cost: record.cost, critical: critical, day: windows.day, month: windows.month)
                if machine.fellBack { report.providerFallbacks += 1 }
                if critical, model == selector.criticalModel { report.criticalOnPinnedModel += 1 }
                if overLimit { report.criticalOverBudget += 1 }
                decisions?(RoutingDecision(record))
                return .answered(model)
            }
        }
    }

    private mutating func tally(
        model: ModelID, cost: MicroDollars, input: Int, cached: Int, output: Int, critical: Bool, day: String, month: String
    ) throws {
        report.cost = try report.cost.adding(cost)
        report.inputTokens = try ReplayReport.Group.sum(report.inputTokens, input, "input_tokens")
        report.cachedInputTokens = try ReplayReport.Group.sum(report.cachedInputTokens, cached, "cached_input_tokens")
        var g = report.byModel[model.rawValue, default: .init()]
        g.tasks += 1
        try g.add(cost: cost, input: input, cached: cached, output: output)
        report.byModel[model.rawValue] = g
        for (key, isDay) in [(day, true), (month, false)] {
            var w = (isDay ? days[key] : months[key]) ?? .init(key: key)
            w.tasks += 1
            w.spend = try w.spend.adding(cost)
            if critical { w.criticalSpend = try w.criticalSpend.adding(cost) } else { w.nonCriticalSpend = try w.nonCriticalSpend.adding(cost) }
            w.byModel[model.rawValue] = try w.byModel[model.rawValue, default: .zero].adding(cost)
            if isDay { days[key] = w } else { months[key] = w }
        }
    }

    /// The cached prompt tokens of a task's calls: its own `cached_input_tokens`, else the what-if share's, else none.
    func cachedTokens(for t: WorkloadTask) -> Int? {
        t.cachedInputTokens ?? engine.configuration.cacheHitShare.map { $0.cachedTokens(of: t.inputTokens) }
    }

    /// A call's billable parts: the prompt less its cache reads at the input price, the reads at the cached price.
    static func billable(_ t: WorkloadTask, cached: Int?, output: Int) -> BillableUsage {
        let read = min(max(0, cached ?? 0), t.inputTokens)
        return BillableUsage(inputTokens: t.inputTokens - read, cacheReadTokens: read, outputTokens: output)
    }

    mutating func finish() throws -> ReplayReport {
        let c = engine.configuration
        // Priced as the audit prices it (ModelCatalog.cacheSavings), so a replay's report and its ledger's audit agree.
        var byModel: [ModelID: Int] = [:]
        for (id, g) in report.byModel where g.cachedInputTokens > 0 { byModel[ModelID(id)] = g.cachedInputTokens }
        report.cacheSaved = try engine.selector.catalog.cacheSavings(cachedTokens: byModel)
        report.cacheHitShare = c.cacheHitShare
        report.days = days.values.sorted { $0.key < $1.key }.map { var w = $0; w.limit = c.limits.daily; return w }
        report.months = months.values.sorted { $0.key < $1.key }.map { var w = $0; w.limit = c.limits.monthly; return w }
        report.overheadP50Nanos = Int64(histogram.valueAtPercentile(50))
        report.overheadP99Nanos = Int64(histogram.valueAtPercentile(99))
        report.dailyLimit = c.limits.daily
        report.monthlyLimit = c.limits.monthly
        report.timeZone = c.calendar.zoneName
        report.scopes = scopes.sorted
        report.policy = engine.policy.name
        report.simulatedVerdicts = engine.policy.simulatesVerdicts
        return report
    }

    static func nanos(_ d: Duration) -> Int64 { d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000 }
}

extension ReplayReport.Group {
    /// Adds a settled call's cost and tokens (`cached`: its prompt tokens read from the cache), checked.
    /// - Throws: ``ModelSelection/MoneyError`` when the cost total overflows; ``ReplayError`` (``ReplayError/Code/overflow``)
    ///   when a token total does.
    mutating func add(cost: MicroDollars, input: Int, cached: Int = 0, output: Int) throws {
        self.cost = try self.cost.adding(cost)
        inputTokens = try Self.sum(inputTokens, input, "input_tokens")
        cachedInputTokens = try Self.sum(cachedInputTokens, cached, "cached_input_tokens")
        outputTokens = try Self.sum(outputTokens, output, "output_tokens")
    }

    static func sum(_ a: Int, _ b: Int, _ field: String) throws(ReplayError) -> Int {
        let (v, o) = a.addingReportingOverflow(b)
        guard !o else { throw ReplayError(.overflow, "the replay's total of \(field) passes \(Int.max)", field: field) }
        return v
    }
}
