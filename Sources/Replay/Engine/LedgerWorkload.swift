public import SpendLedger

/// The tasks of a past ledger, as a workload for a what-if replay under new prices or budgets.
///
/// Each settled entry becomes a task with its actual tokens (its reserved cap as `max_output_tokens`, its reported
/// cache reads as `cached_input_tokens`); each refused
/// entry becomes a task with its prompt estimate and no completion. Released and expired attempts are left out:
/// the attempt that answered carries the task. Entries are read in pages, so memory stays flat.
public struct LedgerWorkload {
    private let ledger: SQLiteLedger
    private var afterID: Int64 = 0
    private var page: [LedgerEntry] = []
    private var index = 0
    private var exhausted = false
    /// Entries read so far.
    public private(set) var entriesRead = 0

    /// Reads from a ledger.
    public init(ledger: SQLiteLedger) { self.ledger = ledger }

    /// The next task, or `nil` at the end.
    /// - Throws: ``SpendLedger/LedgerError``.
    public mutating func next() throws -> WorkloadTask? {
        while true {
            if index == page.count {
                if exhausted { return nil }
                page = try ledger.entries(afterID: afterID, limit: 10_000)
                index = 0
                if page.count < 10_000 { exhausted = true }
                if let last = page.last { afterID = last.id }
                if page.isEmpty { return nil }
            }
            let e = page[index]
            index += 1
            entriesRead += 1
            guard e.status == .settled || e.status == .refused else { continue }
            let settled = e.status == .settled
            let input = max(1, settled ? (e.actualInputTokens ?? e.estimatedInputTokens) : e.estimatedInputTokens)
            // The cache reads the provider reported stay cache reads (within the prompt, as a workload line requires).
            let cached = settled ? e.cachedInputTokens.map { min(max(0, $0), input) } : nil
            return WorkloadTask(
                date: e.createdAt, id: e.requestID, task: e.taskKind, complexity: e.tier, inputTokens: input,
                outputTokens: settled ? (e.actualOutputTokens ?? 0) : 0,
                maxOutputTokens: settled ? e.estimatedOutputTokens : nil, tags: e.tags, cachedInputTokens: cached)
        }
    }
}
