/// Chooses a model for each call from its tier, the budget left, and the models that already failed.
///
/// The selector is pure: no clock, no I/O. Given the same task, budget snapshot and exclusions it returns the same
/// ``Selection``. The spend ledger runs it inside its reservation transaction, so the choice and the reservation
/// see the same totals.
public struct ModelSelector: Sendable {
    /// What to do with a task kind the tier map does not know.
    public struct UnknownTaskRule: Sendable, Hashable, CustomStringConvertible {
        /// The tier to assign, or `nil` to reject the task.
        public let tier: Complexity?
        /// Assign unknown kinds to a fixed tier (recorded as such in the decision).
        public static func assign(_ tier: Complexity) -> UnknownTaskRule { .init(tier: tier) }
        /// Reject unknown kinds with ``SelectionError/unknownTaskKind(_:)``.
        public static let reject = UnknownTaskRule(tier: nil)
        /// `assign(medium)` or `reject`.
        public var description: String { tier.map { "assign(\($0))" } ?? "reject" }
    }

    /// How tasks map to tiers, tiers to chains of models, and the optional budget policies.
    public struct Configuration: Sendable, Hashable {
        /// Task kind → tier.
        public var taskTiers: [String: Complexity]
        /// The rule for kinds missing from ``taskTiers``.
        public var unknownTask: UnknownTaskRule
        /// Tier → models in the order they are tried; the first is the tier's preferred model.
        /// The ``Complexity/critical`` chain's first model is the pinned model; the rest of that chain is ignored.
        public var chains: [Complexity: [ModelID]]
        /// Completion-token cap used when a task gives none.
        public var defaultMaxOutputTokens: [Complexity: Int]
        /// Downgrade policy (off when `nil`): when what is available in either window falls below this share of its
        /// limit (parts per million), start one step down the tier's chain.
        public var downgradeThresholdPartsPerMillion: Int64?
        /// Reserve policy (off when 0): this share of each window's limit (parts per million) is usable by critical calls only.
        public var criticalReservePartsPerMillion: Int64

        /// Creates a configuration; every parameter defaults to the trading defaults.
        public init(
            taskTiers: [String: Complexity] = Configuration.tradingTaskTiers,
            unknownTask: UnknownTaskRule = .assign(.medium),
            chains: [Complexity: [ModelID]] = Configuration.defaultChains,
            defaultMaxOutputTokens: [Complexity: Int] = [.simple: 512, .medium: 1_024, .complex: 2_048, .reasoning: 4_096, .critical: 2_048],
            downgradeThresholdPartsPerMillion: Int64? = nil,
            criticalReservePartsPerMillion: Int64 = 0
        ) {
            self.taskTiers = taskTiers
            self.unknownTask = unknownTask
            self.chains = chains
            self.defaultMaxOutputTokens = defaultMaxOutputTokens
            self.downgradeThresholdPartsPerMillion = downgradeThresholdPartsPerMillion
            self.criticalReservePartsPerMillion = criticalReservePartsPerMillion
        }

        /// The trading pipeline's task kinds.
        public static let tradingTaskTiers: [String: Complexity] = [
            "parse_market_data": .simple,
            "analyze_technicals": .medium,
            "options_structure": .complex,
            "pre_trade_reasoning": .reasoning,
            "execute_trade": .critical,
        ]

        /// Quality order Opus → Kimi K2 → Mistral Medium 3 → DeepSeek V3; reasoning puts R1 above Kimi.
        /// Each tier enters at its preferred model and falls back down this order.
        public static let defaultChains: [Complexity: [ModelID]] = [
            .simple: [.deepseekV3],
            .medium: [.mistralMedium3, .deepseekV3],
            .complex: [.kimiK2, .mistralMedium3, .deepseekV3],
            .reasoning: [.deepseekR1, .kimiK2, .mistralMedium3, .deepseekV3],
            .critical: [.claudeOpus],
        ]
    }

