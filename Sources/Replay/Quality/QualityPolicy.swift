public import ModelSelection

/// A routing policy to compare on a labelled workload: pure and seeded, it decides each task's ``PolicyRoute``.
///
/// | Name | Route |
/// |---|---|
/// | `static` | the tier map, as live routing does (downgrades for budget, fallbacks on failure) |
/// | `cheap[:MODEL]` | always `MODEL` (default: the ladder's cheapest model) |
/// | `strong[:MODEL]` | always `MODEL` (default: the ladder's dearest model) |
/// | `random:SHARE` | the strong model with probability `SHARE`, else the weak one (one seeded draw per task) |
/// | `oracle` | the cheapest ladder model whose label says correct (for this task's tokens), else the cheapest labelled one: the bound no single-call router can pass |
/// | `cascade[:P/R]` | up the ladder from the cheapest, each answer checked by a ``SimulatedVerifier`` of precision `P` and recall `R` (default `1/1`) |
/// | `council` | every ladder model; the majority of their grades wins |
///
/// The ladder (``QualityLadder``) is the workload's labelled catalog models, cheapest first. Critical tasks follow the
/// critical rules under every policy: one call on the pinned model.
public struct QualityPolicy: Sendable, Hashable, CustomStringConvertible {
    enum Rule: Sendable, Hashable {
        case staticTiers
        case cheap(ModelID?)
        case strong(ModelID?)
        /// Parts per million of tasks sent to the strong model.
        case random(Int)
        case oracle
        case cascade(SimulatedVerifier)
        case council
    }

    let rule: Rule
    /// The seed of the policy's draws (random routing, simulated verdicts).
    public var seed: UInt64

    init(_ rule: Rule, seed: UInt64 = 0) {
        self.rule = rule
        self.seed = seed
    }

    // MARK: - Policies

    /// The tier map: today's routing.
    public static let staticTiers = QualityPolicy(.staticTiers)
    /// The oracle bound.
    public static let oracle = QualityPolicy(.oracle)
    /// A council of every ladder model.
    public static let council = QualityPolicy(.council)

    /// Always the same model.
    /// - Parameter model: The model, or `nil` for the ladder's cheapest.
    /// - Returns: The policy.
    public static func cheap(_ model: ModelID? = nil) -> QualityPolicy { QualityPolicy(.cheap(model)) }

    /// Always the same model.
    /// - Parameter model: The model, or `nil` for the ladder's dearest.
    /// - Returns: The policy.
    public static func strong(_ model: ModelID? = nil) -> QualityPolicy { QualityPolicy(.strong(model)) }

    /// The strong model for a random share of tasks, the weak one for the others.
    /// - Parameters:
    ///   - share: The share sent to the strong model, `0...1` (kept to the nearest part per million).
    ///   - seed: The seed of the draws.
    /// - Returns: The policy.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for a share out of range.
    public static func random(strongShare share: Double, seed: UInt64 = 0) throws(ReplayError) -> QualityPolicy {
        guard share.isFinite, share >= 0, share <= 1 else {
            throw ReplayError(.invalidArgument, "random routing's strong share must be in [0, 1], got \(share)")
        }
        return QualityPolicy(.random(Int((share * 1_000_000).rounded())), seed: seed)
    }

    /// Weak first, escalating up the ladder when the simulated verifier rejects an answer.
    /// - Parameters:
    ///   - verifier: The verifier's precision and recall.
    ///   - seed: The seed of the verdicts.
    /// - Returns: The policy.
    public static func cascade(_ verifier: SimulatedVerifier = .perfect, seed: UInt64 = 0) -> QualityPolicy {
        QualityPolicy(.cascade(verifier), seed: seed)
    }

    // MARK: - Names

    /// The policy as `--compare` writes it: `static`, `cheap:deepseek-v3`, `random:0.5`, `cascade:0.9/0.9`, ….
    public var name: String {
        switch rule {
        case .staticTiers: "static"
        case .cheap(let m): m.map { "cheap:\($0)" } ?? "cheap"
        case .strong(let m): m.map { "strong:\($0)" } ?? "strong"
        case .random(let ppm): "random:\(SimulatedVerifier.text(Double(ppm) / 1_000_000))"
        case .oracle: "oracle"
        case .cascade(let v): "cascade:\(v)"
        case .council: "council"
        }
    }

    /// The policy's name.
    public var description: String { name }

