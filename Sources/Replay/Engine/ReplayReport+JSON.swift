import Foundation
public import ModelSelection

extension ReplayReport {
    /// The report as one line of JSON (and a newline), keys sorted.
    ///
    /// Dollars are JSON numbers exact to the micro-dollar (`"cost_usd":12.345678`, trailing zeros dropped); a missing
    /// limit is `null`. Strings (model names, time zone, ledger path) are escaped by `JSONEncoder`, so any text
    /// gives valid JSON.
    /// - Returns: The JSON document.
    /// - Throws: `EncodingError` (not expected: every value is an integer, a string, a boolean or a `Decimal`).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(ReplayReportJSON(self)), as: UTF8.self) + "\n"
    }
}

// MARK: - Encodable shapes

/// The JSON shape of a ``ReplayReport``. To add a field, add a property and its key.
struct ReplayReportJSON: Encodable {
    /// One tier or model: `refused` only for tiers.
    struct Group: Encodable {
        var tasks: Int
        var refused: Int?
        var inputTokens: Int
        /// Present only when the replay has cache reads.
        var cachedInputTokens: Int?
        var outputTokens: Int
        var cost: JSONDollars
        var quality: Quality?

        init(_ g: ReplayReport.Group, refused: Bool, quality: Bool = false, cache: Bool = false) {
            tasks = g.tasks
            self.refused = refused ? g.refused : nil
            self.quality = quality ? Quality(g.quality) : nil
            inputTokens = g.inputTokens
            cachedInputTokens = cache ? g.cachedInputTokens : nil
            outputTokens = g.outputTokens
            cost = JSONDollars(g.cost)
        }

        enum CodingKeys: String, CodingKey {
            case tasks, refused, inputTokens = "input_tokens", cachedInputTokens = "cached_input_tokens", outputTokens = "output_tokens"
            case cost = "cost_usd", quality
        }
    }

    /// Answers graded by the labels: `share` (correct ÷ labelled, `null` without labelled answers), `correct`,
    /// `labelled`, `unlabelled`.
    struct Quality: Encodable {
        var share: JSONFixed?
        var correct: Int
        var labelled: Int
        var unlabelled: Int

        init(_ q: ReplayReport.Quality) {
            share = q.share.map { JSONFixed($0, decimals: 6) }
            correct = q.correct
            labelled = q.labelled
            unlabelled = q.unlabelled
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(share, forKey: "share")
            try c.encode(correct, forKey: "correct")
            try c.encode(labelled, forKey: "labelled")
            try c.encode(unlabelled, forKey: "unlabelled")
        }
    }