    /// A task kind's tier and whether the unknown-task rule supplied it.
    public struct TierResolution: Sendable, Hashable {
        /// The tier.
        public var tier: Complexity
        /// `true` when the kind was unknown and the rule assigned the tier.
        public var byUnknownRule: Bool
    }

    /// The catalog the chains name.
    public let catalog: ModelCatalog
    /// The configuration, checked against the catalog.
    public let configuration: Configuration

    /// Creates a selector and checks its configuration against the catalog.
    /// - Parameters:
    ///   - catalog: The models and prices.
    ///   - configuration: Tiers, chains and policies.
    /// - Throws: ``CatalogError`` when a chain is empty or names an unknown, non-chat or repeated model,
    ///   or a policy share is outside 0...1.
    public init(catalog: ModelCatalog, configuration: Configuration = .init()) throws {
        let src = "<selector configuration>"
        for tier in Complexity.allCases {
            guard let chain = configuration.chains[tier], !chain.isEmpty else {
                throw CatalogError.invalidField(source: src, field: "chains.\(tier)", message: "must name at least one model")
            }
            var seen: Set<ModelID> = []
            for (n, id) in chain.enumerated() {
                guard let m = catalog.model(id) else { throw CatalogError.unknownModel(source: src, field: "chains.\(tier)[\(n)]", id: id.rawValue) }
                guard m.kind == .chat else {
                    throw CatalogError.invalidField(source: src, field: "chains.\(tier)[\(n)]", message: "'\(id)' is not a chat model")
                }
                guard seen.insert(id).inserted else { throw CatalogError.duplicateModel(source: src, field: "chains.\(tier)[\(n)]", id: id.rawValue) }
            }
        }
        for (kind, _) in configuration.taskTiers where kind.isEmpty {
            throw CatalogError.invalidField(source: src, field: "taskTiers", message: "task kind must not be empty")
        }
        if let t = configuration.downgradeThresholdPartsPerMillion, !(0...1_000_000).contains(t) {
            throw CatalogError.invalidField(source: src, field: "downgradeThreshold", message: "must be a share between 0 and 1")
        }
        guard (0...1_000_000).contains(configuration.criticalReservePartsPerMillion) else {
            throw CatalogError.invalidField(source: src, field: "criticalReserve", message: "must be a share between 0 and 1")
        }
        self.catalog = catalog
        self.configuration = configuration
    }

    /// The model critical calls are pinned to.
    public var criticalModel: ModelID { configuration.chains[.critical]![0] }

    /// The models a tier tries, in order.
    public func chain(for tier: Complexity) -> [ModelID] {
        tier == .critical ? [criticalModel] : configuration.chains[tier]!
    }

    /// The models a task tries, in order: the one model it names, or its tier's chain.
    public func chain(for task: TaskProfile) -> [ModelID] {
        if let m = task.model { return [m] }
        return chain(for: task.complexity)
    }

    /// Resolves a task kind to its tier.
    /// - Parameter kind: The task kind (`execute_trade`).
    /// - Returns: The tier, flagged when the unknown-task rule supplied it.
    /// - Throws: ``SelectionError`` when the kind is unknown and the rule is ``UnknownTaskRule/reject``.
    public func tier(for kind: String) throws(SelectionError) -> TierResolution {
        if let t = configuration.taskTiers[kind] { return .init(tier: t, byUnknownRule: false) }
        guard let t = configuration.unknownTask.tier else { throw .unknownTaskKind(kind) }
        return .init(tier: t, byUnknownRule: true)
    }

    /// The completion cap for a task on a model: the task's cap (or the tier default), bounded by the model's maximum.
    public func outputCap(for task: TaskProfile, on model: ModelInfo) -> Int {
        let asked = task.maxOutputTokens > 0 ? task.maxOutputTokens : (configuration.defaultMaxOutputTokens[task.complexity] ?? 1_024)
        return min(asked, model.maxOutputTokens)
    }

