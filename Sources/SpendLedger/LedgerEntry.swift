public import Foundation
public import ModelSelection

/// The life of one reservation.
public struct EntryStatus: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The status name as stored.
    public var rawValue: String
    /// Creates a status.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Held: the call is in flight.
    public static let reserved = EntryStatus(rawValue: "reserved")
    /// Finished: the actual cost is recorded.
    public static let settled = EntryStatus(rawValue: "settled")
    /// Freed: the call failed or was cancelled and cost nothing.
    public static let released = EntryStatus(rawValue: "released")
    /// Open past its time-to-live (its process stopped, or its settlement could not be written): charged at its
    /// reserved estimate, marked estimated (``EntryFlags/chargedAtExpiry``). A late settlement replaces the estimate
    /// with the actual cost, once; a late release refunds it.
    public static let expired = EntryStatus(rawValue: "expired")
    /// Nothing fit the budget: no call was made.
    public static let refused = EntryStatus(rawValue: "refused")
    /// The status name.
    public var description: String { rawValue }
}

/// Facts about how an entry was settled that an audit should see.
public struct EntryFlags: OptionSet, Sendable, Hashable, Codable {
    /// The flags' bits as stored.
    public var rawValue: Int64
    /// Creates flags from stored bits.
    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// The actual cost passed the reserved estimate: the provider billed beyond the limits it was sent
    /// (`max_tokens`, the prompt's upper bound). The actual cost is recorded, since it is what was billed.
    public static let overReservation = EntryFlags(rawValue: 1)
    /// The reported usage was missing, malformed or implausible; the call was settled from its reserved estimate.
    public static let usageSuspect = EntryFlags(rawValue: 2)
    /// The reservation outlived its time-to-live and was charged at its estimate.
    public static let chargedAtExpiry = EntryFlags(rawValue: 4)
    /// Settled after it had expired: the actual cost replaced the estimate charged at expiry.
    public static let settledAfterExpiry = EntryFlags(rawValue: 8)
    /// The provider answered but the reply was lost (too large, cut or timed out mid-body): settled from the estimate.
    public static let replyLost = EntryFlags(rawValue: 16)
}

/// One row of the ledger: a reservation and what became of it.
public struct LedgerEntry: Sendable, Hashable, Codable {
    /// The entry's id (increasing).
    public var id: Int64
    /// The caller's request id; every attempt of one routed call shares it.
    public var requestID: String
    /// 1 for the first model tried, 2 for the next after a provider failure, and so on.
    public var attempt: Int
    /// The task kind, when given.
    public var taskKind: String?
    /// The tier.
    public var tier: Complexity
    /// The model reserved for (canonical id); empty for a refusal.
    public var model: String
    /// When the reservation was made.
    public var createdAt: Date
    /// When it was settled, released or expired.
    public var finishedAt: Date?
    /// The day window the cost counts in.
    public var dayKey: String
    /// The month window the cost counts in.
    public var monthKey: String
    /// Prompt tokens estimated at reservation.
    public var estimatedInputTokens: Int
    /// Completion cap reserved for.
    public var estimatedOutputTokens: Int
    /// The reserved (estimated) cost.
    public var estimatedCost: MicroDollars
    /// Prompt tokens reported (or estimated, see ``usageEstimated``).
    public var actualInputTokens: Int?
    /// Completion tokens reported (or estimated).
    public var actualOutputTokens: Int?
    /// Cached prompt tokens reported.
    public var cachedInputTokens: Int?
    /// The settled cost.
    public var actualCost: MicroDollars?
    /// The status.
    public var status: EntryStatus
    /// Whether this was a critical call.
    public var critical: Bool
    /// For a critical call: it pushed a window over its limit.
    public var overLimit: Bool
    /// The settlement's usage was estimated (a stream without usage, a cancelled call).
    public var usageEstimated: Bool
    /// How the entry was settled: over its reservation, from suspect usage, charged at expiry, …
    public var flags: EntryFlags
    /// Why the model was chosen.
    public var reason: SelectionReason
    /// Free-form tags (agent, symbol, …).
    public var tags: [String: String]
    /// The error that ended the attempt, or for a flagged settlement, why it was flagged.
    public var error: String?
    /// The id of the recorded limits (``RecordedLimits/id``) in force when the reservation was made; `nil` for entries
    /// written before BATS recorded it.
    public var limitsID: Int64?
}

/// What a caller asks the ledger to reserve for.
public struct ReservationRequest: Sendable, Hashable {
    /// The caller's request id.
    public var requestID: String
    /// The attempt number (1 first).
    public var attempt: Int
    /// The task kind, if any.
    public var taskKind: String?
    /// Tags recorded with the entry.
    public var tags: [String: String]
    /// How long the call may take before it is settled (its gateway deadline plus the settle deadline). The
    /// reservation does not expire before `max(time-to-live, callDeadline)`, so a call still in flight is never
    /// taken for abandoned.
    public var callDeadline: Duration?
    /// The call's tier, when known before selection, for scopes on a tier (the router always gives it).
    public var tier: Complexity?
    /// The name of the caller key the call came with (never its secret), for scopes on a key.
    public var callerKey: String?

