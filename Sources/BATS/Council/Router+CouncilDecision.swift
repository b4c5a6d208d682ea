import Foundation
import Gateway
import Logging
import ModelSelection
import SpendLedger

extension Router {
    /// Combines the seats' answers (calling the judge when one is configured and the seats disagree) and closes the
    /// judge's reservation on every path.
    func decide(
        plan: CouncilPlan, seats: [CouncilResult.Seat], early: String?, judgeReservation: Reservation?, call: Call, logger: Logger?
    ) async throws -> CouncilResult {
        var notes = plan.notes
        let answered = seats.filter { $0.status == .answered }
        var votes: [String: Int] = [:]
        for s in answered { if let a = s.answer { votes[a, default: 0] += 1 } }
        let cancelled = Task.isCancelled && early == nil
        var judgeSeat: CouncilResult.Seat?
        var judgePick: Int?
        if let r = judgeReservation {
            let needed = !cancelled && answered.count >= 2 && (votes.count >= 2 || answered.contains { $0.answer == nil })
            if needed {
                (judgeSeat, judgePick) = await runJudge(r, plan: plan, candidates: answered, call: call, logger: logger)
                if judgePick == nil { notes.append("the judge named no answer: \(judgeSeat?.detail ?? "no reply"); the seats' vote decides") }
            } else {
                let why = cancelled ? "cancelled" : answered.count < 2 ? "not needed: fewer than two seats answered" : "not needed: the seats agreed"
                try await ledger.release(r.id, error: why, at: now())
                judgeSeat = .init(index: 0, model: r.model, status: cancelled ? .cancelled : .notNeeded, cost: .zero, detail: why)
            }
        }
        if cancelled { throw CancellationError() }
        guard let first = answered.first, let firstResponse = first.response else {
            let what = seats.map { "seat \($0.index) (\($0.model)): \($0.status.rawValue)\($0.detail.map { " — \($0)" } ?? "")" }
            throw RoutingError(
                kind: .allProvidersFailed, requestID: plan.requestID, tier: plan.tier, attempts: [],
                detail: "no seat of council '\(plan.name)' answered: \(what.joined(separator: "; "))")
        }
        var answer: String?
        var chosen = first
        var decision = CouncilResult.Decision.noAnswer
        if let early, let s = answered.first(where: { $0.answer == early }) {
            (answer, chosen, decision) = (early, s, .agreement)
        } else if let pick = judgePick {
            (answer, chosen, decision) = (answered[pick].answer, answered[pick], .judge)
        } else if let top = votes.values.max(), let s = answered.first(where: { $0.answer.map { votes[$0] == top } ?? false }) {
            // The earliest seat among the answers with the most votes.
            let counted = votes.values.reduce(0, +)
            (answer, chosen, decision) = (s.answer, s, top * 2 > counted ? .majority : .plurality)
        }
        var cost = MicroDollars.zero
        do {
            for s in seats { cost = try cost.adding(s.cost) }
            if let j = judgeSeat { cost = try cost.adding(j.cost) }
        } catch {
            notes.append("the council's total cost overflows: \(error)")
            cost = .max
        }
        return CouncilResult(
            council: plan.name, groupID: plan.requestID, tier: plan.tier, answer: answer, response: chosen.response ?? firstResponse,
            chosenSeat: chosen.index, decision: decision, votes: votes, seats: seats, judge: judgeSeat, cost: cost, notes: notes)
    }

    /// Calls the judge on its reservation with the question and the numbered answers.
    /// - Returns: The judge's seat, and the index (into `candidates`) of the answer it picked, if it named one.
    private func runJudge(
        _ r: Reservation, plan: CouncilPlan, candidates: [CouncilResult.Seat], call: Call, logger: Logger?
    ) async -> (CouncilResult.Seat, Int?) {
        var seat = CouncilResult.Seat(index: 0, model: r.model, status: .failed, cost: .zero, detail: nil)
        var machine = plan.machine(seat: plan.seats.count, model: r.model, selector: selector)
        let first = machine.adopt(r)
        let question = call.task.request.messages.filter { $0.role == .user }.last?.content?.text ?? ""
        var prompt = "Question:\n\(question)\n"
        for (n, c) in candidates.enumerated() {
            prompt += "\nAnswer \(n + 1):\n\(c.response?.choices.first?.message.content?.text ?? "")\n"
        }
        prompt += "\nReply with the number of the best answer only."
        var reply: ChatResponse?
        let judgeID = machine.requestID
        do {
            let record = try await drive(&machine, logger: logger, first: first) { r, m in
                let request = ChatRequest(
                    model: selector.catalog.model(r.model)?.gatewayID ?? r.model.rawValue,
                    messages: [
                        .system("You judge a council of models. Read the question and the numbered answers, then name the best answer by its number."),
                        .user(prompt),
                    ], maxTokens: r.selection.maxOutputTokens)
                do {
                    let x = try await gateway.complete(
                        request, options: GatewayRequestOptions(timeout: configuration.requestTimeout, requestID: judgeID), logger: logger)
                    reply = x
                    return m.answered(usage: x.usage, replyBytes: Self.replyBytes(x))
                } catch {
                    return m.failed(error)
                }
            }
            seat.status = .answered
            seat.record = record
            seat.cost = record.cost
            seat.response = reply
        } catch {
            seat.status = error is CancellationError ? .cancelled : .failed
            seat.detail = (error as? RoutingError)?.detail ?? RoutingStateMachine.failureText(error)
            return (seat, nil)
        }
        let text = reply?.choices.first?.message.content?.text ?? ""
        guard let n = Self.firstInteger(in: text), (1...candidates.count).contains(n) else {
            seat.detail = "its reply named no answer between 1 and \(candidates.count): \(text.prefix(80))"
            return (seat, nil)
        }
        seat.answer = "\(n)"
        return (seat, n - 1)
    }

    /// The first run of ASCII digits in `text`, if it fits an `Int`.
    static func firstInteger(in text: String) -> Int? {
        var digits = ""
        for c in text {
            if c.isASCII, c.isNumber { digits.append(c) } else if !digits.isEmpty { break }
        }
        return digits.count <= 9 ? Int(digits) : nil
    }
}
