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
    ///   - callerKey: The name of the caller key the call came with (never its secret), for scopes on a key.
    ///   - logger: Where to log decisions (debug); `nil` is silent.
    /// - Returns: The vectors and the decision record.
    /// - Throws: ``RoutingError``: `unsupportedEndpoint` (the gateway is not an `EmbeddingsGateway`), `invalidTask`
    ///   (a model the catalog does not know or of another kind, a rejected task kind, no embedding model in the
    ///   catalog), `budgetExhausted`
    ///   (with the ``RoutingError/refusal``), `allProvidersFailed` or `gatewayFailed` (with the
    ///   ``RoutingError/gatewayError``); ``SpendLedger/LedgerError``; or `CancellationError` (after releasing).
    public func embed(
        _ request: EmbeddingsRequest, kind: String? = nil, tier: Complexity? = nil, tags: [String: String] = [:],
        requestID: String? = nil, callerKey: String? = nil, logger: Logger? = nil
    ) async throws -> RoutedEmbeddings {
        let texts = request.input.texts
        let estimate = configuration.estimator.estimate(utf8Bytes: texts.reduce(0) { $0 + $1.utf8.count }, messages: texts.count)
        let route = try prepareFixed(
            .embedding, requestModel: request.model, kind: kind, tier: tier, requestID: requestID, inputTokens: estimate, images: 0)
        guard let endpoint = gateway as? any EmbeddingsGateway else { throw route.unsupported("embeddings") }
        let (response, record) = try await routeFixed(route, tags: tags, callerKey: callerKey, logger: logger) { gatewayModel, options in
            var r = request
            r.model = gatewayModel
            return try await endpoint.embeddings(r, options: options, logger: logger)
        } settle: { (response: EmbeddingsResponse) in
            guard let usage = response.usage else { return (nil, 0, []) }
            let tokens = usage.promptTokens > 0 ? usage.promptTokens : usage.totalTokens
            // Embeddings report no completion tokens: a missing completion count is no problem here.
            var problems = usage.problems.filter { !$0.contains("completion") && !$0.contains("total") }
            if problems.isEmpty, tokens < 0 { problems.append("negative token count") }
            return (tokens, 0, problems)
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
    ///   - callerKey: The name of the caller key the call came with (never its secret), for scopes on a key.
    ///   - logger: Where to log decisions (debug); `nil` is silent.
    /// - Returns: The images and the decision record.
    /// - Throws: ``RoutingError``: `unsupportedEndpoint` (the gateway is not an `ImageGateway`), `invalidTask`,
    ///   `budgetExhausted`, `allProvidersFailed` or `gatewayFailed`; ``SpendLedger/LedgerError``; or
    ///   `CancellationError` (after releasing).
    public func generateImages(
        _ request: ImageGenerationRequest, kind: String? = nil, tier: Complexity? = nil, tags: [String: String] = [:],
        requestID: String? = nil, callerKey: String? = nil, logger: Logger? = nil
    ) async throws -> RoutedImages {
        let route = try prepareFixed(
            .image, requestModel: request.model, kind: kind, tier: tier, requestID: requestID, inputTokens: 0, images: max(1, request.n ?? 1))
        guard let endpoint = gateway as? any ImageGateway else { throw route.unsupported("image generation") }
        let (response, record) = try await routeFixed(route, tags: tags, callerKey: callerKey, logger: logger) { gatewayModel, options in
            var r = request
            r.model = gatewayModel
            return try await endpoint.generateImages(r, options: options, logger: logger)
        } settle: { (response: ImageGenerationResponse) in
            (0, response.data.count, [])
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

    /// Reserves, sends, and settles through the routing policy; a failure releases the reservation (or settles a
    /// reply the provider answered but that was lost) and ends the call: a fixed model has no fallback.
    ///
    /// `settle` reads a reply's usage: prompt tokens (`nil` when none were reported), images, and its problems.
    private func routeFixed<Response: Sendable>(
        _ route: FixedRoute, tags: [String: String], callerKey: String?, logger: Logger?,
        send: (_ gatewayModel: String, _ options: GatewayRequestOptions) async throws -> Response,
        settle: (Response) -> (inputTokens: Int?, images: Int, problems: [String])
    ) async throws -> (Response, RouteRecord) {
        var machine = RoutingStateMachine(
            selector: selector, plan: .fixed(route.call), requestID: route.requestID, taskKind: route.taskKind, tags: tags,
            tierByRule: route.tierByRule, callerKey: callerKey, configuration: policy)
        var response: Response?
        let record = try await drive(&machine, logger: logger) { _, machine in
            do {
                let options = GatewayRequestOptions(timeout: configuration.requestTimeout, requestID: route.requestID)
                let r = try await send(route.call.model.gatewayID, options)
                response = r
                let used = settle(r)
                return machine.answeredFixed(inputTokens: used.inputTokens, images: used.images, problems: used.problems)
            } catch {
                return machine.failed(error)
            }
        }
        logger?.debug("routed \(route.call.model.kind)", metadata: Self.metadata(record))
        guard let response else { throw route.error(.gatewayFailed, detail: "no reply was kept") }
        return (response, record)
    }
}
