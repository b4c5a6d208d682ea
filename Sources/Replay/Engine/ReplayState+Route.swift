import ModelSelection
import SpendLedger

extension ReplayState {
    /// Makes a task's calls as its route says, and grades the answer kept.
    ///
    /// - `.routed`: one call down the tier's chain.
    /// - `.model`: one call pinned to the model (refused rather than moved when the budget is short).
    /// - `.cascade`: as ``BATS/Router/cascade(_:_:logger:)`` runs it live: each step pinned to its model and charged;
    ///   a step whose verdict accepts ends it; a step the budget refuses ends it with the answer so far (none: the
    ///   task is refused); a step whose provider fails is passed over.
    /// - `.council`: every seat called in order, each pinned and charged; a seat the budget refuses is left out (the
    ///   replay reserves seats one at a time, not as one unit). The majority grade of the answering seats wins, a tie
    ///   going to the first answering seat's (as a live council's tie goes to the earliest seat); one unlabelled
    ///   answering seat makes the council's answer unlabelled. All wrong answers count as one answer.
    mutating func run(
        _ route: PolicyRoute, task t: WorkloadTask, profile: TaskProfile, requestID: String, tierGroup: inout ReplayReport.Group,
        ops: inout some ReplayLedgerOps
    ) throws -> TaskAnswer {
        func pinned(_ model: ModelID) -> TaskProfile {
            var p = profile
            p.model = model
            return p
        }
        switch route {
        case .routed, .model:
            var p = profile
            if case .model(let m) = route { p.model = m }
            switch try call(t, profile: p, requestID: requestID, tierGroup: &tierGroup, ops: &ops) {
            case .answered(let model): return .answered(.of(model, on: t))
            case .refused(let binding): return .refused(binding)
            case .failed: return .failed
            }
        case .cascade(let steps, let accepts):
            var kept: ModelID?
            for (n, model) in steps.enumerated() {
                let result = try call(t, profile: pinned(model), requestID: "\(requestID)/step-\(n + 1)", tierGroup: &tierGroup, ops: &ops)
                switch result {
                case .answered(let m):
                    kept = m
                    if n < accepts.count, accepts[n] { return .answered(.of(m, on: t)) }
                case .refused(let binding):
                    // The budget stops the cascade: the answer so far stands, or the task is refused.
                    if let kept { return .answered(.of(kept, on: t)) }
                    return .refused(binding)
                case .failed:
                    continue
                }
            }
            if let kept { return .answered(.of(kept, on: t)) }
            return .failed
        case .council(let seats):
            var grades: [ReplayReport.Grade] = []
            var refusal: BudgetSnapshot.Binding??
            for (n, model) in seats.enumerated() {
                let result = try call(t, profile: pinned(model), requestID: "\(requestID)/member-\(n + 1)", tierGroup: &tierGroup, ops: &ops)
                switch result {
                case .answered(let m): grades.append(.of(m, on: t))
                case .refused(let binding): refusal = refusal ?? binding
                case .failed: continue
                }
            }
            guard let first = grades.first else {
                if let refusal { return .refused(refusal) }
                return .failed
            }
            return .answered(Self.majority(grades, tie: first))
        }
    }

    /// The council's grade: unlabelled if any answer is; else correct when more than half are, wrong when fewer,
    /// and `tie` on a tie.
    static func majority(_ grades: [ReplayReport.Grade], tie: ReplayReport.Grade) -> ReplayReport.Grade {
        if grades.contains(.unlabelled) { return .unlabelled }
        let right = grades.filter { $0 == .correct }.count
        if right * 2 > grades.count { return .correct }
        if right * 2 < grades.count { return .wrong }
        return tie
    }
}
