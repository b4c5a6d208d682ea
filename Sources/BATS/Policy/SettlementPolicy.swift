public import Gateway
public import ModelSelection
public import SpendLedger

/// How a reply's usage becomes a settlement: pure, from the catalog's prices.
public enum SettlementPolicy {
    /// How many bytes of reply text one token can hold at most: usage reporting fewer completion tokens than
    /// `replyBytes / maxBytesPerToken` cannot be true, and is settled from the estimate instead.
    public static let maxBytesPerToken = 64

    /// The settlement of a chat reply, and the usage it records.
    ///
    /// - Well-formed, plausible usage is settled as reported, at the catalog's prices, each part at its own rate
    ///   (``billable(_:)``). Usage above what was reserved
    ///   (more prompt tokens than the upper bound, more completion tokens than the `max_tokens` sent) is what the
    ///   provider billed: it is recorded as reported and flagged ``SpendLedger/EntryFlags/overReservation``.
    /// - Missing usage is estimated: the prompt's upper bound, plus one token per byte received (bounded by the cap).
    /// - Malformed or implausible usage (see ``Gateway/Usage/problems``; fewer tokens than the text received could
    ///   hold; a cost that cannot be computed) is settled at the reservation's estimate and flagged
    ///   ``SpendLedger/EntryFlags/usageSuspect``, with the reason in the entry.
    public static func chat(
        _ usage: Usage?, replyBytes: Int, selection: Selection, model: ModelInfo, catalog: ModelCatalog, problems extra: [String] = []
    ) -> (Settlement, Usage) {
        let reservedInput = selection.inputTokens, cap = selection.maxOutputTokens
        guard let usage else {
            // One token per byte received, bounded by the cap the provider was given: never below the real count.
            let output = min(replyBytes, cap)
            let cost = (try? catalog.cost(of: model, inputTokens: reservedInput, outputTokens: output)) ?? selection.estimate
            return (
                Settlement(inputTokens: reservedInput, outputTokens: output, cost: min(cost, selection.estimate), estimated: true),
                Usage(promptTokens: reservedInput, completionTokens: output)
            )
        }
        var problems = usage.problems + extra
        let (capacity, overflow) = usage.completionTokens.multipliedReportingOverflow(by: maxBytesPerToken)
        if !overflow, capacity < replyBytes {
            problems.append("\(usage.completionTokens) completion tokens cannot hold the \(replyBytes) bytes of text received")
        }
        if problems.isEmpty {
            if let cost = try? catalog.cost(of: model, billable(usage)), cost <= Settlement.maxCost
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
        return (
            atEstimate(selection, flags: [], note: "usage settled from the estimate: " + problems.joined(separator: "; ")),
            Usage(promptTokens: reservedInput, completionTokens: cap)
        )
    }

    /// The billable parts of a chat reply's usage: the prompt less its cache reads and writes at the input price, the
    /// cache reads and writes at their own prices, the completion (reasoning tokens are part of it, never added
    /// again), and one request.
    /// - Parameter usage: A well-formed usage (its cache counts fit in its prompt).
    /// - Returns: The parts.
    public static func billable(_ usage: Usage) -> BillableUsage {
        let read = usage.cachedPromptTokens ?? 0, write = usage.cacheWritePromptTokens ?? 0
        // Checked: the fields are public and may hold anything; a negative count is refused by the pricing.
        let (a, o1) = usage.promptTokens.subtractingReportingOverflow(read)
        let (rest, o2) = a.subtractingReportingOverflow(write)
        return BillableUsage(
            inputTokens: o1 || o2 ? 0 : max(0, rest), cacheReadTokens: read, cacheWriteTokens: write,
            outputTokens: usage.completionTokens)
    }

    /// The settlement of an embeddings or image reply: `inputTokens` reported (`nil` when the reply had no usage) and
    /// the images returned, at the fixed model's prices. Suspect usage (`problems`) settles at the estimate, flagged.
    public static func fixed(
        inputTokens: Int?, images: Int, problems: [String], selection: Selection, call: FixedModelCall, catalog: ModelCatalog
    ) -> Settlement {
        let tokens = inputTokens ?? selection.inputTokens
        if problems.isEmpty, tokens >= 0, images >= 0,
            let cost = try? catalog.cost(of: call.model, inputTokens: tokens, outputTokens: 0, images: images), cost <= Settlement.maxCost
        {
            var s = Settlement(inputTokens: tokens, outputTokens: 0, cost: cost, estimated: inputTokens == nil && call.model.kind != .image)
            if tokens > selection.inputTokens || cost > selection.estimate {
                s.flags.insert(.overReservation)
                s.note = "the provider reported \(tokens) tokens and \(images) images; the reservation was for \(selection.inputTokens) tokens, \(call.images) images"
            }
            return s
        }
        let why = problems.isEmpty ? ["the reported usage cannot be priced"] : problems
        var s = atEstimate(selection, flags: [], note: "usage settled from the estimate: " + why.joined(separator: "; "))
        s.outputTokens = 0
        return s
    }

    /// The reservation's estimate, flagged ``SpendLedger/EntryFlags/usageSuspect``.
    public static func atEstimate(_ selection: Selection, flags: EntryFlags, note: String) -> Settlement {
        Settlement(
            inputTokens: selection.inputTokens, outputTokens: selection.maxOutputTokens, cost: selection.estimate, estimated: true,
            flags: flags.union(.usageSuspect), note: note)
    }

    /// The settlement of a call the provider answered but whose reply was lost (too large, cut or timed out mid-body):
    /// the provider did the work, so it is charged at the reservation's estimate, flagged ``SpendLedger/EntryFlags/replyLost``.
    public static func lostReply(_ selection: Selection, error: GatewayError) -> Settlement {
        Settlement(
            inputTokens: selection.inputTokens, outputTokens: selection.maxOutputTokens, cost: selection.estimate, estimated: true,
            flags: .replyLost, note: "the provider answered but the reply was lost (\(error.kind)): settled from the estimate")
    }
}
