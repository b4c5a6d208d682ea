public import Gateway
public import ModelSelection
public import SpendLedger

/// The routing policy of one call, as a pure state machine: the driver reports what happened, the machine says what
/// to do next. No I/O, no clock, no logging.
///
/// The same machine drives live calls (``Router``, real clock and gateway), replays (virtual clock, simulated
/// provider) and the server, so they decide alike: select → reserve → send → on failure release (or settle a lost
/// reply) and fall back or retry → settle → record.
///
/// - Non-critical chat calls take the first model of their tier's chain that fits the budget; a provider failure that
///   another model may not share (``FailurePolicy/allowsFallback(_:)``) excludes that model and reserves again.
/// - Critical calls always take the pinned model and are never refused; a provider failure retries the same model up
///   to ``Configuration/criticalAttempts`` times.
/// - Fixed-model calls (embeddings, images) have one model and no fallback.
/// - Once the provider answered, the reservation is settled, never released.
public struct RoutingStateMachine: Sendable {
    /// The policy's settings.
    public struct Configuration: Sendable, Hashable {
        /// How many times a critical call tries the pinned model before failing.
        public var criticalAttempts: Int
        /// How long each reservation must live (the call's own deadline plus settling); `nil` for the ledger's TTL.
        public var callDeadline: Duration?

        /// Creates a configuration.
        public init(criticalAttempts: Int = 3, callDeadline: Duration? = nil) {
            self.criticalAttempts = max(1, criticalAttempts)
            self.callDeadline = callDeadline
        }
    }

    /// What the call asks for.
    public enum Plan: Sendable, Hashable {
        /// A chat call: its profile picks the model from its tier's chain.
        case chat(TaskProfile)
        /// An embeddings or image call on one model.
        case fixed(FixedModelCall)
    }

    /// What the driver must do next.
    public enum Action: Sendable {
        /// Reserve through the ledger, choosing with ``choose(_:)``; then report ``reserved(_:)``.
        case reserve(ReservationRequest)
        /// Send the call to the reserved model; then report ``answered(usage:replyBytes:problems:)`` (chat),
        /// ``answeredFixed(inputTokens:images:problems:)`` (fixed), or ``failed(_:)``.
        case send(Reservation)
        /// Free a failed attempt's reservation; then report ``released()``.
        case release(Reservation, error: String)
        /// Settle the reservation; then report ``settled(_:)`` (or ``settleRefused(_:)``).
        case settle(Reservation, Settlement)
        /// The call ended with this error (a ``RoutingError``, a `CancellationError`, or a non-gateway error).
        case fail(any Error)
        /// The call ended with this record.
        case finish(RouteRecord)
    }

    enum State: Sendable {
        case idle
        case reserving
        case sending(Reservation)
        case releasing(Reservation, failure: any Error)
        case settlingLost(Reservation, failure: any Error)
        case settling(Reservation, Settlement, Usage, images: Int)
        case done
    }

    /// The selector and catalog.
    public let selector: ModelSelector
    /// The call.
    public let plan: Plan
    /// The request id shared by every attempt.
    public let requestID: String
    /// The task kind recorded in the ledger.
    public let taskKind: String?
    /// Tags recorded in the ledger.
    public let tags: [String: String]
    /// Whether the unknown-task rule set the tier.
    public let tierByRule: Bool
    /// The name of the caller key the call came with, for scopes on a key (never the secret).
    public let callerKey: String?
    /// The settings.
    public let configuration: Configuration
    /// Models excluded after a provider failure.
    public private(set) var excluded: Set<ModelID> = []
    /// The attempts that failed, in order.
    public private(set) var attempts: [RouteRecord.Attempt] = []
    /// How many reservations were made.
    public private(set) var attemptNumber = 0
    /// The last provider failure.
    public private(set) var lastError: GatewayError?
    var state: State = .idle

