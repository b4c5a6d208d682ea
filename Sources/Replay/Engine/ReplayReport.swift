public import ModelSelection

/// What a replay cost and how it routed: the totals a replay prints and writes as JSON.
public struct ReplayReport: Sendable, Hashable {
    /// Spend and calls of one group (a tier or a model).
    public struct Group: Sendable, Hashable {
        /// Tasks (for a tier: routed to it; for a model: settled on it).
        public var tasks = 0
        /// Settled spend.
        public var cost = MicroDollars.zero
        /// Prompt tokens settled, cache reads included.
        public var inputTokens = 0
        /// Prompt tokens settled as cache reads (part of ``inputTokens``).
        public var cachedInputTokens = 0
        /// Completion tokens settled.
        public var outputTokens = 0
        /// Refused tasks (tiers only).
        public var refused = 0
        /// The kept answers' grades by the outcome labels (tiers only).
        public var quality = Quality()
    }

    /// Spend in one budget window.
    public struct Window: Sendable, Hashable {
        /// The window key (`2026-10-01`, `2026-10`).
        public var key: String
        /// All settled spend.
        public var spend = MicroDollars.zero
        /// Settled non-critical spend.
        public var nonCriticalSpend = MicroDollars.zero
        /// Settled critical spend.
        public var criticalSpend = MicroDollars.zero
        /// The limit (`nil`: unlimited).
        public var limit: MicroDollars?
        /// Spend per model (for the chart).
        public var byModel: [String: MicroDollars] = [:]
        /// Tasks in the window.
        public var tasks = 0
        /// Refusals in the window.
        public var refusals = 0

        /// Total spend passed the limit (only critical calls can make it so).
        public var overBudget: Bool { limit.map { spend > $0 } ?? false }
        /// Non-critical spend passed the limit (never expected).
        public var nonCriticalOverBudget: Bool { limit.map { nonCriticalSpend > $0 } ?? false }
    }

    /// Tasks read.
    public var tasks = 0
    /// Per tier.
    public var byTier: [Complexity: Group] = [:]
    /// Per model (canonical id).
    public var byModel: [String: Group] = [:]
    /// Settled spend.
    public var cost = MicroDollars.zero
    /// What every task would have cost on Opus.
    public var baselineOpusOnly = MicroDollars.zero
    /// What every task would have cost on its tier's preferred model with no budget.
    public var baselineNoBudget = MicroDollars.zero
    /// Day windows in key order.
    public var days: [Window] = []
    /// Month windows in key order.
    public var months: [Window] = []
    /// Tasks downgraded for budget.
    public var downgrades = 0
    /// Tasks refused.
    public var refusals = 0
    /// Tasks that moved to another model after a provider failure.
    public var providerFallbacks = 0
    /// Retries of the same model after an injected failure.
    public var retries = 0
    /// Tasks that failed on every model they could use.
    public var failed = 0
    /// Critical tasks.
    public var criticalTotal = 0
    /// Critical tasks settled on the pinned model.
    public var criticalOnPinnedModel = 0
    /// Critical tasks that pushed a window over its limit.
    public var criticalOverBudget = 0
    /// Lines skipped as invalid (with `skipInvalid`).
    public var invalidLines = 0
    /// Wall-clock seconds.
    public var elapsedSeconds = 0.0
    /// Median routing overhead per task (select + reserve + settle), nanoseconds.
    public var overheadP50Nanos: Int64 = 0
    /// 99th percentile routing overhead per task, nanoseconds.
    public var overheadP99Nanos: Int64 = 0
    /// The daily limit.
    public var dailyLimit: MicroDollars?
    /// The monthly limit.
    public var monthlyLimit: MicroDollars?
    /// The time zone of the windows.
    public var timeZone = "UTC"
    /// The ledger file, when kept.
    public var ledgerPath: String?
    /// One row per configured budget scope, by name.
    public var scopes: [Scope] = []
    /// The policy replayed (``QualityPolicy/name``): `static` for the tier map.
    public var policy = QualityPolicy.staticTiers.name
    /// Tasks whose line carries outcome labels; quality is reported when there are any.
    public var labelledTasks = 0
    /// The kept answers' grades by the outcome labels, over all tasks.
    public var quality = Quality()
    /// Calls made (reservations settled): more than the tasks answered when a cascade escalates or a council sits.
    public var calls = 0
    /// A simulated verifier decided the cascade's escalations (the verdicts come from the labels, not from a model).
    public var simulatedVerdicts = false

    /// Prompt tokens settled over all calls, cache reads included.
    public var inputTokens = 0
    /// Prompt tokens settled as cache reads (recorded in the workload, or assumed by ``cacheHitShare``).
    public var cachedInputTokens = 0
    /// What the cache reads saved against the full input price: Σ over models of cached tokens × (input price −
    /// cached price) × (1 + margin), rounded down once (``ModelSelection/ModelCatalog/cacheSavings(cachedTokens:)``,
    /// as the audit prices it). Models without a cached price save nothing.
    public var cacheSaved = MicroDollars.zero
    /// The what-if share of each prompt assumed cached for tasks without their own `cached_input_tokens`; `nil` when
    /// the replay assumed none (every cache hit in the report was then recorded in the workload).
    public var cacheHitShare: CacheHitShare?
    /// Tasks whose cache reads came from ``cacheHitShare`` (assumed, not measured).
    public var cacheAssumedTasks = 0

    /// The sentence a report carries when any cache hit was assumed rather than recorded.
    public static let cacheWhatIfNote = "what-if: cache hits assumed, not measured"

    /// Whether the report has cache reads to show, or assumed some.
    public var hasCache: Bool { cachedInputTokens > 0 || cacheHitShare != nil }

    /// Cached prompt tokens ÷ all prompt tokens settled (0 without prompt tokens).
    public var cachedInputShare: Double { inputTokens > 0 ? Double(cachedInputTokens) / Double(inputTokens) : 0 }

    /// Whether the workload carries outcome labels (then the report shows quality beside cost).
    public var hasOutcomes: Bool { labelledTasks > 0 }

    /// 1 − cost / Opus-only cost (0 when the baseline is zero).
    public var savingsVsOpus: Double {
        baselineOpusOnly.rawValue == 0 ? 0 : 1 - Double(cost.rawValue) / Double(baselineOpusOnly.rawValue)
    }

    /// Tasks per wall-clock second.
    public var tasksPerSecond: Double { elapsedSeconds > 0 ? Double(tasks) / elapsedSeconds : 0 }
}
