public import Foundation
public import Gateway
public import Logging
public import ModelSelection
public import SpendLedger

/// The one entry point an application calls: task → select → reserve → call the gateway → settle → record.
///
/// - Non-critical calls get the first model of their tier's chain that fits both budget windows; on a provider
///   failure the reservation is released and the next model is tried.
/// - Critical calls always get the pinned model (Opus), are never refused for budget and never downgraded:
///   a provider failure retries the same model up to ``Configuration/criticalAttempts`` times.
/// - Embeddings and image generation (``embed(_:kind:tier:tags:requestID:callerKey:logger:)``,
///   ``generateImages(_:kind:tier:tags:requestID:callerKey:logger:)``) go through the same budget with one fixed model each:
///   priced, reserved, sent, settled; refused when they do not fit, never moved to another model.
/// - Every reservation ends settled or released: on success, on failure, and when the caller's task is cancelled.
public struct Router: Sendable {
    /// How the router estimates and retries.
    public struct Configuration: Sendable {
        /// How prompt tokens are estimated when a task gives no count (``TokenEstimator/upperBound`` by default).
        public var estimator: TokenEstimator
        /// The deadline for one gateway call, retries inside the client included.
        public var requestTimeout: Duration
        /// How many times a critical call tries the pinned model before failing.
        public var criticalAttempts: Int
        /// How long settling may keep retrying (a locked or failing ledger) after the provider answered. When it runs
        /// out, the answer is still returned, its record says ``RouteRecord/settlementPending``, and the reservation
        /// stays open until it expires, charged at its estimate. Reservations live at least
        /// ``requestTimeout`` + `settleDeadline` (+ 5 s), so a call in flight is never expired.
        public var settleDeadline: Duration

        /// Creates a configuration.
        public init(
            estimator: TokenEstimator = .upperBound, requestTimeout: Duration = .seconds(120), criticalAttempts: Int = 3,
            settleDeadline: Duration = .seconds(30)
        ) {
            self.estimator = estimator
            self.requestTimeout = requestTimeout
            self.criticalAttempts = max(1, criticalAttempts)
            self.settleDeadline = max(.zero, settleDeadline)
        }

        /// How long a reservation must live: the call's deadline plus the settle deadline, plus 5 s of slack.
        var callDeadline: Duration { requestTimeout + settleDeadline + .seconds(5) }
    }

    /// The selection policy.
    public let selector: ModelSelector
    /// Where reservations and spend are recorded.
    public let ledger: any BudgetLedger
    /// Where calls go.
    public let gateway: any ChatGateway
    /// The configuration.
    public let configuration: Configuration
    let now: @Sendable () -> Date