    /// Whether the policy's answers depend on simulated verifier verdicts (cascades).
    public var simulatesVerdicts: Bool {
        if case .cascade = rule { return true }
        return false
    }

    /// Whether the policy is a bound rather than a policy one could run (the oracle reads the labels to route): it is
    /// reported, but left off the frontier.
    public var isBound: Bool { rule == .oracle }

    /// Whether the policy always calls one given model (`strong`), for reports relative to it.
    public var isAlwaysStrong: Bool {
        if case .strong = rule { return true }
        return false
    }

    /// The models the policy names, for checking them against a catalog.
    public var namedModels: [ModelID] {
        switch rule {
        case .cheap(let m?), .strong(let m?): [m]
        default: []
        }
    }

    /// Whether the policy needs the ladder (labelled models) to route.
    public var needsLadder: Bool {
        switch rule {
        case .staticTiers, .cheap(_?), .strong(_?): false
        default: true
        }
    }

    // MARK: - Parsing

    /// Parses one policy: `static`, `cheap[:MODEL]`, `strong[:MODEL]`, `random:SHARE`, `oracle`,
    /// `cascade[:PRECISION/RECALL]` or `council`.
    /// - Parameters:
    ///   - text: The policy.
    ///   - seed: The seed of its draws.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` naming what is wrong.
    public init(parsing text: String, seed: UInt64 = 0) throws(ReplayError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        let head = parts[0], argument = parts.count > 1 ? parts[1] : nil
        func needsNoArgument(_ policy: QualityPolicy) throws(ReplayError) -> QualityPolicy {
            guard argument == nil else { throw ReplayError(.invalidArgument, "policy '\(head)' takes no argument, got '\(text)'") }
            return policy
        }
        func model() throws(ReplayError) -> ModelID? {
            guard let argument else { return nil }
            guard !argument.isEmpty else { throw ReplayError(.invalidArgument, "policy '\(head):' needs a model id after the colon") }
            return ModelID(argument)
        }
        switch head {
        case "static": self = try needsNoArgument(.staticTiers)
        case "oracle": self = try needsNoArgument(.oracle)
        case "council": self = try needsNoArgument(.council)
        case "cheap": self = .cheap(try model())
        case "strong": self = .strong(try model())
        case "random":
            guard let argument, let share = Double(argument) else {
                throw ReplayError(.invalidArgument, "policy 'random' needs the strong share, as random:0.5, got '\(text)'")
            }
            self = try .random(strongShare: share, seed: seed)
        case "cascade":
            guard let argument else {
                self = .cascade(.perfect, seed: seed)
                return
            }
            let pr = argument.split(separator: "/", omittingEmptySubsequences: false)
            guard pr.count == 2, let p = Double(pr[0].trimmingSpaces), let r = Double(pr[1].trimmingSpaces) else {
                throw ReplayError(
                    .invalidArgument, "policy 'cascade' takes PRECISION/RECALL, as cascade:0.9/0.8, got '\(text)'")
            }
            self = .cascade(try SimulatedVerifier(precision: p, recall: r), seed: seed)
        default:
            throw ReplayError(
                .invalidArgument,
                "unknown policy '\(head)' (expected static, cheap[:MODEL], strong[:MODEL], random:SHARE, oracle, cascade[:P/R], council)")
        }
    }

    /// Parses a comma-separated list of policies (`static,cheap:deepseek-v3,cascade:0.9/0.9`).
    /// - Parameters:
    ///   - text: The list.
    ///   - seed: The seed of every policy's draws.
    /// - Returns: The policies, in order.
    /// - Throws: ``ReplayError`` for an empty list, an empty item, a policy given twice or a bad policy.
    public static func list(parsing text: String, seed: UInt64 = 0) throws(ReplayError) -> [QualityPolicy] {
        var out: [QualityPolicy] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = item.trimmingSpaces
            guard !trimmed.isEmpty else { throw ReplayError(.invalidArgument, "an empty policy in '\(text)'") }
            let policy = try QualityPolicy(parsing: trimmed, seed: seed)
            guard !out.contains(where: { $0.name == policy.name }) else {
                throw ReplayError(.invalidArgument, "policy '\(policy.name)' is given twice")
            }
            out.append(policy)
        }
        guard !out.isEmpty else { throw ReplayError(.invalidArgument, "no policy given") }
        return out
    }
}
