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
            /// An open reservation lies below the ledger's recorded floor of open reservations, so it would never expire.
            case openFloor = "open-floor"
        }
        /// The kind.
        public var kind: Kind
        /// The entry at fault (for totals, the window key instead).
        public var entryID: Int64?
        /// What was found.
        public var detail: String
        /// Creates a problem (for ledgers other than ``SQLiteLedger``).
        public init(kind: Kind, entryID: Int64?, detail: String) {
            self.kind = kind
            self.entryID = entryID
            self.detail = detail
        }
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
    /// How the chain is hashed: `sha256` (anyone who can write the file can recompute it) or `hmac-sha256` (keyed).
    public var chainMode: String = "sha256"
}

extension SQLiteLedger {
    /// Checks the hash chain of every entry, that window totals equal the sums of their entries, and that no open
    /// reservation lies below the recorded floor of open reservations. One pass over the entries.
    /// - Returns: The first edited, inserted or deleted entry, or the first window whose totals disagree.
    /// - Throws: ``LedgerError`` when the file cannot be read.
    public func verify() throws -> VerificationReport {
        let chain = configuration.chain
        var report = try verifyChain(chain)
        report.chainMode = chain.mode
        return report
    }

    private func verifyChain(_ chain: ChainHasher) throws -> VerificationReport {
        try read { db in
            var prev = LedgerStore.genesisHash
            var checked = 0
            let floor = try Int64.fetchOne(db, sql: "SELECT open_floor FROM ledger_state WHERE id = 1") ?? 1
            /// Settled and reserved sums per window, from the entries.
            var sums: [String: [String: (settled: Int64, reserved: Int64)]] = ["day": [:], "month": [:]]
            /// The same per scope window: `scope|period|key`.
            var scopeSums: [String: (settled: Int64, reserved: Int64)] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, request_id, attempt, task_kind, tier, model, created_at, day_key, month_key, est_input_tokens, est_output_tokens,
                        est_cost, critical, reason, tags, prev_hash, hash, status, actual_input_tokens, actual_output_tokens, cached_input_tokens,
                        actual_cost, usage_estimated, finished_at, over_limit, error, seal, flags, scopes, caller_key, bound_by, judged_at
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
                let expected = EntryDraft(
                    id: id, request: request, tier: Complexity(rawValue: r[4]) ?? .medium, model: r[5], createdAt: r[6], dayKey: r[7], monthKey: r[8],
                    estimatedInput: r[9], estimatedOutput: r[10], estimatedCost: r[11], critical: r[12], reason: SelectionReason(rawValue: r[13]),
                    tags: r[14], scopes: r[28], callerKey: r[29], boundBy: r[30]
                ).hash(previous: storedPrev, chain: chain)
                let tierValid = Complexity(rawValue: r[4]) != nil
                if expected != stored || !tierValid {
                    return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "its reservation fields do not match its hash"))
                }
                let status = EntryStatus(rawValue: r[17])
                let seal: String? = r[26]
                if status != .reserved {
                    let expectedSeal = LedgerStore.sealHash(
                        hash: stored, status: status, actualIn: r[18], actualOut: r[19], cached: r[20], actualCost: r[21], estimated: r[22],
                        finishedAt: r[23] ?? 0, overLimit: r[24], error: r[25], flags: r[27], judgedAt: r[31], chain: chain)
                    if seal != expectedSeal {
                        return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "its \(status) fields do not match its seal"))
                    }
                } else if seal != nil {
                    return .init(entriesChecked: checked, headHash: prev, firstProblem: .init(kind: .edited, entryID: id, detail: "an open reservation carries a seal"))
                } else if id < floor {
                    return .init(
                        entriesChecked: checked, headHash: prev,
                        firstProblem: .init(kind: .openFloor, entryID: id, detail: "it is open but below the recorded floor \(floor) of open reservations"))
                }
                // Settled entries count their cost; expired ones what they were charged at expiry (nothing before v3).
                let settled: Int64 = status == .settled || status == .expired ? (r[21] ?? 0) : 0
                let reserved: Int64 = status == .reserved ? r[11] : 0
                if settled != 0 || reserved != 0 {
                    for (period, key) in [("day", r[7] as String), ("month", r[8] as String)] {
                        let old = sums[period]![key] ?? (0, 0)
                        sums[period]![key] = (old.settled + settled, old.reserved + reserved)
                        let scopes: String = r[28]
                        for scope in scopes.split(separator: "\n") {
                            let k = "\(scope)|\(period)|\(key)"
                            let o = scopeSums[k] ?? (0, 0)
                            scopeSums[k] = (o.settled + settled, o.reserved + reserved)
                        }
                    }
                }
                prev = stored
            }
            // Totals: every window's running totals equal the sums of its entries (a window no entry reaches sums to 0).
            let windows = try Row.fetchAll(db, sql: "SELECT period, key, settled, reserved FROM budget_window ORDER BY period, key")
            for w in windows {
                let period: String = w[0], key: String = w[1]
                let sum = sums[period]?.removeValue(forKey: key) ?? (0, 0)
                if (w[2] as Int64) != sum.settled || (w[3] as Int64) != sum.reserved {
                    return .init(
                        entriesChecked: checked, headHash: prev,
                        firstProblem: .init(
                            kind: .totalsMismatch, entryID: nil,
                            detail: "\(period) \(key): totals say settled \(MicroDollars(micros: w[2])) reserved \(MicroDollars(micros: w[3])), entries sum to settled \(MicroDollars(micros: sum.settled)) reserved \(MicroDollars(micros: sum.reserved))"))
                }
            }
            for w in try Row.fetchAll(db, sql: "SELECT scope, period, key, settled, reserved FROM scope_window ORDER BY scope, period, key") {
                let scope: String = w[0], period: String = w[1], key: String = w[2]
                let sum = scopeSums.removeValue(forKey: "\(scope)|\(period)|\(key)") ?? (0, 0)
                if (w[3] as Int64) != sum.settled || (w[4] as Int64) != sum.reserved {
                    return .init(
                        entriesChecked: checked, headHash: prev,
                        firstProblem: .init(
                            kind: .totalsMismatch, entryID: nil,
                            detail: "scope \(scope) \(period) \(key): totals say settled \(MicroDollars(micros: w[3])) reserved \(MicroDollars(micros: w[4])), entries sum to settled \(MicroDollars(micros: sum.settled)) reserved \(MicroDollars(micros: sum.reserved))"))
                }
            }
            if let (k, sum) = scopeSums.min(by: { $0.key < $1.key }), sum.settled != 0 || sum.reserved != 0 {
                return .init(
                    entriesChecked: checked, headHash: prev,
                    firstProblem: .init(
                        kind: .totalsMismatch, entryID: nil,
                        detail: "scope window \(k.replacingOccurrences(of: "|", with: " ")): no window row, entries sum to settled \(MicroDollars(micros: sum.settled)) reserved \(MicroDollars(micros: sum.reserved))"))
            }
            for period in ["day", "month"] {
                if let (key, sum) = sums[period]!.min(by: { $0.key < $1.key }) {
                    return .init(
                        entriesChecked: checked, headHash: prev,
                        firstProblem: .init(
                            kind: .totalsMismatch, entryID: nil,
                            detail: "\(period) \(key): no window row, entries sum to settled \(MicroDollars(micros: sum.settled)) reserved \(MicroDollars(micros: sum.reserved))"))
                }
            }
            return .init(entriesChecked: checked, headHash: prev, firstProblem: nil)
        }
    }
}