    /// Creates a router.
    /// - Parameters:
    ///   - selector: The selection policy and catalog.
    ///   - ledger: The spend ledger.
    ///   - gateway: The gateway (``GatewayHTTP/GatewayClient`` in production).
    ///   - configuration: Estimation and retry settings.
    ///   - now: The clock (injected for replays and tests).
    public init(
        selector: ModelSelector, ledger: any BudgetLedger, gateway: any ChatGateway, configuration: Configuration = .init(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.selector = selector
        self.ledger = ledger
        self.gateway = gateway
        self.configuration = configuration
        self.now = now
    }

    /// The same router over another ledger (a wrapper that meters or journals the one it holds).
    /// - Parameter ledger: The ledger.
    /// - Returns: A router with the same selector, gateway, configuration and clock.
    public func replacingLedger(_ ledger: any BudgetLedger) -> Router {
        Router(selector: selector, ledger: ledger, gateway: gateway, configuration: configuration, now: now)
    }

    /// The router's clock.
    public var currentDate: Date { now() }

    // MARK: - Complete

    /// Routes one chat call and returns the reply with its decision record.
    /// - Parameters:
    ///   - task: The task and its request.
    ///   - logger: Where to log decisions (debug); `nil` is silent.
    /// - Returns: The reply and what was decided and spent.
    /// - Throws: ``RoutingError`` (budget exhausted, every provider failed, a non-retryable gateway error),
    ///   ``SpendLedger/LedgerError``, or `CancellationError` (the reservation is released first).
    public func complete(_ task: RoutedTask, logger: Logger? = nil) async throws -> RoutedResponse {
        let call = try prepare(task)
        var machine = call.machine(selector: selector, configuration: policy)
        var response: ChatResponse?
        let record = try await drive(&machine, logger: logger) { reservation, machine in
            do {
                let r = try await gateway.complete(call.request(for: reservation, catalog: selector.catalog), options: options(call), logger: logger)
                response = r
                return machine.answered(usage: r.usage, replyBytes: Self.replyBytes(r))
            } catch {
                return machine.failed(error)
            }
        }
        logger?.debug("routed", metadata: Self.metadata(record))
        guard let response else { throw machine.error(.gatewayFailed, detail: "no reply was kept") }
        return RoutedResponse(response: response, record: record)
    }

    // MARK: - Stream

    /// Routes one streamed chat call; `body` consumes the chunks, then the reservation is settled.
    ///
    /// Fallback to the next model happens only before the first chunk: once text reached `body`, a failure ends the call.
    /// If the stream ends without usage, or `body` stops early, throws or is cancelled, the call is settled from an
    /// estimate (the prompt estimate plus one token per byte received) and marked estimated; it is never left reserved.
    /// - Parameters:
    ///   - task: The task and its request.
    ///   - logger: Where to log; `nil` is silent.
    ///   - body: Consumes the stream.
    /// - Returns: What `body` returned, and the decision record.
    /// - Throws: ``RoutingError``, ``SpendLedger/LedgerError``, or what `body` throws (after settling).
    public func stream<R: Sendable>(
        _ task: RoutedTask, logger: Logger? = nil, _ body: (RoutedStream) async throws -> R
    ) async throws -> (result: R, record: RouteRecord) {
        let call = try prepare(task)
        var machine = call.machine(selector: selector, configuration: policy)
        var result: Result<R, any Error>?
        let record = try await drive(&machine, logger: logger) { reservation, machine in
            let chunks: ChatCompletionStream
            do {
                chunks = try await gateway.stream(call.request(for: reservation, catalog: selector.catalog), options: options(call), logger: logger)
            } catch {
                return machine.failed(error)
            }
            let sel = reservation.selection
            let routed = RoutedStream(
                chunks,
                route: .init(
                    requestID: call.requestID, model: reservation.model, tier: sel.tier, reason: sel.reason, estimate: sel.estimate,
                    attempt: machine.attemptNumber, scopes: reservation.scopes, boundBy: sel.boundBy))
            do { result = .success(try await body(routed)) } catch { result = .failure(error) }
            let progress = routed.progress
            return machine.answered(
                usage: progress.usage, replyBytes: progress.bytes,
                problems: progress.conflictingUsage ? ["the stream reported different usage more than once"] : [])
        }
        logger?.debug("routed stream", metadata: Self.metadata(record))
        guard let result else { throw machine.error(.gatewayFailed, detail: "the stream was not consumed") }
        return (try result.get(), record)
    }

    // MARK: - Steps

    /// The policy's settings, from the router's.
    var policy: RoutingStateMachine.Configuration {
        .init(criticalAttempts: configuration.criticalAttempts, callDeadline: configuration.callDeadline)
    }

    func prepare(_ task: RoutedTask) throws -> Call {
        let requestID = task.requestID ?? UUID().uuidString.lowercased()
        let tier: Complexity
        var byRule = false
        if let c = task.complexity {
            tier = c
        } else if let kind = task.kind {
            do {
                let r = try selector.tier(for: kind)
                tier = r.tier
                byRule = r.byUnknownRule
            } catch {
                throw RoutingError(kind: .invalidTask, requestID: requestID, attempts: [], detail: "\(error)")
            }
        } else {
            throw RoutingError(kind: .invalidTask, requestID: requestID, attempts: [], detail: "a task needs a kind or a complexity tier")
        }
        var fixed: ModelID?
        if let name = task.model {
            let catalog = selector.catalog
            guard let m = catalog.model(ModelID(name)) ?? catalog.model(gatewayID: name), m.kind == .chat else {
                let known = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue).joined(separator: ", ")
                throw RoutingError(
                    kind: .invalidTask, requestID: requestID, tier: tier, attempts: [],
                    detail: "the catalog has no chat model '\(name)' to price (chat models: \(known))")
            }
            if tier == .critical, m.id != selector.criticalModel {
                throw RoutingError(
                    kind: .invalidTask, requestID: requestID, tier: tier, attempts: [],
                    detail: "critical calls are pinned to \(selector.criticalModel); '\(name)' cannot serve one")
            }
            fixed = m.id
        }
        let r = task.request
        var required: ModelInfo.Capabilities = []
        if !(r.tools ?? []).isEmpty { required.insert(.tools) }
        if r.imageCount > 0 { required.insert(.vision) }
        // The prompt's upper bound: a caller's count is trusted only when it is higher than the estimator's.
        let bound = configuration.estimator.estimate(utf8Bytes: r.textBytes, messages: r.messages.count, images: r.imageCount)
        let input = max(task.inputTokens ?? 0, bound)
        let profile = TaskProfile(
            kind: task.kind, complexity: tier, inputTokens: input, maxOutputTokens: task.maxOutputTokens ?? r.maxTokens ?? 0,
            requiredCapabilities: required, model: fixed)
        return Call(task: task, requestID: requestID, profile: profile, tierByRule: byRule)
    }

