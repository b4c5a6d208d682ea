public import ModelSelection

/// The models a workload's outcome labels cover, cheapest first, with how often each one is correct.
///
/// Built by one pass over the workload (``add(_:)``) against a catalog: labels of models the catalog lacks (or that
/// are not chat models) are left out, since they cannot be priced or called. Models are ordered by list price, input
/// plus output price per million tokens, ties by id. The ladder is what the comparison policies route over: its first
/// model is the weak one, its last the strong one, a cascade climbs it and a council seats all of it.
public struct QualityLadder: Sendable, Hashable {
    /// One labelled model.
    public struct Rung: Sendable, Hashable {
        /// The model.
        public var model: ModelID
        /// Tasks with a label for it.
        public var labelled = 0
        /// Of those, labels that say correct.
        public var correct = 0

        /// The share of its labels that say correct (`nil` when it has none).
        public var share: Double? { labelled == 0 ? nil : Double(correct) / Double(labelled) }
    }

    /// The catalog the models are priced in.
    public let catalog: ModelCatalog
    /// The labelled models, cheapest first.
    public private(set) var rungs: [Rung] = []
    /// Tasks read.
    public private(set) var tasks = 0
    /// Tasks with a label for at least one model of the ladder.
    public private(set) var labelledTasks = 0
    /// Tasks on which at least one model of the ladder is correct: the oracle's correct answers.
    public private(set) var anyCorrect = 0

    /// Creates an empty ladder.
    /// - Parameter catalog: The catalog that prices the models.
    public init(catalog: ModelCatalog) {
        self.catalog = catalog
    }

    /// Creates a ladder from tasks.
    /// - Parameters:
    ///   - tasks: The workload's tasks.
    ///   - catalog: The catalog that prices the models.
    public init(tasks: some Sequence<WorkloadTask>, catalog: ModelCatalog) {
        self.init(catalog: catalog)
        for task in tasks { add(task) }
    }

    /// Counts one task's labels.
    /// - Parameter task: The task.
    public mutating func add(_ task: WorkloadTask) {
        tasks += 1
        var any = false
        var right = false
        for (model, label) in task.outcomes {
            guard let info = catalog.model(model), info.kind == .chat else { continue }
            let k: Int
            if let found = rungs.firstIndex(where: { $0.model == model }) {
                k = found
            } else {
                var sorted = rungs + [Rung(model: model)]
                sorted.sort { order($0.model, $1.model) }
                rungs = sorted
                k = rungs.firstIndex { $0.model == model } ?? 0
            }
            rungs[k].labelled += 1
            if label.correct { rungs[k].correct += 1 }
            any = true
            right = right || label.correct
        }
        if any { labelledTasks += 1 }
        if right { anyCorrect += 1 }
    }

    private func order(_ a: ModelID, _ b: ModelID) -> Bool {
        let pa = price(a), pb = price(b)
        return pa != pb ? pa < pb : a < b
    }

    private func price(_ id: ModelID) -> Int128 {
        guard let m = catalog.model(id) else { return .max }
        return Int128(m.inputPerMillionTokens.rawValue) + Int128(m.outputPerMillionTokens.rawValue)
    }

    /// The labelled models, cheapest first.
    public var models: [ModelID] { rungs.map(\.model) }
    /// The cheapest labelled model.
    public var weak: ModelID? { rungs.first?.model }
    /// The dearest labelled model.
    public var strong: ModelID? { rungs.last?.model }
    /// The share of labelled tasks on which some ladder model is correct: the oracle bound (`nil` without labels).
    public var oracleShare: Double? { labelledTasks == 0 ? nil : Double(anyCorrect) / Double(labelledTasks) }

    /// The share of a model's labels that say correct.
    /// - Parameter model: The model.
    /// - Returns: Its base rate, or `nil` when it has no label.
    public func baseRate(of model: ModelID) -> Double? {
        rungs.first { $0.model == model }?.share
    }

    /// What one call of `model` on `task` costs at the catalog's prices, with the label's output tokens.
    /// - Parameters:
    ///   - model: The model.
    ///   - task: The task.
    /// - Returns: The cost, or `nil` when the model is not in the catalog or the cost does not fit.
    public func cost(of model: ModelID, on task: WorkloadTask) -> MicroDollars? {
        catalog.cost(of: model, inputTokens: task.inputTokens, outputTokens: task.outputTokens(on: model))
    }
}
