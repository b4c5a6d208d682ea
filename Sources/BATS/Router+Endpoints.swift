import Foundation
public import Gateway
public import Logging
public import ModelSelection
import SpendLedger

// MARK: - Embeddings and images

extension Router {
    /// Embeds one text or a batch through the budget: price → reserve → call → settle, or release on failure.
    ///
    /// - Model: the request's `model`, a catalog model's canonical or gateway id; when it is empty, the catalog's first
    ///   embedding model. A name the catalog does not know is refused (`invalidTask`): another model would return
    ///   vectors of another size. The request is sent with that model's gateway id.
    ///   There is no fallback to another model (the gateway client's own retries still apply).
    /// - Estimate: the router's ``Configuration/estimator`` over the input texts (each text counted as one message),
    ///   priced at the model's input price. A non-critical call that does not fit both windows is refused before
    ///   anything is sent; a critical call is never refused (the record says whether it exceeds a window).
    /// - Settlement: the reply's `usage.prompt_tokens` (`total_tokens` when only that is reported); with no usage, the
    ///   estimate, marked estimated. On a failure or cancellation the reservation is released, never left open.
    /// - Parameters:
    ///   - request: The request; its `model` picks the catalog model as above.
    ///   - kind: The task kind recorded in the ledger (`embedding` when `nil`); when given and `tier` is `nil`, it sets
    ///     the tier through ``ModelSelection/ModelSelector/tier(for:)``, as for chat calls.
    ///   - tier: The tier (``ModelSelection/Complexity/simple`` when neither it nor `kind` is given).
    ///   - tags: Tags recorded in the ledger (agent, symbol, …).
    ///   - requestID: The request id for the ledger and the `X-Request-ID` header; a random one when `nil`.
    ///   - logger: Where to log decisions (debug); `nil` is silent.
    /// - Returns: The vectors and the decision record.
    /// - Throws: ``RoutingError``: `unsupportedEndpoint` (the gateway is not an `EmbeddingsGateway`), `invalidTask`
    ///   (a model the catalog does not know or of another kind, a rejected task kind, no embedding model in the
    ///   catalog), `budgetExhausted`
    ///   (with the ``RoutingError/refusal``), `allProvidersFailed` or `gatewayFailed` (with the
    ///   ``RoutingError/gatewayError``); ``SpendLedger/LedgerError``; or `CancellationError` (after releasing).
    public func embed(
        _ request: EmbeddingsRequest, kind: String? = nil, tier: Complexity? = nil, tags: [String: String] = [:],
        requestID: String? = nil, logger: Logger? = nil
    ) async throws -> RoutedEmbeddings {
        let texts = request.input.texts
        let estimate = configuration.estimator.estimate(utf8Bytes: texts.reduce(0) { $0 + $1.utf8.count }, messages: texts.count)
        let route = try prepareFixed(
            .embedding, requestModel: request.model, kind: kind, tier: tier, requestID: requestID, inputTokens: estimate, images: 0)
        guard let endpoint = gateway as? any EmbeddingsGateway else { throw route.unsupported("embeddings") }
        let (response, record) = try await routeFixed(route, tags: tags, logger: logger) { gatewayModel, options in
            var r = request
            r.model = gatewayModel
            return try await endpoint.embeddings(r, options: options, logger: logger)
        } settle: { (response: EmbeddingsResponse) in
            if let usage = response.usage {
                let tokens = usage.promptTokens > 0 ? usage.promptTokens : usage.totalTokens
                // Embeddings report no completion tokens: a missing completion count is no problem here.
                let problems = usage.problems.filter { !$0.contains("completion") && !$0.contains("total") }
                if problems.isEmpty, tokens >= 0 { return FixedSettlement(inputTokens: tokens, images: 0, estimated: false) }
                return FixedSettlement(
                    inputTokens: route.call.inputTokens, images: 0, estimated: true,
                    suspect: "usage settled from the estimate: " + (problems.isEmpty ? ["negative token count"] : problems).joined(separator: "; "))
            }
            return FixedSettlement(inputTokens: route.call.inputTokens, images: 0, estimated: true)
        }
        return RoutedEmbeddings(response: response, record: record)
    }

