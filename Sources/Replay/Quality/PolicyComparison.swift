public import ModelSelection
import SpendLedger

/// Several policies replayed over one labelled workload, each against its own fresh in-memory ledger with the same
/// limits: cost beside quality, and which policies are on the cost-versus-quality frontier.
public struct PolicyComparison: Sendable, Hashable {
    /// One policy's replay.
    public struct Row: Sendable, Hashable {
        /// The policy.
        public var policy: QualityPolicy
        /// Its full replay report.
        public var report: ReplayReport

        /// The policy's name.
        public var name: String { policy.name }
        /// What every call cost (settled, exact).
        public var cost: MicroDollars { report.cost }
        /// The kept answers' grades.
        public var quality: ReplayReport.Quality { report.quality }
        /// Tasks the budget refused.
        public var refused: Int { report.refusals }
    }

    /// The rows, in the order the policies were given.
    public var rows: [Row]
    /// The workload's labelled models.
    public var ladder: QualityLadder

    /// Creates a comparison from rows (normally made by ``run(_:selector:configuration:ladder:workload:)``).
    /// - Parameters:
    ///   - rows: The rows.
    ///   - ladder: The workload's labelled models.
    public init(rows: [Row], ladder: QualityLadder) {
        self.rows = rows
        self.ladder = ladder
    }

    // MARK: - Running

    /// Replays each policy over the workload.
    /// - Parameters:
    ///   - policies: The policies, in the order to report them.
    ///   - selector: The tier map and catalog.
    ///   - configuration: Limits, calendar, failures and seed, the same for every policy.
    ///   - ladder: The workload's labelled models (from one pass over it).
    ///   - workload: Returns a fresh reader of the workload: a closure giving the next task, `nil` at the end. Called
    ///     once per policy.
    /// - Returns: The comparison.
    /// - Throws: ``ReplayError`` (``ReplayError/Code/invalidArgument``) for a policy naming a model that is not a chat
    ///   model of the catalog, or one that needs labelled models when the workload has none; what the workload or the
    ///   ledger throws.
    public static func run(
        _ policies: [QualityPolicy], selector: ModelSelector, configuration: ReplayEngine.Configuration, ladder: QualityLadder,
        workload: () throws -> () throws -> WorkloadTask?
    ) throws -> PolicyComparison {
        try check(policies, catalog: selector.catalog, ladder: ladder)
        var rows: [Row] = []
        for policy in policies {
            let ledger = try SQLiteLedger.inMemory(
                configuration: .init(limits: configuration.limits, calendar: configuration.calendar, reservationTimeToLive: .seconds(3_600)))
            let engine = ReplayEngine(selector: selector, configuration: configuration, policy: policy, ladder: ladder)
            let next = try workload()
            rows.append(Row(policy: policy, report: try engine.run(next: next, into: ledger)))
        }
        return PolicyComparison(rows: rows, ladder: ladder)
    }

    /// Checks policies against the catalog and the ladder before any replay.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` naming the policy.
    public static func check(_ policies: [QualityPolicy], catalog: ModelCatalog, ladder: QualityLadder) throws(ReplayError) {
        for policy in policies {
            for m in policy.namedModels where catalog.model(m)?.kind != .chat {
                let chat = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue)
                throw ReplayError(
                    .invalidArgument, "policy '\(policy.name)': '\(m)' is not a chat model of the catalog (models: \(chat.joined(separator: ", ")))")
            }
            if policy.needsLadder, ladder.models.isEmpty {
                throw ReplayError(
                    .invalidArgument,
                    "policy '\(policy.name)' routes over the workload's labelled models, and no line has an outcome label for a catalog model")
            }
        }
    }

    // MARK: - Frontier

    /// The rows on the cost-versus-quality frontier: those with a quality share that no other row beats on both axes
    /// (as cheap or cheaper and as good or better, one of them strictly). Ordered by cost. Bounds (the oracle) are
    /// left out: no router can run them.
    public var frontier: [Row] {
        let graded = rows.filter { $0.quality.share != nil && !$0.policy.isBound }
        return graded.filter { r in
            let q = r.quality.share ?? 0
            return !graded.contains { o in
                let oq = o.quality.share ?? 0
                return o.cost <= r.cost && oq >= q && (o.cost < r.cost || oq > q)
            }
        }.sorted { $0.cost != $1.cost ? $0.cost < $1.cost : ($0.quality.share ?? 0) < ($1.quality.share ?? 0) }
    }

    /// The first always-strong row, the reference of ``relativeToStrong(_:)``.
    public var strongRow: Row? { rows.first { $0.policy.isAlwaysStrong } }

    /// A row's quality and cost as shares of the always-strong row's (for display; the costs stay exact).
    /// - Parameter row: The row.
    /// - Returns: `nil` without an always-strong row, or when its quality or cost is zero.
    public func relativeToStrong(_ row: Row) -> (quality: Double, cost: Double)? {
        guard let s = strongRow, let sq = s.quality.share, sq > 0, s.cost > .zero, let q = row.quality.share else { return nil }
        return (q / sq, Double(row.cost.rawValue) / Double(s.cost.rawValue))
    }

    /// Whether any row's verdicts were simulated (a cascade).
    public var hasSimulatedVerdicts: Bool { rows.contains { $0.policy.simulatesVerdicts } }
}
