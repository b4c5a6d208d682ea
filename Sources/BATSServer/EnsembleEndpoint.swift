import BATS
import Foundation
import Gateway
import HTTPTypes
import Hummingbird
import ModelSelection
import SpendLedger

extension ServerHandlers {
    /// `bats/council/<name>` and `bats/cascade/<name>`: the whole council or cascade under the budget, answered as one
    /// `chat.completion`.
    ///
    /// - The reply's content is the chosen answer: the council's winning reply, or the cascade's accepted (else last)
    ///   one. Its `model` is the routing name (the answer is the ensemble's); `x-bats-model` names the model whose
    ///   reply it is. Its `usage` adds up every member's, step's and judge's settled usage.
    /// - `x-bats-cost-usd` is everything it cost; `x-bats-council-members` or `x-bats-cascade-path` lists each part.
    /// - A refusal of the whole council (fewer seats fit than its minimum) is the usual 429 `budget_exceeded`.
    /// - Throws: ``OpenAIError`` 400 for `stream: true`; the router's errors as for any call.
    func ensembleChat(_ parsed: ChatCompletionBody, name: RoutingName, task: RoutedTask) async throws -> Response {
        let routing = name.council.map { "bats/council/\($0)" } ?? name.cascade.map { "bats/cascade/\($0)" } ?? parsed.model
        if parsed.stream {
            throw OpenAIError.invalidRequest(
                "stream: true is not supported for \(routing): a council or a cascade answers once its members or steps have; "
                    + "send stream: false", param: "stream", code: "stream_unsupported")
        }
        var task = task
        // X-BATS-Tier, else a task kind the tier map knows (resolved by the router), else the configured tier.
        func tier(_ configured: Complexity?) -> Complexity? {
            if let t = task.complexity { return t }
            if let k = task.kind, selector.configuration.taskTiers[k] != nil { return nil }
            return configured ?? .simple
        }
        if let n = name.council, let entry = server.configuration.councils[n] {
            task.complexity = tier(entry.tier)
            return try await councilReply(task, entry.definition, routing: routing)
        }
        if let n = name.cascade, let entry = server.configuration.cascades[n] {
            task.complexity = tier(entry.tier)
            return try await cascadeReply(task, entry.definition, routing: routing)
        }
        throw OpenAIError.modelNotFound(parsed.model, known: "It is not configured on this server.")
    }

    /// A council's reply and headers.
    private func councilReply(_ task: RoutedTask, _ council: Council, routing: String) async throws -> Response {
        let result: CouncilResult
        do { result = try await router.council(task, council, logger: logger) } catch {
            noteRefusal(error)
            throw error
        }
        let parts = result.seats + (result.judge.map { [$0] } ?? [])
        let records = parts.compactMap(\.record)
        for r in records { server.metrics.routed(r) }
        let chosen = result.seats.first { $0.index == result.chosenSeat }?.record ?? records.first
        var headers = await ensembleHeaders(requestID: result.groupID, tier: result.tier, chosen: chosen, cost: result.cost)
        headers[ServerHeaders.council] = result.council
        headers[ServerHeaders.councilDecision] = result.decision.rawValue
        headers[ServerHeaders.councilMembers] = parts.map { seat in
            let model = (seat.record?.model ?? seat.model).rawValue
            return "\(seat.index == 0 ? "judge:" : "")\(model)=\(seat.cost.decimalValue);\(seat.status.rawValue)"
        }.joined(separator: ", ")
        return completion(result.response, routing: routing, usage: records.map(\.usage), headers: headers)
    }

    /// A cascade's reply and headers.
    private func cascadeReply(_ task: RoutedTask, _ cascade: Cascade, routing: String) async throws -> Response {
        let result: CascadeResult
        do { result = try await router.cascade(task, cascade, logger: logger) } catch {
            noteRefusal(error)
            throw error
        }
        let records = result.path.compactMap(\.record) + result.path.compactMap(\.verifierRecord)
        for r in records { server.metrics.routed(r) }
        var headers = await ensembleHeaders(requestID: result.groupID, tier: result.tier, chosen: result.response.record, cost: result.cost)
        headers[ServerHeaders.cascade] = result.cascade
        headers[ServerHeaders.cascadeOutcome] = result.outcome.rawValue
        headers[ServerHeaders.cascadePath] = result.path.map { step in
            let verdict = step.verdict.map { $0.accepted ? "accepted" : "rejected" } ?? "failed"
            return "\(step.model)=\(step.cost.decimalValue);\(verdict)"
        }.joined(separator: ", ")
        return completion(result.response.response, routing: routing, usage: records.map(\.usage), headers: headers)
    }

    /// The `x-bats-*` headers of an ensemble: the caller's request id (the group id), the chosen reply's model and
    /// reason, the tier, the total cost, and what is left of today's budget now.
    private func ensembleHeaders(requestID: String, tier: Complexity, chosen: RouteRecord?, cost: MicroDollars) async -> HTTPFields {
        var h: HTTPFields
        if let chosen {
            h = await batsHeaders(requestID: requestID, model: chosen.model, tier: tier, reason: chosen.reason, scopes: chosen.scopes)
        } else {
            h = HTTPFields()
            h[ServerHeaders.requestID] = requestID
            h[ServerHeaders.tier] = tier.rawValue
        }
        h[ServerHeaders.cost] = cost.decimalValue.description
        return h
    }

    /// The chosen reply as a `chat.completion` named by the routing name, with the summed usage.
    private func completion(_ response: ChatResponse, routing: String, usage: [Usage], headers: HTTPFields) -> Response {
        var r = response
        r.model = routing
        r.usage = Self.sum(usage)
        let now = Int(router.currentDate.timeIntervalSince1970)
        return Self.json(WireJSON.encode(WireEncoding.Completion(r: r, now: now)), headers: headers)
    }

    /// Several calls' usage added up (saturating: a sum never traps); `nil` for none.
    static func sum(_ usage: [Usage]) -> Usage? {
        guard !usage.isEmpty else { return nil }
        func add(_ values: [Int]) -> Int {
            values.reduce(0) { a, b in
                let (s, o) = a.addingReportingOverflow(max(0, b))
                return o ? Int.max : s
            }
        }
        func addOptional(_ values: [Int?]) -> Int? { values.allSatisfy { $0 == nil } ? nil : add(values.map { $0 ?? 0 }) }
        let prompt = add(usage.map(\.promptTokens)), completion = add(usage.map(\.completionTokens))
        return Usage(
            promptTokens: prompt, completionTokens: completion, totalTokens: add(usage.map(\.totalTokens)),
            cachedPromptTokens: addOptional(usage.map(\.cachedPromptTokens)), reasoningTokens: addOptional(usage.map(\.reasoningTokens)))
    }
}
