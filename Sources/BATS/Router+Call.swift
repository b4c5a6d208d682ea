import Gateway
import ModelSelection
import SpendLedger

extension Router {
    /// The state of one routed call across its attempts.
    struct Call {
        let task: RoutedTask
        let requestID: String
        let profile: TaskProfile
        let tierByRule: Bool
        var excluded: Set<ModelID> = []
        var attempts: [RouteRecord.Attempt] = []
        var attemptNumber = 0
        var lastError: GatewayError?

        init(task: RoutedTask, requestID: String, profile: TaskProfile, tierByRule: Bool) {
            self.task = task
            self.requestID = requestID
            self.profile = profile
            self.tierByRule = tierByRule
        }

        /// The request to send for a selection: the gateway's model id and the reserved completion cap.
        func request(for selection: Selection, catalog: ModelCatalog) -> ChatRequest {
            var r = task.request
            r.model = catalog.model(selection.model!)!.gatewayID
            r.maxTokens = selection.maxOutputTokens
            return r
        }

        /// The record of the attempt that answered; `receipt` is `nil` when its settlement is pending.
        func record(reservation: Reservation, settlement: Settlement, receipt: SettlementReceipt?, usage: Usage) -> RouteRecord {
            let s = reservation.selection
            var r = RouteRecord(
                requestID: requestID, taskKind: task.kind, tier: profile.complexity, tierByUnknownRule: tierByRule, model: s.model!,
                reason: s.reason, estimate: s.estimate, cost: receipt?.cost ?? settlement.cost, usage: usage,
                usageEstimated: receipt?.usageEstimated ?? settlement.estimated,
                entryID: reservation.id, attempts: attempts + [.init(model: s.model!, entryID: reservation.id, error: nil)],
                exceedsDailyLimit: s.exceedsDailyLimit, exceedsMonthlyLimit: s.exceedsMonthlyLimit)
            r.settlementPending = receipt == nil
            r.flags = receipt?.flags ?? settlement.flags
            return r
        }

        func error(_ kind: RoutingError.Kind, detail: String) -> RoutingError {
            RoutingError(kind: kind, requestID: requestID, tier: profile.complexity, attempts: attempts, gatewayError: lastError, detail: detail)
        }
    }
}
