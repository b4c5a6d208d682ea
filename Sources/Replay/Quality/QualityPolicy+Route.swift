import ModelSelection

extension QualityPolicy {
    /// Decides a task's route. Pure: the same task, ordinal, ladder and seed always give the same route.
    ///
    /// Random draws and simulated verdicts come from a ``SeededGenerator`` on one stream per task (its ordinal in the
    /// workload), so a task's draw does not depend on how the tasks before it were routed. A policy that needs the
    /// ladder routes by the tier map when the ladder is empty (``PolicyComparison`` refuses that case up front).
    /// - Parameters:
    ///   - task: The task.
    ///   - ordinal: The task's position in the workload, from 1.
    ///   - ladder: The workload's labelled models.
    /// - Returns: The calls to make.
    public func route(for task: WorkloadTask, ordinal: Int, ladder: QualityLadder) -> PolicyRoute {
        let models = ladder.models
        guard let weak = models.first, let strong = models.last else {
            switch rule {
            case .cheap(let m?), .strong(let m?): return .model(m)
            default: return .routed
            }
        }
        switch rule {
        case .staticTiers:
            return .routed
        case .cheap(let m):
            return .model(m ?? weak)
        case .strong(let m):
            return .model(m ?? strong)
        case .random(let ppm):
            var random = SeededGenerator(seed: seed ^ Self.randomSalt, stream: UInt64(truncatingIfNeeded: ordinal))
            return .model(Int(random.uniform(below: 1_000_000)) < ppm ? strong : weak)
        case .oracle:
            return .model(Self.oracleChoice(task, ladder: ladder) ?? weak)
        case .cascade(let verifier):
            var random = SeededGenerator(seed: seed ^ Self.cascadeSalt, stream: UInt64(truncatingIfNeeded: ordinal))
            let accepts = models.map { m in
                // One draw per step, always, so a step's verdict does not depend on the steps before it.
                random.unitDouble() < verifier.acceptance(correct: task.outcomes[m]?.correct, baseRate: ladder.baseRate(of: m))
            }
            return .cascade(steps: models, accepts: accepts)
        case .council:
            return .council(models)
        }
    }

    /// The oracle's model for a task: the cheapest (at this task's tokens) among the ladder models whose label says
    /// correct; when none is correct, the cheapest labelled one; `nil` when no ladder model has a label.
    static func oracleChoice(_ task: WorkloadTask, ladder: QualityLadder) -> ModelID? {
        let labelled = ladder.models.filter { task.outcomes[$0] != nil }
        let right = labelled.filter { task.outcomes[$0]?.correct == true }
        let pool = right.isEmpty ? labelled : right
        // Ladder order breaks ties; a model whose cost cannot be computed sorts last.
        return pool.enumerated().min { a, b in
            let ca = ladder.cost(of: a.element, on: task) ?? .max, cb = ladder.cost(of: b.element, on: task) ?? .max
            return ca != cb ? ca < cb : a.offset < b.offset
        }?.element
    }

    static let randomSalt: UInt64 = 0x7261_6E64_6F6D_0001
    static let cascadeSalt: UInt64 = 0x6361_7363_6164_0002
}
