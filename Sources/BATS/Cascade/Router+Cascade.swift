public import Logging
import ModelSelection
import Foundation
import Gateway
import SpendLedger

extension Router {
    /// Runs a cascade: the cheapest step first, its answer verified, escalating up the steps on a rejection or a
    /// provider failure while the budget allows.
    ///
    /// Every attempt and every judge-verifier call is a routed call (reserved, settled, recorded) with the group id
    /// (the task's request id), the cascade's name and the step in its tags (``SpendLedger/GroupTag``).
    /// - Parameters:
    ///   - task: The question (a kind or tier; not a fixed model).
    ///   - cascade: The steps and the verifier.
    ///   - logger: Where to log; `nil` is silent.
    /// - Returns: The reply kept, the path, and what it all cost.
    /// - Throws: ``RoutingError`` (`budgetExhausted` when not even the first step fits, `allProvidersFailed` when no step
    ///   answered, `invalidTask`), ``SpendLedger/LedgerError``, or `CancellationError`.
    public func cascade(_ task: RoutedTask, _ cascade: Cascade, logger: Logger? = nil) async throws -> CascadeResult {
        let call = try prepare(task)
        let tier = call.profile.complexity
        let group = call.requestID
        func invalid(_ detail: String) -> RoutingError {
            RoutingError(kind: .invalidTask, requestID: group, tier: tier, attempts: [], detail: "cascade '\(cascade.name)': \(detail)")
        }
        guard task.model == nil else { throw invalid("a cascade routes by kind or tier; it cannot be given a fixed model") }
        let steps: [ModelID]
        if tier == .critical {
            steps = [selector.criticalModel]
        } else if cascade.steps.isEmpty {
            steps = selector.chain(for: tier).reversed()
        } else {
            for m in cascade.steps where selector.catalog.model(m)?.kind != .chat { throw invalid("step '\(m)' is not a chat model of the catalog") }
            steps = cascade.steps
        }
        var tags = task.tags
        tags[GroupTag.group] = group
        tags[GroupTag.council] = cascade.name
        var path: [CascadeResult.Step] = []
        var kept: RoutedResponse?
        var outcome = CascadeResult.Outcome.exhausted
        for (n, model) in steps.enumerated() {
            var step = task
            step.complexity = tier
            step.model = tier == .critical ? nil : model.rawValue
            step.requestID = "\(group)/step-\(n + 1)"
            step.tags = CouncilPlan.tags(tags, role: "step-\(n + 1)")
            let routed: RoutedResponse
            do {
                routed = try await complete(step, logger: logger)
            } catch let e as RoutingError where e.kind == .budgetExhausted {
                guard kept != nil else {
                    var x = e
                    x.detail = "cascade '\(cascade.name)': its first step (\(model)) does not fit the budget: \(e.detail)"
                    x.requestID = group
                    throw x
                }
                path[path.count - 1].escalation = (path[path.count - 1].escalation ?? "rejected") + "; the budget refused the next step (\(model))"
                outcome = .budget
                break
            } catch let e as RoutingError where e.kind == .allProvidersFailed || e.kind == .gatewayFailed {
                path.append(.init(model: model, record: nil, verdict: nil, escalation: "the provider failed: \(e.detail)", cost: .zero))
                continue
            }
            let (verdict, judged) = try await verify(routed.response, with: cascade.verifier, step: n + 1, task: task, tier: tier, tags: tags, group: group, logger: logger)
            var cost = routed.record.cost
            if let judged { cost = (try? cost.adding(judged.cost)) ?? .max }
            path.append(.init(model: model, record: routed.record, verdict: verdict, escalation: verdict.accepted ? nil : verdict.reason, cost: cost, verifierRecord: judged))
            kept = routed
            logger?.debug("cascade step", metadata: ["cascade": "\(cascade.name)", "step": "\(n + 1)", "model": "\(model)", "accepted": "\(verdict.accepted)"])
            if verdict.accepted {
                outcome = .accepted
                break
            }
        }
        guard let kept else {
            throw RoutingError(
                kind: .allProvidersFailed, requestID: group, tier: tier, attempts: [],
                detail: "no step of cascade '\(cascade.name)' answered: " + path.map { "\($0.model): \($0.escalation ?? "")" }.joined(separator: "; "))
        }
        let total = (try? MicroDollars.sum(path.map(\.cost))) ?? .max
        return CascadeResult(cascade: cascade.name, groupID: group, tier: tier, response: kept, outcome: outcome, path: path, cost: total)
    }

    /// The verdict on one step's reply, and the judge's routed call when the verifier is a judge.
    private func verify(
        _ reply: ChatResponse, with verifier: Verifier, step: Int, task: RoutedTask, tier: Complexity, tags: [String: String], group: String,
        logger: Logger?
    ) async throws -> (Verdict, RouteRecord?) {
        let text = reply.choices.first?.message.content?.text ?? ""
        if let v = verifier.check(text: text) { return (v, nil) }
        switch verifier.rule {
        case .custom(let body):
            do { return (try await body(reply), nil) } catch is CancellationError {
                throw CancellationError()
            } catch {
                return (.reject("the verifier threw: \(error)"), nil)
            }
        case .judge(let model, let criteria):
            let question = task.request.messages.filter { $0.role == .user }.last?.content?.text ?? ""
            let request = ChatRequest(messages: [
                .system("You check answers. Reply ACCEPT or REJECT on the first line, then one sentence why."),
                .user("Criteria: \(criteria)\n\nQuestion:\n\(question)\n\nAnswer:\n\(text)"),
            ])
            let judgeTask = RoutedTask(
                kind: task.kind, complexity: tier, request: request, maxOutputTokens: 128, tags: CouncilPlan.tags(tags, role: "verifier-\(step)"),
                requestID: "\(group)/verifier-\(step)", callerKey: task.callerKey, model: tier == .critical ? nil : model.rawValue)
            let judged: RoutedResponse
            do {
                judged = try await complete(judgeTask, logger: logger)
            } catch let e as RoutingError where e.kind != .invalidTask {
                return (.reject("the judge could not be asked: \(e.detail)"), nil)
            }
            let said = (judged.response.choices.first?.message.content?.text ?? "").uppercased()
            let accept = said.range(of: "ACCEPT")?.lowerBound
            let reject = said.range(of: "REJECT")?.lowerBound
            let reason = "the judge (\(model)) said: \(said.prefix(120).trimmingCharacters(in: .whitespacesAndNewlines))"
            switch (accept, reject) {
            case (let a?, let r?): return (a < r ? .accept(reason) : .reject(reason), judged.record)
            case (.some, nil): return (.accept(reason), judged.record)
            case (nil, .some): return (.reject(reason), judged.record)
            case (nil, nil): return (.reject("the judge's reply was neither ACCEPT nor REJECT: \(said.prefix(80))"), judged.record)
            }
        case .json, .schema, .regex:
            return (.reject("unreachable"), nil)
        }
    }
}
