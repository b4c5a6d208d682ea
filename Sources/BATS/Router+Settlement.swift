import Dispatch
import Foundation
import Gateway
import Logging
import ModelSelection
import SpendLedger

// MARK: - Settling what the provider answered

extension Router {
    /// Settles, retrying within ``Configuration/settleDeadline`` while the ledger is locked or failing, and returns the
    /// policy's next action.
    ///
    /// Once the provider has answered, the reservation is never released: when every try fails, the reservation is
    /// kept (it expires later, charged at its estimate), a warning is logged without the prompt or key, and the
    /// machine is told the settlement is pending. Not cancellable: a cancelled caller still settles.
    func settleDurably(
        _ reservation: Reservation, _ settlement: Settlement, machine: inout RoutingStateMachine, logger: Logger?
    ) async -> RoutingStateMachine.Action {
        let deadline = ContinuousClock.now + configuration.settleDeadline
        var delay = Duration.milliseconds(20)
        var settlement = settlement
        var tries = 0
        let requestID = machine.requestID
        while true {
            tries += 1
            do {
                let receipt = try await ledger.settle(reservation.id, settlement, at: now())
                if receipt.flags.contains(.overReservation) {
                    logger?.warning(
                        "provider billed beyond the reservation",
                        metadata: [
                            "event": "over-reservation", "request": "\(requestID)", "entry": "\(reservation.id)",
                            "estimate": "\(reservation.selection.estimate)", "cost": "\(receipt.cost)",
                        ])
                }
                return machine.settled(receipt)
            } catch let e as LedgerError where e.kind == .invalidAmount {
                // An amount the ledger cannot record: the policy settles at the estimate instead, flagged.
                let next = machine.settleRefused(e)
                guard case .settle(_, let retry) = next else { return next }
                settlement = retry
            } catch let e as LedgerError where e.kind == .alreadyFinished || e.kind == .unknownReservation {
                logger?.warning("settlement refused", metadata: ["request": "\(requestID)", "entry": "\(reservation.id)", "error": "\(e.kind)"])
                return machine.settled(nil)
            } catch {
                if ContinuousClock.now + delay >= deadline {
                    logger?.warning(
                        "settlement pending: the ledger could not be written; the reservation stays open and will be charged at its estimate",
                        metadata: [
                            "event": "settlement-pending", "request": "\(requestID)", "entry": "\(reservation.id)", "tries": "\(tries)",
                            "error": "\(RoutingStateMachine.failureText(error))",
                        ])
                    return machine.settled(nil)
                }
                await Self.sleepIgnoringCancellation(delay)
                delay = min(delay * 2, .seconds(1))
            }
        }
    }

    /// Waits without being cut short by the caller's cancellation (a settlement must still be tried).
    static func sleepIgnoringCancellation(_ d: Duration) async {
        let nanos = max(0, d.components.seconds) * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanos))) { c.resume() }
        }
    }
}
