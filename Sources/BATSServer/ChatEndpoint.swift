import BATS
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import ModelSelection
import NIOCore
import SpendLedger

extension ServerHandlers {
    /// `POST /v1/chat/completions`: JSON or SSE, through the router; a council or a cascade by its routing name
    /// (JSON only).
    func chat(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        let caller = try authenticate(request)
        let bytes = try await body(request)
        let parsed = try RequestJSON.decode(ChatCompletionBody.self, from: bytes)
        var name = try routingName(parsed.model, headers: request.headers)
        if name.council == nil, name.cascade == nil, name.model == nil, let kind = name.kind,
            parsed.model == "bats/auto" || parsed.model.hasPrefix("bats/task/")
        {
            // A task kind a council or cascade of the configuration answers for (`task_kinds`).
            name.council = server.configuration.councils.first { $0.value.taskKinds.contains(kind) }?.key
            if name.council == nil { name.cascade = server.configuration.cascades.first { $0.value.taskKinds.contains(kind) }?.key }
        }
        let task = try routedTask(
            name: name, request: parsed.request, maxTokens: parsed.maxTokens, headers: request.headers, caller: caller, requestID: requestID)
        if name.council != nil || name.cascade != nil { return try await ensembleChat(parsed, name: name, task: task) }
        if parsed.stream { return try await streamChat(task, includeUsage: parsed.includeUsage, connectionClosed: context.connectionClosed) }
        let (routed, headers) = try await routedCall({ try await router.complete(task, logger: logger) }, record: \.record)
        let now = Int(router.currentDate.timeIntervalSince1970)
        return Self.json(WireJSON.encode(WireEncoding.Completion(r: routed.response, now: now)), headers: headers)
    }

    /// The routing name of a request's `model` and headers, the configured councils and cascades among the names.
    func routingName(_ model: String, headers: HTTPFields) throws(OpenAIError) -> RoutingName {
        try RoutingName(
            model: model, taskHeader: headers[ServerHeaders.task], tierHeader: headers[ServerHeaders.tierRequest], selector: selector,
            councils: Set(server.configuration.councils.keys), cascades: Set(server.configuration.cascades.keys))
    }

    /// The routed task of a request: its routing name, tags (the key's win over the header's), key and request id.
    func routedTask(
        name: RoutingName, request: ChatRequest, maxTokens: Int?, headers: HTTPFields, caller: Caller?, requestID: String
    ) throws(OpenAIError) -> RoutedTask {
        RoutedTask(
            kind: name.kind, complexity: name.tier, request: request, maxOutputTokens: maxTokens,
            tags: try tags(headers: headers, caller: caller), requestID: requestID, callerKey: caller?.name, model: name.model)
    }

    func tags(headers: HTTPFields, caller: Caller?) throws(OpenAIError) -> [String: String] {
        var tags = try Caller.tags(header: headers[ServerHeaders.tags])
        for (k, v) in caller?.tags ?? [:] { tags[k] = v }
        return tags
    }

    /// Counts a budget refusal in the metrics.
    func noteRefusal(_ error: any Error) {
        if let e = error as? RoutingError, e.kind == .budgetExhausted { server.metrics.refused(tier: e.tier, binding: e.refusal?.binding) }
    }

    /// `x-bats-*` headers of a finished call (the cost header is the caller's: streamed replies carry it in a comment).
    /// Runs one routed call: a refusal is counted, the route is metered, and the reply's `x-bats-*` headers, with the
    /// cost, are made.
    func routedCall<T: Sendable>(
        _ call: () async throws -> T, record: (T) -> RouteRecord
    ) async throws -> (T, HTTPFields) {
        let result: T
        do {
            result = try await call()
        } catch {
            noteRefusal(error)
            throw error
        }
        let r = record(result)
        server.metrics.routed(r)
        var headers = await batsHeaders(r)
        headers[ServerHeaders.cost] = r.cost.decimalValue.description
        return (result, headers)
    }

    func batsHeaders(_ r: RouteRecord) async -> HTTPFields {
        var h = await batsHeaders(requestID: r.requestID, model: r.model, tier: r.tier, reason: r.reason, scopes: r.scopes, daily: r.dailyAfter)
        let failed = r.attempts.filter { $0.error != nil }.map(\.model.rawValue)
        if !failed.isEmpty { h[ServerHeaders.fellBackFrom] = failed.joined(separator: ",") }
        return h
    }