    /// One day or month window; its key is written as `date` or `month`.
    struct Window: Encodable {
        var keyName: String
        var window: ReplayReport.Window

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(window.key, forKey: JSONKey(keyName))
            try c.encode(window.tasks, forKey: "tasks")
            try c.encode(window.refusals, forKey: "refusals")
            try c.encode(JSONDollars(window.spend), forKey: "spend_usd")
            try c.encode(JSONDollars(window.nonCriticalSpend), forKey: "non_critical_spend_usd")
            try c.encode(JSONDollars(window.criticalSpend), forKey: "critical_spend_usd")
            try c.encode(JSONDollars(window.limit), forKey: "limit_usd")
            try c.encode(window.overBudget, forKey: "over_budget")
            try c.encode(window.nonCriticalOverBudget, forKey: "non_critical_over_budget")
        }
    }

    var tasks: Int
    var invalidLines: Int
    var byTier: [String: Group]
    var byModel: [String: Group]
    var cost: JSONDollars
    var baselineOpusOnly: JSONDollars
    var baselineNoBudget: JSONDollars
    var savingsVsOpus: JSONFixed
    var dailyLimit: JSONDollars
    var monthlyLimit: JSONDollars
    var timeZone: String
    var days: [Window]
    var months: [Window]
    var downgrades: Int
    var refusals: Int
    var providerFallbacks: Int
    var retries: Int
    var failed: Int
    var criticalTotal: Int
    var criticalOnOpus: Int
    var criticalOverBudget: Int
    var elapsedSeconds: JSONFixed
    var tasksPerSecond: JSONFixed
    var overheadP50: JSONFixed
    var overheadP99: JSONFixed
    /// Omitted when the ledger was a temporary file.
    var ledger: String?
    /// One object per budget scope.
    var scopes: [Scope]
    var policy: String
    var calls: Int
    /// Present only when the workload carries outcome labels.
    var labelledTasks: Int?
    var quality: Quality?
    var verdictsSimulated: Bool?
    /// Present only when the replay has cache reads or assumed some.
    var cache: Cache?

    /// The cache's part of the spend: `input_tokens`, `cached_input_tokens`, `cached_input_share`, `saved_usd`,
    /// `assumed` (whether any hit was assumed), `cache_hit_share` (the what-if share, `null` without one),
    /// `assumed_tasks`, and `note` (`what-if: cache hits assumed, not measured` or `measured`).
    struct Cache: Encodable {
        var inputTokens: Int
        var cachedInputTokens: Int
        var cachedInputShare: JSONFixed
        var saved: JSONDollars
        var assumed: Bool
        var cacheHitShare: JSONShare?
        var assumedTasks: Int
        var note: String

        init(_ r: ReplayReport) {
            inputTokens = r.inputTokens
            cachedInputTokens = r.cachedInputTokens
            cachedInputShare = JSONFixed(r.cachedInputShare, decimals: 6)
            saved = JSONDollars(r.cacheSaved)
            assumed = r.cacheHitShare != nil
            cacheHitShare = r.cacheHitShare.map(JSONShare.init)
            assumedTasks = r.cacheAssumedTasks
            note = r.cacheHitShare != nil ? ReplayReport.cacheWhatIfNote : "measured: the workload's cached_input_tokens"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(inputTokens, forKey: "input_tokens")
            try c.encode(cachedInputTokens, forKey: "cached_input_tokens")
            try c.encode(cachedInputShare, forKey: "cached_input_share")
            try c.encode(saved, forKey: "saved_usd")
            try c.encode(assumed, forKey: "assumed")
            try c.encode(cacheHitShare, forKey: "cache_hit_share")
            try c.encode(assumedTasks, forKey: "assumed_tasks")
            try c.encode(note, forKey: "note")
        }
    }

    /// A ``CacheHitShare`` as an exact JSON number (`0.6`).
    struct JSONShare: Encodable {
        var share: CacheHitShare

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode(Decimal(share.partsPerMillion) / Decimal(CacheHitShare.whole))
        }
    }

    /// A scope's row: `name`, `tasks`, `spend_usd`, `non_critical_spend_usd`, `daily_limit_usd`, `monthly_limit_usd`,
    /// `max_day_non_critical_usd`, `max_month_non_critical_usd`, `refusals`, `downgrades`.
    struct Scope: Encodable {
        var name: String
        var tasks: Int
        var spend: JSONDollars
        var nonCriticalSpend: JSONDollars
        var dailyLimit: JSONDollars
        var monthlyLimit: JSONDollars
        var maxDay: JSONDollars
        var maxMonth: JSONDollars
        var refusals: Int
        var downgrades: Int

        enum CodingKeys: String, CodingKey {
            case name, tasks, spend = "spend_usd", nonCriticalSpend = "non_critical_spend_usd", dailyLimit = "daily_limit_usd"
            case monthlyLimit = "monthly_limit_usd", maxDay = "max_day_non_critical_usd", maxMonth = "max_month_non_critical_usd", refusals, downgrades
        }

        init(_ s: ReplayReport.Scope) {
            name = s.name
            tasks = s.tasks
            spend = JSONDollars(s.spend)
            nonCriticalSpend = JSONDollars(s.nonCriticalSpend)
            dailyLimit = JSONDollars(s.dailyLimit)
            monthlyLimit = JSONDollars(s.monthlyLimit)
            maxDay = JSONDollars(s.maxDayNonCriticalSpend)
            maxMonth = JSONDollars(s.maxMonthNonCriticalSpend)
            refusals = s.refusals
            downgrades = s.downgrades
        }
    }

    enum CodingKeys: String, CodingKey {
        case tasks, invalidLines = "invalid_lines", byTier = "by_tier", byModel = "by_model", cost = "cost_usd"
        case baselineOpusOnly = "baseline_opus_only_usd", baselineNoBudget = "baseline_no_budget_usd", savingsVsOpus = "savings_vs_opus"
        case dailyLimit = "daily_limit_usd", monthlyLimit = "monthly_limit_usd", timeZone = "time_zone", days, months
        case downgrades, refusals, providerFallbacks = "provider_fallbacks", retries, failed, criticalTotal = "critical_total"
        case criticalOnOpus = "critical_on_opus", criticalOverBudget = "critical_over_budget", elapsedSeconds = "elapsed_seconds"
        case tasksPerSecond = "tasks_per_second", overheadP50 = "overhead_us_p50", overheadP99 = "overhead_us_p99", ledger, scopes
        case policy, calls, labelledTasks = "labelled_tasks", quality, verdictsSimulated = "verdicts_simulated", cache
    }

    init(_ r: ReplayReport) {
        tasks = r.tasks
        invalidLines = r.invalidLines
        byTier = Dictionary(uniqueKeysWithValues: r.byTier.map { ($0.key.rawValue, Group($0.value, refused: true, quality: r.hasOutcomes)) })
        byModel = r.byModel.mapValues { Group($0, refused: false, cache: r.hasCache) }
        cost = JSONDollars(r.cost)
        baselineOpusOnly = JSONDollars(r.baselineOpusOnly)
        baselineNoBudget = JSONDollars(r.baselineNoBudget)
        savingsVsOpus = JSONFixed(r.savingsVsOpus, decimals: 6)
        dailyLimit = JSONDollars(r.dailyLimit)
        monthlyLimit = JSONDollars(r.monthlyLimit)
        timeZone = r.timeZone
        days = r.days.map { Window(keyName: "date", window: $0) }
        months = r.months.map { Window(keyName: "month", window: $0) }
        downgrades = r.downgrades
        refusals = r.refusals
        providerFallbacks = r.providerFallbacks
        retries = r.retries
        failed = r.failed
        criticalTotal = r.criticalTotal
        criticalOnOpus = r.criticalOnPinnedModel
        criticalOverBudget = r.criticalOverBudget
        elapsedSeconds = JSONFixed(r.elapsedSeconds, decimals: 3)
        tasksPerSecond = JSONFixed(r.tasksPerSecond, decimals: 1)
        overheadP50 = JSONFixed(Double(r.overheadP50Nanos) / 1_000, decimals: 2)
        overheadP99 = JSONFixed(Double(r.overheadP99Nanos) / 1_000, decimals: 2)
        ledger = r.ledgerPath
        scopes = r.scopes.map(Scope.init)
        policy = r.policy
        calls = r.calls
        labelledTasks = r.hasOutcomes ? r.labelledTasks : nil
        quality = r.hasOutcomes ? Quality(r.quality) : nil
        verdictsSimulated = r.hasOutcomes ? r.simulatedVerdicts : nil
        cache = r.hasCache ? Cache(r) : nil
    }
}

