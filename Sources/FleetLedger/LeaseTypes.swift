public import Foundation
public import ModelSelection
public import SpendLedger

/// A slice of a budget a host holds: room in the global day and month windows and in those of one set of scopes,
/// taken from PostgreSQL in one transaction, spent locally, and given back (or charged, if the host dies) at its end.
public struct LeaseGrant: Sendable, Hashable, Codable {
    /// The lease's id on the server; `nil` when every window it covers is unlimited (nothing to hold).
    public var id: Int64?
    /// The scopes it covers (sorted; empty: the global windows only).
    public var scopes: [String]
    /// The day window.
    public var dayKey: String
    /// The month window.
    public var monthKey: String
    /// The room granted, in micro-dollars (`Int64.max` for an unlimited lease).
    public var granted: Int64
    /// When the server expires it unless renewed (µs since 1970).
    public var expiresAt: Int64
}

/// A call a host ran against a lease (or journaled while the server was away), as it is written to the ledger.
struct LocalCall: Sendable, Hashable, Codable {
    /// `HOST:SEQ`, unique in the ledger: a call is written once however often a flush is retried.
    var origin: String
    var requestID: String
    var attempt: Int
    var taskKind: String?
    var tags: String
    var callerKey: String?
    var tier: String
    var model: String
    var createdAt: Int64
    var dayKey: String
    var monthKey: String
    var estIn: Int64
    var estOut: Int64
    var estCost: Int64
    var critical: Bool
    var reason: String
    var scopes: [String]
    var boundBy: String?
    var configID: Int64?
    var status: String
    var finishedAt: Int64?
    var actualIn: Int64?
    var actualOut: Int64?
    var cached: Int64?
    var actualCost: Int64?
    var estimated: Bool
    var error: String?
    var flags: Int64
    /// The lease it was held against; `nil` for a critical call or an unlimited one.
    var leaseID: Int64?

    var entryStatus: EntryStatus { EntryStatus(rawValue: status) }

    /// What the windows' settled totals gain when it is written.
    var charge: Int64 { entryStatus == .settled || entryStatus == .expired ? (actualCost ?? 0) : 0 }

    var draft: EntryDraft {
        EntryDraft(
            id: 0, request: ReservationRequest(requestID: requestID, attempt: attempt, taskKind: taskKind), tier: Complexity(rawValue: tier) ?? .medium,
            model: model, createdAt: createdAt, dayKey: dayKey, monthKey: monthKey, estimatedInput: Int(estIn), estimatedOutput: Int(estOut),
            estimatedCost: estCost, critical: critical, reason: SelectionReason(rawValue: reason), tags: tags, scopes: scopes.joined(separator: "\n"),
            callerKey: callerKey, boundBy: boundBy, configID: configID)
    }
}

/// What taking a lease gave.
enum LeaseAcquisition: Sendable {
    /// Room was leased for the selection (its estimate fits the grant).
    case leased(LeaseGrant, Selection, BudgetSnapshot, configID: Int64?)
    /// Nothing fit: the refusal was recorded on the server with that entry id.
    case refused(Selection, BudgetSnapshot, entryID: Int64)
}

/// A lease as a flush found it on the server.
struct LeaseState: Sendable, Hashable {
    var id: Int64
    var status: String
    var consumed: Int64
    var expiresAt: Int64
}