    /// The estimated cost of a task on a model, an upper bound on what the call can be billed: margin × (input tokens
    /// × input price + output cap × output price + the per-request fee).
    ///
    /// It assumes no cache hit; a model whose cache writes cost more than plain input (Anthropic) has every input
    /// token priced as a cache write (``BillableUsage/upperBound(for:promptTokens:outputTokens:images:)``).
    /// - Parameters:
    ///   - task: The call's size.
    ///   - model: The model.
    /// - Returns: The estimate, rounded up to the micro-dollar.
    /// - Throws: ``MoneyError`` when a count is negative or the estimate does not fit in 64-bit micro-dollars.
    public func estimate(_ task: TaskProfile, on model: ModelInfo) throws(MoneyError) -> MicroDollars {
        try catalog.cost(
            of: model, .upperBound(for: model, promptTokens: task.inputTokens, outputTokens: max(0, outputCap(for: task, on: model))))
    }

    // MARK: - Selection

    /// Chooses a model for a task.
    ///
    /// A critical task always gets the pinned model, with no budget check (the flags say whether it exceeds a window).
    /// Any other task gets the first model of its chain, not excluded and suitable, whose estimate fits what is
    /// available in both the daily and the monthly window; if none fits, the selection is a refusal. A task that names
    /// its model (``TaskProfile/model``) has that model as its whole chain (reason ``SelectionReason/fixedModel``, no
    /// downgrade threshold): it is refused rather than moved to another model; a named model that is not a chat model
    /// of the catalog is skipped as unsuitable. A critical task always gets the pinned model, whatever it names.
    ///
    /// It never traps. A candidate whose estimate cannot be computed (``MoneyError``: absurd or negative token counts)
    /// is skipped as ``Selection/Skip/unpriceable``; when no candidate is left, the refusal carries the error in
    /// ``Selection/Refusal/priceOverflow``. That holds for a critical task too: a call that cannot be priced is
    /// refused rather than reserved at a made-up amount, since no real call costs more than $9.2 trillion.
    /// - Parameters:
    ///   - task: The call's tier and size.
    ///   - budget: The windows' totals at this moment.
    ///   - excluding: Models that already failed at the provider during this call.
    /// - Returns: The decision, with its reason and every candidate considered.
    public func select(_ task: TaskProfile, budget: BudgetSnapshot, excluding: Set<ModelID> = []) -> Selection {
        if task.complexity == .critical {
            let m = catalog.model(criticalModel)!
            let estimate: MicroDollars
            do { estimate = try self.estimate(task, on: m) } catch {
                return Selection(
                    tier: .critical, model: nil, estimate: .zero, inputTokens: task.inputTokens, maxOutputTokens: 0, reason: .refused,
                    candidates: [.init(model: m.id, estimate: .max, skipped: .unpriceable)],
                    refusal: .init(dailyAvailable: budget.daily.remaining, monthlyAvailable: budget.monthly.remaining, priceOverflow: error),
                    exceedsDailyLimit: false, exceedsMonthlyLimit: false)
            }
            return Selection(
                tier: .critical, model: m.id, estimate: estimate, inputTokens: task.inputTokens, maxOutputTokens: outputCap(for: task, on: m),
                reason: .pinnedCritical, candidates: [.init(model: m.id, estimate: estimate, skipped: nil)], refusal: nil,
                exceedsDailyLimit: budget.daily.remaining.map { estimate > $0 } ?? false,
                exceedsMonthlyLimit: budget.monthly.remaining.map { estimate > $0 } ?? false,
                exceedsScopes: Self.scopesExceeded(by: estimate, in: budget))
        }
        let share = configuration.criticalReservePartsPerMillion
        let daily = budget.daily.available(reservePartsPerMillion: share)
        let monthly = budget.monthly.available(reservePartsPerMillion: share)
        // The tightest window of all (global and the call's scopes): a candidate fits when it fits this one.
        let binding = budget.binding(reservePartsPerMillion: share)
        let chain = self.chain(for: task)
        let start = task.model == nil ? thresholdStart(budget: budget, chainLength: chain.count) : 0

        var candidates: [Selection.Candidate] = []
        candidates.reserveCapacity(chain.count)
        var cheapest: (ModelID, MicroDollars)?
        var priceOverflow: MoneyError?
        for (n, id) in chain.enumerated() {
            guard let m = catalog.model(id), m.kind == .chat else {
                candidates.append(.init(model: id, estimate: .max, skipped: .unsuitable))
                continue
            }
            let priced = Result { () throws(MoneyError) in try self.estimate(task, on: m) }
            let estimate = (try? priced.get()) ?? .max
            let skip: Selection.Skip?
            if excluding.contains(id) {
                skip = .providerFailure
            } else if !m.capabilities.isSuperset(of: task.requiredCapabilities) || task.inputTokens >= m.contextWindow {
                skip = .unsuitable
            } else if case .failure(let e) = priced {
                priceOverflow = priceOverflow ?? e
                skip = .unpriceable
            } else {
                if cheapest == nil || estimate < cheapest!.1 { cheapest = (id, estimate) }
                if n < start {
                    skip = .threshold
                } else if let b = binding, estimate > b.available {
                    skip = .budget
                } else {
                    skip = nil
                }
            }
            candidates.append(.init(model: id, estimate: estimate, skipped: skip))
            guard skip == nil else { continue }
            let reason: SelectionReason
            let skips = candidates.compactMap(\.skipped)
            if skips.contains(.budget) || skips.contains(.threshold) {
                reason = .downgradedForBudget
            } else if skips.contains(.providerFailure) {
                reason = .downgradedForProviderFailure
            } else if task.model != nil {
                reason = .fixedModel
            } else {
                reason = .preferred
            }
            return Selection(
                tier: task.complexity, model: id, estimate: estimate, inputTokens: task.inputTokens, maxOutputTokens: outputCap(for: task, on: m),
                reason: reason, candidates: candidates, refusal: nil, exceedsDailyLimit: false, exceedsMonthlyLimit: false,
                boundBy: reason == .downgradedForBudget ? binding : nil)
        }
        return Selection(
            tier: task.complexity, model: nil, estimate: .zero, inputTokens: task.inputTokens, maxOutputTokens: 0, reason: .refused, candidates: candidates,
            refusal: .init(
                dailyAvailable: daily, monthlyAvailable: monthly, cheapestEstimate: cheapest?.1, cheapestModel: cheapest?.0, priceOverflow: priceOverflow,
                binding: cheapest == nil ? nil : binding),
            exceedsDailyLimit: false, exceedsMonthlyLimit: false)
    }

    /// The scopes with a window whose remaining amount an estimate exceeds (a critical call is reserved anyway).
    static func scopesExceeded(by estimate: MicroDollars, in budget: BudgetSnapshot) -> [String] {
        budget.scopes.filter { s in [s.daily, s.monthly].contains { w in w.remaining.map { estimate > $0 } ?? false } }.map(\.name)
    }

    /// Index in the chain where the downgrade-threshold policy starts (0 when off or not triggered).
    private func thresholdStart(budget: BudgetSnapshot, chainLength: Int) -> Int {
        guard let threshold = configuration.downgradeThresholdPartsPerMillion, chainLength > 1 else { return 0 }
        for (_, _, w) in budget.allWindows {
            guard let limit = w.limit, let remaining = w.remaining else { continue }
            // remaining / limit < threshold, in integers: remaining × 1e6 < threshold × limit.
            let lhs = remaining.rawValue.multipliedFullWidth(by: 1_000_000)
            let rhs = limit.rawValue.multipliedFullWidth(by: threshold)
            if lhs.high < rhs.high || (lhs.high == rhs.high && lhs.low < rhs.low) { return 1 }
        }
        return 0
    }
}