    /// Generates images through the budget: price → reserve → call → settle, or release on failure.
    ///
    /// - Model: the request's `model`, a catalog model's canonical or gateway id; when it is empty, the catalog's first
    ///   image model. A name the catalog does not know is refused (`invalidTask`), since it could not be priced. The
    ///   request is sent with that model's gateway id.
    ///   There is no fallback to another model (the gateway client's own retries still apply).
    /// - Estimate: the model's per-image price × the request's `n` (1 when unset). A non-critical call that does not
    ///   fit both windows is refused before anything is sent; a critical call is never refused.
    /// - Settlement: per-image price × the images the reply actually holds (never estimated: the count is always known).
    ///   The prompt's text tokens are not charged. On a failure or cancellation the reservation is released.
    /// - Parameters:
    ///   - request: The request; its `model` picks the catalog model as above.
    ///   - kind: The task kind recorded in the ledger (`image` when `nil`); when given and `tier` is `nil`, it sets the
    ///     tier through ``ModelSelection/ModelSelector/tier(for:)``, as for chat calls.
    ///   - tier: The tier (``ModelSelection/Complexity/simple`` when neither it nor `kind` is given).
    ///   - tags: Tags recorded in the ledger.
    ///   - requestID: The request id for the ledger and the `X-Request-ID` header; a random one when `nil`.
    ///   - logger: Where to log decisions (debug); `nil` is silent.
    /// - Returns: The images and the decision record.
    /// - Throws: ``RoutingError``: `unsupportedEndpoint` (the gateway is not an `ImageGateway`), `invalidTask`,
    ///   `budgetExhausted`, `allProvidersFailed` or `gatewayFailed`; ``SpendLedger/LedgerError``; or
    ///   `CancellationError` (after releasing).
    public func generateImages(
        _ request: ImageGenerationRequest, kind: String? = nil, tier: Complexity? = nil, tags: [String: String] = [:],
        requestID: String? = nil, logger: Logger? = nil
    ) async throws -> RoutedImages {
        let route = try prepareFixed(
            .image, requestModel: request.model, kind: kind, tier: tier, requestID: requestID, inputTokens: 0, images: max(1, request.n ?? 1))
        guard let endpoint = gateway as? any ImageGateway else { throw route.unsupported("image generation") }
        let (response, record) = try await routeFixed(route, tags: tags, logger: logger) { gatewayModel, options in
            var r = request
            r.model = gatewayModel
            return try await endpoint.generateImages(r, options: options, logger: logger)
        } settle: { (response: ImageGenerationResponse) in
            FixedSettlement(inputTokens: 0, images: response.data.count, estimated: false)
        }
        return RoutedImages(response: response, record: record)
    }

    // MARK: - Steps

    /// One embeddings or image call, resolved: its request id, recorded kind, tier and checked model.
    struct FixedRoute: Sendable {
        let requestID: String
        let taskKind: String
        let tierByRule: Bool
        let call: FixedModelCall

        func error(_ kind: RoutingError.Kind, attempts: [RouteRecord.Attempt] = [], gatewayError: GatewayError? = nil, detail: String)
            -> RoutingError
        {
            RoutingError(kind: kind, requestID: requestID, tier: call.tier, attempts: attempts, gatewayError: gatewayError, detail: detail)
        }

        func unsupported(_ endpoint: String) -> RoutingError {
            error(.unsupportedEndpoint, detail: "the gateway does not support \(endpoint)")
        }
    }

    /// What a reply used: prompt tokens and images, reported or estimated.
    struct FixedSettlement {
        var inputTokens: Int
        var images: Int
        var estimated: Bool
        /// Why the reported usage was not used (settled from the estimate, flagged), if it was not.
        var suspect: String?
    }

    /// Resolves the tier and the model, and checks the model against the catalog.
    private func prepareFixed(
        _ endpoint: ModelInfo.Kind, requestModel: String, kind: String?, tier: Complexity?, requestID: String?, inputTokens: Int, images: Int
    ) throws -> FixedRoute {
        let requestID = requestID ?? UUID().uuidString.lowercased()
        var resolved = Complexity.simple
        var byRule = false
        if let tier {
            resolved = tier
        } else if let kind {
            do {
                let r = try selector.tier(for: kind)
                resolved = r.tier
                byRule = r.byUnknownRule
            } catch {
                throw RoutingError(kind: .invalidTask, requestID: requestID, attempts: [], detail: "\(error)")
            }
        }
        let catalog = selector.catalog
        let id: ModelID
        if requestModel.isEmpty {
            guard let first = catalog.models.first(where: { $0.kind == endpoint }) else {
                throw RoutingError(kind: .invalidTask, requestID: requestID, tier: resolved, attempts: [], detail: "the catalog has no \(endpoint) model")
            }
            id = first.id
        } else {
            guard let named = catalog.model(ModelID(requestModel)) ?? catalog.model(gatewayID: requestModel) else {
                let known = catalog.models.filter { $0.kind == endpoint }.map(\.id.rawValue).joined(separator: ", ")
                throw RoutingError(
                    kind: .invalidTask, requestID: requestID, tier: resolved, attempts: [],
                    detail: "the catalog has no model '\(requestModel)' to price (\(endpoint) models: \(known.isEmpty ? "none" : known))")
            }
            id = named.id
        }
        do {
            let call = try selector.fixedModelCall(id, kind: endpoint, tier: resolved, inputTokens: inputTokens, images: images)
            return FixedRoute(requestID: requestID, taskKind: kind ?? endpoint.rawValue, tierByRule: byRule, call: call)
        } catch {
            throw RoutingError(kind: .invalidTask, requestID: requestID, tier: resolved, attempts: [], detail: error.description)
        }
    }