    /// Runs the routing policy: the ledger's steps here (reserve, release, settle durably), the provider's in `send`,
    /// which reports the attempt's outcome to the machine and returns its next action.
    func drive(
        _ machine: inout RoutingStateMachine, logger: Logger?, first: RoutingStateMachine.Action? = nil,
        send: (Reservation, inout RoutingStateMachine) async -> RoutingStateMachine.Action
    ) async throws -> RouteRecord {
        var action = first ?? machine.start()
        while true {
            switch action {
            case .reserve(let request):
                let outcome = try await ledger.reserve(request, at: now(), choose: machine.chooser)
                if case .reserved(let r) = outcome {
                    logger?.debug(
                        "reserved",
                        metadata: [
                            "request": "\(request.requestID)", "model": "\(r.model)", "reason": "\(r.selection.reason)",
                            "estimate": "\(r.selection.estimate)",
                        ])
                }
                action = machine.reserved(outcome)
            case .send(let reservation):
                action = await send(reservation, &machine)
            case .release(let reservation, let error):
                try await ledger.release(reservation.id, error: error, at: now())
                action = machine.released()
                try continueUnlessCancelled(action, machine, logger: logger)
            case .settle(let reservation, let settlement):
                let lost = settlement.flags.contains(.replyLost)
                action = await settleDurably(reservation, settlement, machine: &machine, logger: logger)
                if lost { try continueUnlessCancelled(action, machine, logger: logger) }
            case .fail(let error):
                throw error
            case .finish(let record):
                return record
            }
        }
    }

    /// After a failed attempt: a cancelled caller stops here, whatever the failure was.
    private func continueUnlessCancelled(_ next: RoutingStateMachine.Action, _ machine: RoutingStateMachine, logger: Logger?) throws {
        if Task.isCancelled { throw CancellationError() }
        if case .reserve = next, let last = machine.attempts.last {
            logger?.debug("provider failed; trying again", metadata: ["request": "\(machine.requestID)", "model": "\(last.model)"])
        }
    }

    func options(_ call: Call) -> GatewayRequestOptions {
        GatewayRequestOptions(timeout: configuration.requestTimeout, requestID: call.requestID)
    }

    static func replyBytes(_ r: ChatResponse) -> Int {
        r.choices.reduce(0) { n, c in
            n + (c.message.content?.text.utf8.count ?? 0) + (c.message.reasoningContent?.utf8.count ?? 0)
                + (c.message.toolCalls ?? []).reduce(0) { $0 + $1.function.name.utf8.count + $1.function.arguments.utf8.count }
        }
    }

    static func metadata(_ r: RouteRecord) -> Logger.Metadata {
        ["request": "\(r.requestID)", "tier": "\(r.tier)", "model": "\(r.model)", "reason": "\(r.reason)", "cost": "\(r.cost)", "attempts": "\(r.attempts.count)"]
    }
}