    /// Creates the machine of one call.
    public init(
        selector: ModelSelector, plan: Plan, requestID: String, taskKind: String?, tags: [String: String] = [:], tierByRule: Bool = false,
        callerKey: String? = nil, configuration: Configuration = .init()
    ) {
        self.callerKey = callerKey
        self.selector = selector
        self.plan = plan
        self.requestID = requestID
        self.taskKind = taskKind
        self.tags = tags
        self.tierByRule = tierByRule
        self.configuration = configuration
    }

    /// The call's tier.
    public var tier: Complexity {
        switch plan {
        case .chat(let p): p.complexity
        case .fixed(let c): c.tier
        }
    }

    /// Whether a model was excluded after failing (a non-critical chat call fell back).
    public var fellBack: Bool { !excluded.isEmpty }

    // MARK: - Events

    /// The first action: reserve.
    public mutating func start() -> Action { nextReservation() }

    /// The first action when the reservation was already made (a council member, reserved with its group): send.
    public mutating func adopt(_ reservation: Reservation) -> Action {
        attemptNumber += 1
        state = .sending(reservation)
        return .send(reservation)
    }

    /// The pure selection the ledger runs inside its reservation transaction.
    public func choose(_ snapshot: BudgetSnapshot) -> Selection { chooser(snapshot) }

    /// ``choose(_:)`` as a closure that holds only what it reads (the selector, the plan, the exclusions).
    public var chooser: @Sendable (BudgetSnapshot) -> Selection {
        let selector = self.selector, plan = self.plan, excluded = self.excluded
        return { snapshot in
            switch plan {
            case .chat(let profile): selector.select(profile, budget: snapshot, excluding: excluded)
            case .fixed(let call): selector.select(call, budget: snapshot)
            }
        }
    }

    /// The ledger reserved (send) or refused (fail with `budgetExhausted`).
    public mutating func reserved(_ outcome: ReservationOutcome) -> Action {
        switch outcome {
        case .reserved(let r):
            state = .sending(r)
            return .send(r)
        case .refused(let selection, _, _):
            state = .done
            var e = error(.budgetExhausted, detail: selection.refusal?.summary ?? "refused")
            e.refusal = selection.refusal
            return .fail(e)
        }
    }

    /// The attempt failed before a usable reply: settle it at its estimate when the provider answered (it was
    /// billed), release it otherwise.
    public mutating func failed(_ failure: any Error) -> Action {
        guard case .sending(let r) = state else { return .fail(failure) }
        if let g = failure as? GatewayError, g.providerAnswered {
            state = .settlingLost(r, failure: failure)
            return .settle(r, SettlementPolicy.lostReply(r.selection, error: g))
        }
        state = .releasing(r, failure: failure)
        return .release(r, error: Self.failureText(failure))
    }

    /// The failed attempt's reservation was freed: fall back, retry or end.
    public mutating func released() -> Action {
        guard case .releasing(let r, let failure) = state else { return .fail(stateError("released")) }
        return afterFailure(r, failure)
    }

    /// A chat reply (or a stream that ended): settle what it used.
    public mutating func answered(usage: Usage?, replyBytes: Int, problems: [String] = []) -> Action {
        guard case .sending(let r) = state, let model = selector.catalog.model(r.model) else {
            return .fail(stateError("answered"))
        }
        let (s, u) = SettlementPolicy.chat(usage, replyBytes: replyBytes, selection: r.selection, model: model, catalog: selector.catalog, problems: problems)
        state = .settling(r, s, u, images: 0)
        return .settle(r, s)
    }

    /// An embeddings or image reply: settle its tokens and images (`inputTokens` `nil` when the reply gave none).
    public mutating func answeredFixed(inputTokens: Int?, images: Int, problems: [String] = []) -> Action {
        guard case .sending(let r) = state, case .fixed(let call) = plan else { return .fail(stateError("answered")) }
        let s = SettlementPolicy.fixed(inputTokens: inputTokens, images: images, problems: problems, selection: r.selection, call: call, catalog: selector.catalog)
        state = .settling(r, s, Usage(promptTokens: s.inputTokens, completionTokens: 0), images: images)
        return .settle(r, s)
    }

