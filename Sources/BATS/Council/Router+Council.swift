public import Logging
import ModelSelection
import Gateway
import SpendLedger

extension Router {
    /// Asks a council: its seats reserved as one unit, called concurrently, their answers combined.
    ///
    /// Every seat's entry carries the group id (the task's request id, ``SpendLedger/GroupTag/group``), the council's
    /// name and its role, so `bats audit --by council` and `--by group` sum them. Every reservation ends settled or
    /// released: on agreement (the rest are cancelled), on failure, and when the caller is cancelled.
    /// - Parameters:
    ///   - task: The question (a kind or tier; not a fixed model).
    ///   - council: The seats and how answers are combined.
    ///   - logger: Where to log; `nil` is silent.
    /// - Returns: The council's answer, the chosen reply, and every seat with its cost.
    /// - Throws: ``RoutingError`` (`budgetExhausted` when fewer than the minimum fit, `allProvidersFailed` when no seat
    ///   answered, `invalidTask`), ``SpendLedger/LedgerError``, or `CancellationError` (everything released first).
    public func council(_ task: RoutedTask, _ council: Council, logger: Logger? = nil) async throws -> CouncilResult {
        let call = try prepare(task)
        let plan = try CouncilPlan(council: council, call: call, selector: selector, configuration: policy)
        let outcome = try await ledger.reserveGroup(plan.group, at: now(), choose: plan.chooser(selector))
        let outcomes: [ReservationOutcome]
        switch outcome {
        case .reserved(let o): outcomes = o
        case .refused(let selection, _, _, let fitted):
            var e = RoutingError(
                kind: .budgetExhausted, requestID: call.requestID, tier: plan.tier, attempts: [],
                detail: "council '\(council.name)': \(fitted) of \(plan.group.requests.count) reservations fit the budget; it needs "
                    + "\(council.minimumMembers) seat(s)\(plan.judge == nil ? "" : " and its judge"): \(selection.refusal?.summary ?? "refused")")
            e.refusal = selection.refusal
            throw e
        }
        logger?.debug("council seated", metadata: ["council": "\(council.name)", "group": "\(call.requestID)", "seats": "\(outcomes.count)"])
        let judgeReservation: Reservation? = plan.judge == nil ? nil : { if case .reserved(let r)? = outcomes.last { r } else { nil } }()
        var notes: [String] = []
        var seats = plan.seats.indices.map { i in
            CouncilResult.Seat(index: i + 1, model: plan.seats[i], status: .refused, cost: .zero, detail: nil)
        }
        var early: String?
        await withTaskGroup(of: (Int, CouncilResult.Seat).self) { group in
            for (i, o) in outcomes.prefix(plan.seats.count).enumerated() {
                switch o {
                case .reserved(let r): group.addTask { (i, await self.runSeat(i, r, plan: plan, call: call, logger: logger)) }
                case .refused(let s, _, _):
                    seats[i].detail = s.refusal?.summary ?? "refused"
                    notes.append("seat \(i + 1) (\(plan.seats[i])) did not fit the budget")
                }
            }
            var tally: [String: Int] = [:]
            for await (i, seat) in group {
                seats[i] = seat
                guard early == nil, case .firstAgreement(let k) = council.aggregation, let a = seat.answer else { continue }
                let votes = tally[a, default: 0] + 1
                tally[a] = votes
                if votes >= k {
                    early = a
                    group.cancelAll()
                }
            }
        }
        var decided = plan
        decided.notes = notes
        return try await decide(plan: decided, seats: seats, early: early, judgeReservation: judgeReservation, call: call, logger: logger)
    }

    /// One seat's call: its group reservation first, then down the chain on a provider failure.
    private func runSeat(_ i: Int, _ reservation: Reservation, plan: CouncilPlan, call: Call, logger: Logger?) async -> CouncilResult.Seat {
        var seat = CouncilResult.Seat(index: i + 1, model: reservation.model, status: .failed, cost: .zero, detail: nil)
        var adopted: Reservation? = reservation
        var model = reservation.model
        var tried = Set(plan.seats)
        while true {
            var machine = plan.machine(seat: i, model: model, selector: selector)
            let first = adopted.map { machine.adopt($0) }
            adopted = nil
            var response: ChatResponse?
            do {
                let record = try await drive(&machine, logger: logger, first: first) { r, m in
                    do {
                        let reply = try await gateway.complete(call.request(for: r, catalog: selector.catalog), options: options(call), logger: logger)
                        response = reply
                        return m.answered(usage: reply.usage, replyBytes: Self.replyBytes(reply))
                    } catch {
                        return m.failed(error)
                    }
                }
                guard let response else { throw machine.error(.gatewayFailed, detail: "no reply was kept") }
                seat.status = .answered
                seat.record = record
                seat.response = response
                seat.cost = record.cost
                seat.answer = plan.extractor(response.choices.first?.message.content?.text ?? "")
                return seat
            } catch let e as RoutingError {
                seat.detail = e.detail
                if Task.isCancelled {
                    seat.status = .cancelled
                    return seat
                }
                if e.kind == .budgetExhausted {
                    seat.status = .refused
                    return seat
                }
                if e.kind == .allProvidersFailed, let next = plan.fallback(after: model, tried: tried, selector: selector) {
                    logger?.debug("council seat falls back", metadata: ["seat": "\(i + 1)", "from": "\(model)", "to": "\(next)"])
                    tried.insert(next)
                    model = next
                    continue
                }
                return seat
            } catch {
                seat.status = error is CancellationError || Task.isCancelled ? .cancelled : .failed
                seat.detail = RoutingStateMachine.failureText(error)
                return seat
            }
        }
    }
}