    /// `x-bats-*` headers of a call's route, with today's remaining budget: from `daily` (the window as the call's
    /// settlement left it) when given, else read from the ledger now.
    func batsHeaders(
        requestID: String, model: ModelID, tier: Complexity, reason: SelectionReason, scopes: [String], daily: BudgetSnapshot.Window? = nil
    ) async -> HTTPFields {
        var h = HTTPFields()
        h[ServerHeaders.requestID] = requestID
        h[ServerHeaders.model] = model.rawValue
        h[ServerHeaders.tier] = tier.rawValue
        h[ServerHeaders.reason] = reason.rawValue
        if !scopes.isEmpty { h[ServerHeaders.scopes] = scopes.joined(separator: ",") }
        let ppm = selector.configuration.criticalReservePartsPerMillion
        let remaining = if let daily { daily.available(reservePartsPerMillion: ppm) } else { await remainingDaily() }
        if let remaining { h[ServerHeaders.remainingDaily] = remaining.decimalValue.description }
        return h
    }

    /// What is left of today's global budget for non-critical calls; `nil` when unlimited or unreadable.
    func remainingDaily() async -> MicroDollars? {
        guard let s = try? await router.ledger.snapshot(at: router.currentDate) else { return nil }
        return s.daily.available(reservePartsPerMillion: selector.configuration.criticalReservePartsPerMillion)
    }
}

// MARK: - Streaming

extension ServerHandlers {
    /// A streamed reply: the head once the upstream stream opened (429 or an error reply if it never did), then each
    /// chunk as an SSE frame, `data: [DONE]`, and a final comment line with the cost.
    ///
    /// When the client's connection closes, the call is cancelled at once (the upstream may be silent for long, as a
    /// reasoning model is before its first token); the router settles what was received.
    func streamChat(_ task: RoutedTask, includeUsage: Bool, connectionClosed: EventLoopFuture<Void>) async throws -> Response {
        let relay = StreamRelay.start(router: router, task: task, logger: logger, registry: server.streams)
        // Weak: a keep-alive connection outlives its requests, and must not keep their relays.
        connectionClosed.whenComplete { [weak relay] _ in relay?.cancel() }
        let route: RoutedStream.Route
        switch await relay.head() {
        case .success(let r): route = r
        case .failure(let error):
            noteRefusal(error)
            throw error
        }
        var headers = await batsHeaders(requestID: route.requestID, model: route.model, tier: route.tier, reason: route.reason, scopes: route.scopes)
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let handle = StreamRelay.Handle(relay)
        let metrics = server.metrics
        let created = Int(router.currentDate.timeIntervalSince1970)
        let handlers = self
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                handle.begin()
                do {
                    for await event in handle.relay.events {
                        switch event {
                        case .chunk(let c):
                            guard let out = Self.forward(c, includeUsage: includeUsage) else { continue }
                            try await writer.write(ByteBuffer(bytes: WireEncoding.chunkFrame(out, created: created)))
                        case .end(let record):
                            metrics.routed(record)
                            let tail = "data: [DONE]\n\n: bats cost_usd=\(record.cost.decimalValue) model=\(record.model) tier=\(record.tier) "
                                + "reason=\(record.reason) request_id=\(record.requestID)\(record.usageEstimated ? " usage=estimated" : "")\n\n"
                            try await writer.write(ByteBuffer(string: tail))
                        case .failed(let error):
                            try await writer.write(ByteBuffer(bytes: handlers.openAIError(error).sseFrame))
                        }
                    }
                    try await writer.finish(nil)
                } catch {
                    // The client went away: stop the upstream; the router settles what was received.
                    handle.relay.cancel()
                    await handle.relay.wait()
                    throw error
                }
            })
    }

    /// A chunk as the client asked for it: the usage-only chunk and usage fields only with `include_usage`.
    static func forward(_ c: ChatCompletionChunk, includeUsage: Bool) -> ChatCompletionChunk? {
        if includeUsage || c.usage == nil { return c }
        if c.choices.isEmpty { return nil }
        var x = c
        x.usage = nil
        return x
    }
}