// MARK: - Values

/// Money in JSON: a number of dollars, exact to the micro-dollar (``ModelSelection/MicroDollars/decimalValue``;
/// trailing zeros dropped, so `0.5`); `null` when absent (an unlimited limit). The key is always written.
/// Shared by every JSON the project prints (reports, audits, budgets).
public struct JSONDollars: Encodable, Sendable {
    /// The amount, or `nil` for `null`.
    public var amount: MicroDollars?

    /// Wraps an amount.
    public init(_ amount: MicroDollars?) { self.amount = amount }

    /// Writes the amount as an exact JSON number, or `null`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let amount { try c.encode(amount.decimalValue) } else { try c.encodeNil() }
    }
}

/// A measurement rounded to a fixed number of decimals (`0.823457`), written as a JSON number; `null` when not finite.
struct JSONFixed: Encodable {
    var value: Double
    var decimals: Int

    init(_ value: Double, decimals: Int) {
        self.value = value
        self.decimals = decimals
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        guard value.isFinite, let d = Decimal(string: String(format: "%.\(decimals)f", value), locale: Locale(identifier: "en_US_POSIX"))
        else { return try c.encodeNil() }
        try c.encode(d)
    }
}

/// A coding key made from any string.
struct JSONKey: CodingKey, ExpressibleByStringLiteral {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init(stringLiteral value: String) { stringValue = value }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
