// MARK: - Fixed-model calls

extension ModelSelector {
    /// Checks a call to one named model (embeddings, image generation) against the catalog.
    ///
    /// A model the catalog lacks cannot be priced, so it cannot be budgeted: it is an error, not a refusal (a refusal
    /// means the budget is short, and is recorded in the ledger as such).
    /// - Parameters:
    ///   - id: The model's canonical id.
    ///   - kind: The kind of model the endpoint needs (``ModelInfo/Kind/embedding`` or ``ModelInfo/Kind/image``).
    ///   - tier: The tier the call runs at (``Complexity/simple`` by default).
    ///   - inputTokens: Prompt tokens, counted or estimated (negative counts as 0).
    ///   - images: Images to generate (negative counts as 0).
    /// - Returns: The checked call, for ``select(_:budget:)``.
    /// - Throws: ``SelectionError/unknownModel(_:)`` when the catalog lacks `id`;
    ///   ``SelectionError/wrongModelKind(_:expected:actual:)`` when the model is not of kind `kind`, or `kind` is
    ///   ``ModelInfo/Kind/chat`` (chat calls are routed down a tier's chain by ``select(_:budget:excluding:)``).
    public func fixedModelCall(
        _ id: ModelID, kind: ModelInfo.Kind, tier: Complexity = .simple, inputTokens: Int, images: Int = 0
    ) throws(SelectionError) -> FixedModelCall {
        guard let model = catalog.model(id) else { throw .unknownModel(id) }
        guard kind != .chat, model.kind == kind else { throw .wrongModelKind(id, expected: kind, actual: model.kind) }
        return FixedModelCall(model: model, tier: tier, inputTokens: inputTokens, images: images)
    }

    /// The estimated cost of a fixed-model call: margin × (input tokens × input price + images × image price + the
    /// per-request fee), with no cache hit (``BillableUsage/upperBound(for:promptTokens:outputTokens:images:)``).
    /// - Parameter call: The call.
    /// - Returns: The estimate, rounded up to the micro-dollar.
    /// - Throws: ``MoneyError`` when the estimate does not fit in 64-bit micro-dollars.
    public func estimate(_ call: FixedModelCall) throws(MoneyError) -> MicroDollars {
        try catalog.cost(of: call.model, .upperBound(for: call.model, promptTokens: call.inputTokens, outputTokens: 0, images: call.images))
    }

    /// Decides a call to one named model against the budget. Pure, like ``select(_:budget:excluding:)``.
    ///
    /// - A critical call is never refused for budget: reason ``SelectionReason/pinnedCritical``, with
    ///   ``Selection/exceedsDailyLimit`` and ``Selection/exceedsMonthlyLimit`` saying whether its estimate exceeds
    ///   what is left of either window.
    /// - Any other call must fit what is available to non-critical calls in **both** windows (the critical-reserve
    ///   share left out, as for chat calls): reason ``SelectionReason/fixedModel``; otherwise the selection is a
    ///   refusal whose ``Selection/Refusal`` carries the amounts available and the call's estimate.
    ///
    /// There is no chain and no context-window check (a batch of embeddings may total more tokens than one input's
    /// window; the provider rejects an oversized input). The only candidate is the model itself.
    ///
    /// A call whose estimate cannot be computed (``MoneyError``), critical or not, is refused with the error in
    /// ``Selection/Refusal/priceOverflow`` and its candidate skipped as ``Selection/Skip/unpriceable``.
    /// - Parameters:
    ///   - call: The checked call.
    ///   - budget: The windows' totals at this moment.
    /// - Returns: The decision: the model with its estimate, or a refusal. ``Selection/maxOutputTokens`` is 0.
    public func select(_ call: FixedModelCall, budget: BudgetSnapshot) -> Selection {
        let id = call.model.id
        let estimate: MicroDollars
        do { estimate = try self.estimate(call) } catch {
            let share = call.tier == .critical ? 0 : configuration.criticalReservePartsPerMillion
            return Selection(
                tier: call.tier, model: nil, estimate: .zero, inputTokens: call.inputTokens, maxOutputTokens: 0, reason: .refused,
                candidates: [.init(model: id, estimate: .max, skipped: .unpriceable)],
                refusal: .init(
                    dailyAvailable: budget.daily.available(reservePartsPerMillion: share),
                    monthlyAvailable: budget.monthly.available(reservePartsPerMillion: share), priceOverflow: error),
                exceedsDailyLimit: false, exceedsMonthlyLimit: false)
        }
        if call.tier == .critical {
            return Selection(
                tier: .critical, model: id, estimate: estimate, inputTokens: call.inputTokens, maxOutputTokens: 0, reason: .pinnedCritical,
                candidates: [.init(model: id, estimate: estimate, skipped: nil)], refusal: nil,
                exceedsDailyLimit: budget.daily.remaining.map { estimate > $0 } ?? false,
                exceedsMonthlyLimit: budget.monthly.remaining.map { estimate > $0 } ?? false,
                exceedsScopes: Self.scopesExceeded(by: estimate, in: budget))
        }
        let share = configuration.criticalReservePartsPerMillion
        let daily = budget.daily.available(reservePartsPerMillion: share)
        let monthly = budget.monthly.available(reservePartsPerMillion: share)
        let binding = budget.binding(reservePartsPerMillion: share)
        let fits = binding.map { estimate <= $0.available } ?? true
        guard fits else {
            return Selection(
                tier: call.tier, model: nil, estimate: .zero, inputTokens: call.inputTokens, maxOutputTokens: 0, reason: .refused,
                candidates: [.init(model: id, estimate: estimate, skipped: .budget)],
                refusal: .init(dailyAvailable: daily, monthlyAvailable: monthly, cheapestEstimate: estimate, cheapestModel: id, binding: binding),
                exceedsDailyLimit: false, exceedsMonthlyLimit: false)
        }
        return Selection(
            tier: call.tier, model: id, estimate: estimate, inputTokens: call.inputTokens, maxOutputTokens: 0, reason: .fixedModel,
            candidates: [.init(model: id, estimate: estimate, skipped: nil)], refusal: nil, exceedsDailyLimit: false, exceedsMonthlyLimit: false)
    }
}