    /// The ledger refused the amount (``SpendLedger/LedgerError/Kind/invalidAmount``): settle at the estimate, flagged.
    public mutating func settleRefused(_ e: LedgerError) -> Action {
        switch state {
        case .settling(let r, let s, let u, let images) where !s.flags.contains(.usageSuspect):
            let estimate = SettlementPolicy.atEstimate(r.selection, flags: s.flags, note: "usage settled from the estimate: \(e.message)")
            state = .settling(r, estimate, u, images: images)
            return .settle(r, estimate)
        default:
            return settled(nil)
        }
    }

    /// The settlement was recorded (`receipt`), or could not be and stays pending (`nil`).
    public mutating func settled(_ receipt: SettlementReceipt?) -> Action {
        switch state {
        case .settlingLost(let r, let failure):
            return afterFailure(r, failure)
        case .settling(let r, let s, let u, let images):
            state = .done
            let sel = r.selection
            var record = RouteRecord(
                requestID: requestID, taskKind: taskKind, tier: tier, tierByUnknownRule: tierByRule, model: r.model, reason: sel.reason,
                estimate: sel.estimate, cost: receipt?.cost ?? s.cost, usage: u, usageEstimated: receipt?.usageEstimated ?? s.estimated,
                images: images, entryID: r.id, attempts: attempts + [.init(model: r.model, entryID: r.id, error: nil)],
                exceedsDailyLimit: sel.exceedsDailyLimit, exceedsMonthlyLimit: sel.exceedsMonthlyLimit)
            record.settlementPending = receipt == nil
            record.scopes = r.scopes
            record.boundBy = sel.boundBy
            record.flags = receipt?.flags ?? s.flags
            record.dailyAfter = receipt?.daily
            return .finish(record)
        default:
            return .fail(stateError("settled"))
        }
    }

    // MARK: - Steps

    private mutating func nextReservation() -> Action {
        if case .chat(let profile) = plan, profile.complexity != .critical,
            selector.chain(for: profile).allSatisfy(excluded.contains)
        {
            state = .done
            return .fail(error(.allProvidersFailed, detail: "every model of the tier's chain failed at the provider"))
        }
        attemptNumber += 1
        state = .reserving
        return .reserve(
            ReservationRequest(
                requestID: requestID, attempt: attemptNumber, taskKind: taskKind, tags: tags, callDeadline: configuration.callDeadline, tier: tier,
                callerKey: callerKey))
    }

    private mutating func afterFailure(_ r: Reservation, _ failure: any Error) -> Action {
        let model = r.model
        attempts.append(.init(model: model, entryID: r.id, error: Self.failureText(failure)))
        state = .done
        if failure is CancellationError { return .fail(CancellationError()) }
        guard let g = failure as? GatewayError else { return .fail(failure) }
        lastError = g
        guard FailurePolicy.allowsFallback(g) else { return .fail(error(.gatewayFailed, detail: "the gateway refused the call")) }
        switch plan {
        case .fixed(let call):
            return .fail(error(.allProvidersFailed, detail: "the \(call.model.kind) model failed at the provider (no fallback model)"))
        case .chat(let profile) where profile.complexity == .critical:
            if attempts.count >= configuration.criticalAttempts {
                return .fail(error(.allProvidersFailed, detail: "the pinned critical model failed \(attempts.count) times"))
            }
        case .chat:
            excluded.insert(model)
        }
        return nextReservation()
    }

    func error(_ kind: RoutingError.Kind, detail: String) -> RoutingError {
        RoutingError(kind: kind, requestID: requestID, tier: tier, attempts: attempts, gatewayError: lastError, detail: detail)
    }

    private func stateError(_ event: String) -> RoutingError {
        RoutingError(kind: .invalidTask, requestID: requestID, tier: tier, attempts: attempts, detail: "routing policy: '\(event)' reported out of order")
    }

    /// What a failed attempt's ledger entry records as its error.
    public static func failureText(_ error: any Error) -> String {
        (error as? GatewayError)?.description ?? (error is CancellationError ? "cancelled" : "\(error)")
    }
}