    /// Reserves, sends, and settles; releases the reservation when sending or settling fails or is cancelled.
    private func routeFixed<Response: Sendable>(
        _ route: FixedRoute, tags: [String: String], logger: Logger?,
        send: (_ gatewayModel: String, _ options: GatewayRequestOptions) async throws -> Response,
        settle: (Response) -> FixedSettlement
    ) async throws -> (Response, RouteRecord) {
        let reservation = try await reserveFixed(route, tags: tags, logger: logger)
        let selection = reservation.selection
        let model = route.call.model
        let response: Response
        do {
            let options = GatewayRequestOptions(timeout: configuration.requestTimeout, requestID: route.requestID)
            response = try await send(model.gatewayID, options)
        } catch {
            throw try await releaseFixed(error, reservation: reservation, route: route, logger: logger)
        }
        // The provider answered: settled (or left pending), never released.
        let used = settle(response)
        var settlement: Settlement
        if used.suspect == nil, let cost = try? selector.catalog.cost(of: model, inputTokens: used.inputTokens, outputTokens: 0, images: used.images),
            cost.rawValue <= Self.maxCallCost
        {
            settlement = Settlement(inputTokens: used.inputTokens, outputTokens: 0, cost: cost, estimated: used.estimated)
            if used.inputTokens > selection.inputTokens || cost > selection.estimate {
                settlement.flags.insert(.overReservation)
                settlement.note = "the provider reported \(used.inputTokens) tokens and \(used.images) images; the reservation was for \(selection.inputTokens) tokens, \(route.call.images) images"
            }
        } else {
            settlement = Settlement(
                inputTokens: selection.inputTokens, outputTokens: 0, cost: selection.estimate, estimated: true, flags: .usageSuspect,
                note: used.suspect ?? "usage settled from the estimate: the reported usage cannot be priced")
        }
        let receipt = await settleDurably(reservation, settlement, requestID: route.requestID, logger: logger)
        var record = RouteRecord(
            requestID: route.requestID, taskKind: route.taskKind, tier: route.call.tier, tierByUnknownRule: route.tierByRule,
            model: model.id, reason: selection.reason, estimate: selection.estimate, cost: receipt?.cost ?? settlement.cost,
            usage: Usage(promptTokens: settlement.inputTokens, completionTokens: 0), usageEstimated: settlement.estimated,
            images: used.images, entryID: reservation.id, attempts: [.init(model: model.id, entryID: reservation.id, error: nil)],
            exceedsDailyLimit: selection.exceedsDailyLimit, exceedsMonthlyLimit: selection.exceedsMonthlyLimit)
        record.settlementPending = receipt == nil
        record.flags = receipt?.flags ?? settlement.flags
        logger?.debug("routed \(model.kind)", metadata: Self.metadata(record))
        return (response, record)
    }

    private func reserveFixed(_ route: FixedRoute, tags: [String: String], logger: Logger?) async throws -> Reservation {
        let call = route.call, selector = self.selector
        return try await reserve(
            ReservationRequest(
                requestID: route.requestID, attempt: 1, taskKind: route.taskKind, tags: tags, callDeadline: configuration.callDeadline),
            logger: logger,
            refused: { route.error(.budgetExhausted, detail: $0) }
        ) { snapshot in selector.select(call, budget: snapshot) }
    }

    /// Ends a failed call's reservation (released; settled at its estimate when the provider answered before the
    /// failure) and returns the error to throw: `CancellationError` when cancelled, a ``RoutingError`` for a gateway
    /// failure (there is no other model to try), anything else unchanged.
    private func releaseFixed(_ error: any Error, reservation: Reservation, route: FixedRoute, logger: Logger?) async throws -> any Error {
        let model = route.call.model.id
        let text = Self.failureText(error)
        if let g = error as? GatewayError, g.providerAnswered {
            _ = await settleDurably(reservation, Self.lostReplySettlement(reservation.selection, error: g), requestID: route.requestID, logger: logger)
        } else {
            try await ledger.release(reservation.id, error: text, at: now())
        }
        if error is CancellationError || Task.isCancelled { return CancellationError() }
        guard let g = error as? GatewayError else { return error }
        let attempts = [RouteRecord.Attempt(model: model, entryID: reservation.id, error: text)]
        if g.allowsFallback {
            return route.error(.allProvidersFailed, attempts: attempts, gatewayError: g, detail: "the \(route.call.model.kind) model failed at the provider (no fallback model)")
        }
        return route.error(.gatewayFailed, attempts: attempts, gatewayError: g, detail: "the gateway refused the call")
    }
}
