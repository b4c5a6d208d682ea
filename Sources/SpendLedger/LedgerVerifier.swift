import GRDB
import ModelSelection

/// What `verify` found: how many entries it checked, and the first problem, if any.
public struct VerificationReport: Sendable, Hashable {
    /// A problem found in the ledger.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// What kind of tampering or damage it looks like.
        public enum Kind: String, Sendable, Hashable {
            /// An entry's fields no longer match its hash or seal.
            case edited
            /// The chain breaks before this entry: one was deleted, or this one was inserted.
            case insertedOrDeleted = "inserted-or-deleted"
            /// A window's running totals disagree with the sum of its entries.
            case totalsMismatch = "totals-mismatch"
        }
        /// The kind.
        public var kind: Kind
        /// The entry at fault (for totals, the window key instead).
        public var entryID: Int64?
        /// What was found.
        public var detail: String
        /// A one-line description.
        public var description: String {
            (entryID.map { "entry \($0): " } ?? "") + "\(kind.rawValue): \(detail)"
        }
    }

    /// Entries checked.
    public var entriesChecked: Int
    /// The hash of the last entry: keep it elsewhere to detect truncation of the chain's end.
    public var headHash: String
    /// The first problem, or `nil` when the ledger is intact.
    public var firstProblem: Problem?
    /// Whether the ledger is intact.
    public var isIntact: Bool { firstProblem == nil }
}

extension SQLiteLedger {
    /// Checks the hash chain of every entry and that window totals equal the sums of their entries.
    /// - Returns: The first edited, inserted or deleted entry, or the first window whose totals disagree.
    /// - Throws: ``LedgerError`` when the file cannot be read.
    public func verify() throws -> VerificationReport {
        try read { db in
            var prev = LedgerStore.genesisHash
            var checked = 0
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, request_id, attempt, task_kind, tier, model, created_at, day_key, month_key, est_input_tokens, est_output_tokens,
                        est_cost, critical, reason, tags, prev_hash, hash, status, actual_input_tokens, actual_output_tokens, cached_input_tokens,
                        actual_cost, usage_estimated, finished_at, over_limit, error, seal
                    FROM entry ORDER BY id
                    """)
            while let r = try rows.next() {
                checked += 1
                let id: Int64 = r[0]
                let storedPrev: String = r[15], stored: String = r[16]
                if storedPrev != prev {
                    return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .insertedOrDeleted, entryID: id, detail: "its link to the previous entry is broken"))
                }
                let request = ReservationRequest(requestID: r[1], attempt: r[2], taskKind: r[3])
                let expected = LedgerStore.entryHash(
                    id: id, request: request, tier: Complexity(rawValue: r[4]) ?? .medium, model: r[5], createdAt: r[6], dayKey: r[7], monthKey: r[8],
                    estIn: r[9], estOut: r[10], estCost: r[11], critical: r[12], reason: SelectionReason(rawValue: r[13]), tags: r[14], prevHash: storedPrev)
                let tierValid = Complexity(rawValue: r[4]) != nil
                if expected != stored || !tierValid {
                    return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "its reservation fields do not match its hash"))
                }
                let status = EntryStatus(rawValue: r[17])
                let seal: String? = r[26]
                if status != .reserved {
                    let expectedSeal = LedgerStore.sealHash(
                        hash: stored, status: status, actualIn: r[18], actualOut: r[19], cached: r[20], actualCost: r[21], estimated: r[22],
                        finishedAt: r[23] ?? 0, overLimit: r[24], error: r[25])
                    if seal != expectedSeal {
                        return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "its \(status) fields do not match its seal"))
                    }
                } else if seal != nil {
                    return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "an open reservation carries a seal"))
                }
                prev = stored
            }
            // Totals: every window's running totals equal the sums of its entries.
            for period in ["day", "month"] {
                let column = period == "day" ? "day_key" : "month_key"
                let sums = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT w.key, w.settled, w.reserved,
                            COALESCE((SELECT SUM(actual_cost) FROM entry e WHERE e.\(column) = w.key AND e.status = 'settled'), 0),
                            COALESCE((SELECT SUM(est_cost) FROM entry e WHERE e.\(column) = w.key AND e.status = 'reserved'), 0)
                        FROM budget_window w WHERE w.period = ?
                        """, arguments: [period])
                for s in sums where (s[1] as Int64) != (s[3] as Int64) || (s[2] as Int64) != (s[4] as Int64) {
                    let key: String = s[0]
                    return .init(
                        entriesChecked: checked, headHash: prev,
                        firstProblem: .init(
                            kind: .totalsMismatch, entryID: nil,
                            detail: "\(period) \(key): totals say settled \(MicroDollars(micros: s[1])) reserved \(MicroDollars(micros: s[2])), entries sum to settled \(MicroDollars(micros: s[3])) reserved \(MicroDollars(micros: s[4]))"))
                }
            }
            return .init(entriesChecked: checked, headHash: prev, firstProblem: nil)
        }
    }
}
