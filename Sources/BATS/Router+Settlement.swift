import Dispatch
import Foundation
import Gateway
import Logging
import ModelSelection
import SpendLedger

// MARK: - Settling what the provider answered

extension Router {
    /// How many bytes of reply text one token can hold at most: usage reporting fewer completion tokens than
    /// `replyBytes / maxBytesPerToken` cannot be true, and is settled from the estimate instead.
    static let maxBytesPerToken = 64

    /// The settlement for a chat reply.
    ///
    /// - Well-formed, plausible usage is settled as reported, at the catalog's prices. Usage above what was reserved
    ///   (more prompt tokens than the upper bound, more completion tokens than the `max_tokens` sent) is what the
    ///   provider billed: it is recorded as reported and flagged ``SpendLedger/EntryFlags/overReservation``.
    /// - Missing usage is estimated: the prompt's upper bound, plus one token per byte received (bounded by the cap).
    /// - Malformed or implausible usage (see ``Gateway/Usage/problems``; fewer tokens than the text received could
    ///   hold; a cost that cannot be computed) is settled at the reservation's estimate and flagged
    ///   ``SpendLedger/EntryFlags/usageSuspect``, with the reason in the entry.
    func settlement(for usage: Usage?, replyBytes: Int, call: Call, selection: Selection, problems extra: [String] = []) -> (Settlement, Usage) {
        let model = selector.catalog.model(selection.model!)!
        let reservedInput = selection.inputTokens, cap = selection.maxOutputTokens
        if let usage {
            var problems = usage.problems + extra
            if usage.completionTokens.multipliedReportingOverflow(by: Self.maxBytesPerToken).partialValue < replyBytes,
                !usage.completionTokens.multipliedReportingOverflow(by: Self.maxBytesPerToken).overflow
            {
                problems.append("\(usage.completionTokens) completion tokens cannot hold the \(replyBytes) bytes of text received")
            }
            if problems.isEmpty {
                if let cost = try? selector.catalog.cost(of: model, inputTokens: usage.promptTokens, outputTokens: usage.completionTokens),
                    cost.rawValue <= Self.maxCallCost
                {
                    var flags: EntryFlags = []
                    var note: String?
                    if usage.promptTokens > reservedInput || usage.completionTokens > cap {
                        flags.insert(.overReservation)
                        note = "the provider reported \(usage.promptTokens) prompt and \(usage.completionTokens) completion tokens; "
                            + "the request allowed \(reservedInput) and \(cap)"
                    }
                    return (
                        Settlement(
                            inputTokens: usage.promptTokens, outputTokens: usage.completionTokens, cachedInputTokens: usage.cachedPromptTokens,
                            cost: cost, flags: flags, note: note), usage
                    )
                }
                problems.append("the reported usage cannot be priced (\(usage.promptTokens) prompt, \(usage.completionTokens) completion tokens)")
            }
            let estimated = Usage(promptTokens: reservedInput, completionTokens: cap)
            return (
                Settlement(
                    inputTokens: reservedInput, outputTokens: cap, cost: selection.estimate, estimated: true, flags: .usageSuspect,
                    note: "usage settled from the estimate: " + problems.joined(separator: "; ")), estimated
            )
        }
        // One token per byte received, bounded by the cap the provider was given: never below the real count.
        let output = min(replyBytes, cap)
        let estimated = Usage(promptTokens: reservedInput, completionTokens: output)
        let cost = (try? selector.catalog.cost(of: model, inputTokens: reservedInput, outputTokens: output)) ?? selection.estimate
        return (Settlement(inputTokens: reservedInput, outputTokens: output, cost: min(cost, selection.estimate), estimated: true), estimated)
    }

    /// The settlement of a call the provider answered but whose reply was lost (too large, cut or timed out mid-body):
    /// the provider did the work, so it is charged at the reservation's estimate.
    static func lostReplySettlement(_ selection: Selection, error: GatewayError) -> Settlement {
        Settlement(
            inputTokens: selection.inputTokens, outputTokens: selection.maxOutputTokens, cost: selection.estimate, estimated: true,
            flags: .replyLost, note: "the provider answered but the reply was lost (\(error.kind)): settled from the estimate")
    }

    /// The most one call may cost before its usage is taken for an error (the ledger's own ceiling).
    static let maxCallCost: Int64 = 1_000_000_000_000_000

    /// Settles, retrying within ``Configuration/settleDeadline`` while the ledger is locked or failing.
    ///
    /// Once the provider has answered, the reservation is never released: when every try fails, the reservation is
    /// kept (it expires later, charged at its estimate), a warning is logged without the prompt or key, and `nil` is
    /// returned so the record says the settlement is pending. Not cancellable: a cancelled caller still settles.
    func settleDurably(_ reservation: Reservation, _ settlement: Settlement, requestID: String, logger: Logger?) async -> SettlementReceipt? {
        let deadline = ContinuousClock.now + configuration.settleDeadline
        var delay = Duration.milliseconds(20)
        var settlement = settlement
        var tries = 0
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
                return receipt
            } catch let e as LedgerError where e.kind == .invalidAmount && !settlement.flags.contains(.usageSuspect) {
                // An amount the ledger cannot record: settle at the estimate instead, flagged.
                settlement = Settlement(
                    inputTokens: reservation.selection.inputTokens, outputTokens: reservation.selection.maxOutputTokens,
                    cost: reservation.selection.estimate, estimated: true, flags: settlement.flags.union(.usageSuspect),
                    note: "usage settled from the estimate: \(e.message)")
                continue
            } catch let e as LedgerError where e.kind == .alreadyFinished || e.kind == .unknownReservation {
                logger?.warning("settlement refused", metadata: ["request": "\(requestID)", "entry": "\(reservation.id)", "error": "\(e.kind)"])
                return nil
            } catch {
                if ContinuousClock.now + delay >= deadline {
                    logger?.warning(
                        "settlement pending: the ledger could not be written; the reservation stays open and will be charged at its estimate",
                        metadata: [
                            "event": "settlement-pending", "request": "\(requestID)", "entry": "\(reservation.id)", "tries": "\(tries)",
                            "error": "\(Self.failureText(error))",
                        ])
                    return nil
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
