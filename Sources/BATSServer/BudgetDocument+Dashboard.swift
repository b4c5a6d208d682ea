import Foundation
public import Replay
public import SpendLedger

extension BudgetDocument {
    /// Spend in one period by model, tier and agent (the `agent` tag; calls without it under `(none)`).
    public struct Breakdown: Encodable, Sendable {
        /// Rows by model.
        public var byModel: [Row]
        /// Rows by tier.
        public var byTier: [Row]
        /// Rows by the `agent` tag.
        public var byAgent: [Row]
        /// The period's total.
        public var total: Row

        enum CodingKeys: String, CodingKey { case byModel = "by_model", byTier = "by_tier", byAgent = "by_agent", total }
    }

    /// One group's spend: what was charged (settled, plus expired reservations at their estimate), of it critical, calls
    /// and refusals.
    public struct Row: Encodable, Sendable {
        /// The model, tier or agent.
        public var group: String
        /// Calls that ran.
        public var calls: Int
        /// Budget refusals.
        public var refused: Int
        /// What was charged, in dollars.
        public var spent: JSONDollars
        /// Of it, critical calls.
        public var critical: JSONDollars

        /// A row of an audit.
        public init(_ r: AuditRow) {
            group = r.group
            calls = r.calls
            refused = r.refused
            spent = JSONDollars(r.charged)
            critical = JSONDollars(r.criticalSpend)
        }

        enum CodingKeys: String, CodingKey { case group, calls, refused, spent = "spent_usd", critical = "critical_usd" }
    }

    /// One day of the month: what was charged and the daily limit then in force.
    public struct Day: Encodable, Sendable {
        /// The day key (`2026-12-03`).
        public var date: String
        /// What was charged.
        public var spent: JSONDollars
        /// By model.
        public var byModel: [String: JSONDollars]

        enum CodingKeys: String, CodingKey { case date, spent = "spent_usd", byModel = "by_model" }
    }

    /// A refusal or a downgrade.
    public struct Decision: Encodable, Sendable {
        /// The ledger entry.
        public var id: Int64
        /// When it was decided (RFC 3339).
        public var time: String
        /// `refused` or the selection reason (`downgraded-for-budget`, `downgraded-for-provider-failure`).
        public var decision: String
        /// The request id.
        public var requestID: String
        /// The tier.
        public var tier: String
        /// The model (empty for a refusal).
        public var model: String
        /// The task kind.
        public var task: String?
        /// The agent tag.
        public var agent: String?
        /// The refusal's or downgrade's reason text.
        public var detail: String?

        /// A decision of a ledger entry.
        public init(_ e: LedgerEntry) {
            id = e.id
            time = ISO8601DateFormatter().string(from: e.createdAt)
            decision = e.status == .refused ? "refused" : e.reason.rawValue
            requestID = e.requestID
            tier = e.tier.rawValue
            model = e.status == .refused ? "" : e.model
            task = e.taskKind
            agent = e.tags["agent"]
            detail = e.error
        }

        enum CodingKeys: String, CodingKey { case id, time, decision, requestID = "request_id", tier, model, task, agent, detail }
    }
}
