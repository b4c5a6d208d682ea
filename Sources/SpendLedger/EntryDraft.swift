import GRDB
package import ModelSelection

/// A ledger entry about to be inserted: the fields its hash covers, and the ones it records besides.
package struct EntryDraft {
    package var id: Int64
    package var request: ReservationRequest
    package var tier: Complexity
    /// The model's canonical id; empty for a refusal.
    package var model: String
    package var createdAt: Int64
    package var dayKey: String
    package var monthKey: String
    package var estimatedInput: Int
    package var estimatedOutput: Int
    package var estimatedCost: Int64
    package var critical: Bool
    package var reason: SelectionReason
    /// Canonical JSON (``LedgerStore/encodeTags(_:)``).
    package var tags: String
    /// The scopes the entry counts in, `\n`-separated (empty: none).
    package var scopes: String = ""
    /// The caller key's name.
    package var callerKey: String? = nil
    /// The window that bound the selection (a downgrade or refusal for budget).
    package var boundBy: String? = nil
    // Not hashed at reservation: the status and what closes a refusal, and where the entry sits.
    package var status: EntryStatus = .reserved
    package var expiresAt: Int64?
    package var finishedAt: Int64?
    package var error: String?
    package var configID: Int64?

    package init(
        id: Int64, request: ReservationRequest, tier: Complexity, model: String, createdAt: Int64, dayKey: String, monthKey: String,
        estimatedInput: Int, estimatedOutput: Int, estimatedCost: Int64, critical: Bool, reason: SelectionReason, tags: String,
        scopes: String = "", callerKey: String? = nil, boundBy: String? = nil, configID: Int64? = nil
    ) {
        self.id = id
        self.request = request
        self.tier = tier
        self.model = model
        self.createdAt = createdAt
        self.dayKey = dayKey
        self.monthKey = monthKey
        self.estimatedInput = estimatedInput
        self.estimatedOutput = estimatedOutput
        self.estimatedCost = estimatedCost
        self.critical = critical
        self.reason = reason
        self.tags = tags
        self.scopes = scopes
        self.callerKey = callerKey
        self.boundBy = boundBy
        self.configID = configID
    }

    /// The entry's link in the chain: `e1|id|request|attempt|task|tier|model|created|day|month|estIn|estOut|estCost|critical|reason|tags|prev`,
    /// then `|scopes|callerKey|boundBy` when any is set (so entries written before scopes keep their hashes).
    package func hash(previous prevHash: String, chain: ChainHasher) -> String {
        var t = ChainText(tag: "e1")
        t.add(id)
        t.add(request.requestID)
        t.add(request.attempt)
        t.add(request.taskKind ?? "")
        t.add(tier.rawValue)
        t.add(model)
        t.add(createdAt)
        t.add(dayKey)
        t.add(monthKey)
        t.add(estimatedInput)
        t.add(estimatedOutput)
        t.add(estimatedCost)
        t.add(critical ? 1 : 0)
        t.add(reason.rawValue)
        t.add(tags)
        t.add(prevHash)
        if !scopes.isEmpty || callerKey != nil || boundBy != nil {
            t.add(scopes)
            t.add(callerKey ?? "")
            t.add(boundBy ?? "")
        }
        return t.hex(chain)
    }

    /// Inserts the entry with its chain link (and its seal, for an entry closed at once).
    func insert(_ db: Database, previous prevHash: String, hash: String, seal: String?) throws {
        let insert = try SQLiteCall(
            db,
            """
            INSERT INTO entry (id, request_id, attempt, task_kind, tier, model, created_at, finished_at, expires_at, day_key, month_key,
                est_input_tokens, est_output_tokens, est_cost, status, critical, reason, tags, error, prev_hash, hash, seal, config_id, scopes, caller_key, bound_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, id)
        insert.bind(2, request.requestID)
        insert.bind(3, request.attempt)
        insert.bind(4, request.taskKind)
        insert.bind(5, tier.rawValue)
        insert.bind(6, model)
        insert.bind(7, createdAt)
        insert.bind(8, finishedAt)
        insert.bind(9, expiresAt)
        insert.bind(10, dayKey)
        insert.bind(11, monthKey)
        insert.bind(12, estimatedInput)
        insert.bind(13, estimatedOutput)
        insert.bind(14, estimatedCost)
        insert.bind(15, status.rawValue)
        insert.bind(16, critical)
        insert.bind(17, reason.rawValue)
        insert.bind(18, tags)
        insert.bind(19, error)
        insert.bind(20, prevHash)
        insert.bind(21, hash)
        insert.bind(22, seal)
        insert.bind(23, configID)
        insert.bind(24, scopes)
        insert.bind(25, callerKey)
        insert.bind(26, boundBy)
        try insert.run()
    }
}