    /// The call as scopes see it.
    public var scopedCall: ScopedCall { ScopedCall(tags: tags, taskKind: taskKind, tier: tier, callerKey: callerKey) }

    /// Creates a request.
    public init(
        requestID: String, attempt: Int = 1, taskKind: String? = nil, tags: [String: String] = [:], callDeadline: Duration? = nil,
        tier: Complexity? = nil, callerKey: String? = nil
    ) {
        self.tier = tier
        self.callerKey = callerKey
        self.requestID = requestID
        self.attempt = attempt
        self.taskKind = taskKind
        self.tags = tags
        self.callDeadline = callDeadline
    }
}

/// A reservation the ledger made, to be settled or released.
public struct Reservation: Sendable, Hashable {
    /// The entry id.
    public var id: Int64
    /// The model reserved for (a reservation always has one; only a refusal's selection has none).
    public var model: ModelID
    /// The selection it was made for.
    public var selection: Selection
    /// The budget as it was just before the reservation.
    public var snapshot: BudgetSnapshot
    /// The day window the cost counts in.
    public var dayKey: String
    /// The month window.
    public var monthKey: String
    /// The scopes the reservation counts in, by name (empty when it belongs to none).
    public var scopes: [String] = []

    /// Creates a reservation (for ledgers other than ``SQLiteLedger``).
    public init(id: Int64, model: ModelID, selection: Selection, snapshot: BudgetSnapshot, dayKey: String, monthKey: String, scopes: [String] = []) {
        self.id = id
        self.model = model
        self.selection = selection
        self.snapshot = snapshot
        self.dayKey = dayKey
        self.monthKey = monthKey
        self.scopes = scopes
    }
}

/// The result of asking for a reservation: a reservation, or a refusal that was recorded.
public enum ReservationOutcome: Sendable, Hashable {
    /// A model was reserved for.
    case reserved(Reservation)
    /// Nothing fit; the refusal was recorded as an entry with that id.
    case refused(Selection, snapshot: BudgetSnapshot, entryID: Int64)
}

/// What settling a reservation recorded.
public struct SettlementReceipt: Sendable, Hashable {
    /// The settled entry's id.
    public var entryID: Int64
    /// The cost recorded.
    public var cost: MicroDollars
    /// Whether the usage was estimated.
    public var usageEstimated: Bool
    /// For a critical call: a window's settled spend passed its limit.
    public var overLimit: Bool
    /// What the ledger flagged: ``EntryFlags/overReservation`` when the cost passed the reserved estimate,
    /// ``EntryFlags/settledAfterExpiry`` for a late settlement, and the settlement's own flags.
    public var flags: EntryFlags = []
    /// The global day window the call counts in, right after this settlement (in the same transaction), when the
    /// ledger reports it; `nil` otherwise. It spares a caller who shows what is left another read of the ledger.
    public var daily: BudgetSnapshot.Window? = nil

    /// Creates a receipt (for ledgers other than ``SQLiteLedger``).
    public init(
        entryID: Int64, cost: MicroDollars, usageEstimated: Bool, overLimit: Bool, flags: EntryFlags = [], daily: BudgetSnapshot.Window? = nil
    ) {
        self.entryID = entryID
        self.cost = cost
        self.usageEstimated = usageEstimated
        self.overLimit = overLimit
        self.flags = flags
        self.daily = daily
    }
}

/// What a call actually used, to settle its reservation.
public struct Settlement: Sendable, Hashable {
    /// The most a single call may cost ($1,000,000,000): the ledger refuses more (``LedgerError/Kind/invalidAmount``)
    /// as a pricing or usage error, so that no window total can come near 64-bit overflow.
    public static let maxCost = MicroDollars(micros: 1_000_000_000_000_000)

    /// Prompt tokens.
    public var inputTokens: Int
    /// Completion tokens.
    public var outputTokens: Int
    /// Cached prompt tokens, if reported.
    public var cachedInputTokens: Int?
    /// The cost.
    public var cost: MicroDollars
    /// Whether the tokens were estimated rather than reported.
    public var estimated: Bool
    /// Flags the caller knows of (``EntryFlags/usageSuspect``, ``EntryFlags/replyLost``); the ledger adds its own.
    public var flags: EntryFlags
    /// Why the settlement is flagged, recorded in the entry's ``LedgerEntry/error`` (no prompt, no key).
    public var note: String?

    /// Creates a settlement.
    public init(
        inputTokens: Int, outputTokens: Int, cachedInputTokens: Int? = nil, cost: MicroDollars, estimated: Bool = false,
        flags: EntryFlags = [], note: String? = nil
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cost = cost
        self.estimated = estimated
        self.flags = flags
        self.note = note
    }
}
