import Gateway
import ModelSelection
import SpendLedger

extension Router {
    /// One chat call, resolved: its task, request id and profile.
    struct Call {
        let task: RoutedTask
        let requestID: String
        let profile: TaskProfile
        let tierByRule: Bool

        /// The routing policy of this call.
        func machine(selector: ModelSelector, configuration: RoutingStateMachine.Configuration) -> RoutingStateMachine {
            RoutingStateMachine(
                selector: selector, plan: .chat(profile), requestID: requestID, taskKind: task.kind, tags: task.tags, tierByRule: tierByRule,
                callerKey: task.callerKey, configuration: configuration)
        }

        /// The request to send for a reservation: the gateway's model id and the reserved completion cap.
        func request(for reservation: Reservation, catalog: ModelCatalog) -> ChatRequest {
            var r = task.request
            r.model = catalog.model(reservation.model)?.gatewayID ?? reservation.model.rawValue
            r.maxTokens = reservation.selection.maxOutputTokens
            return r
        }
    }
}
