import Foundation

/// The models BATS can route to, with their prices and the gateway margin.
///
/// The catalog is data: the package ships one (``bundled()``) and ``load(contentsOf:)`` reads a user's file,
/// so prices change without a rebuild. Every cost is computed here, in exact micro-dollars.
public struct ModelCatalog: Sendable, Hashable {
    /// The models, in file order.
    public private(set) var models: [ModelInfo]
    /// The gateway's margin over base prices in parts per million (50,000 = 5%). It applies to every cost.
    public var marginPartsPerMillion: Int64
    private var index: [ModelID: Int]

    /// Creates a catalog and checks it.
    /// - Parameters:
    ///   - models: The models; ids must be unique.
    ///   - marginPartsPerMillion: The gateway margin in parts per million (50,000 = 5%).
    /// - Throws: ``CatalogError`` when an id repeats or a value is out of range.
    public init(models: [ModelInfo], marginPartsPerMillion: Int64) throws {
        self.models = models
        self.marginPartsPerMillion = marginPartsPerMillion
        self.index = [:]
        try validate(source: "<in-memory>")
    }

    init(uncheckedModels models: [ModelInfo], margin: Int64) {
        self.models = models
        self.marginPartsPerMillion = margin
        self.index = [:]
    }

    /// Looks a model up by canonical id.
    /// - Parameter id: The canonical id.
    /// - Returns: The model, or `nil` when the catalog does not have it.
    public func model(_ id: ModelID) -> ModelInfo? { index[id].map { models[$0] } }

    /// Whether the catalog has a model.
    public func contains(_ id: ModelID) -> Bool { index[id] != nil }

    /// Finds the canonical model whose gateway id is `gatewayID`.
    public func model(gatewayID: String) -> ModelInfo? { models.first { $0.gatewayID == gatewayID } }

    // MARK: - Cost

    /// The cost of a call, margin included, rounded up to the next micro-dollar.
    ///
    /// cost = (1 + margin) × (inputTokens × input price + outputTokens × output price + images × image price).
    /// - Parameters:
    ///   - model: The model.
    ///   - inputTokens: Prompt tokens (non-negative).
    ///   - outputTokens: Completion tokens (non-negative).
    ///   - images: Generated images (image models).
    /// - Returns: The cost, saturating at `Int64.max` micro-dollars for absurd token counts.
    public func cost(of model: ModelInfo, inputTokens: Int, outputTokens: Int, images: Int = 0) -> MicroDollars {
        // Units: (µ$ per million tokens) × tokens = pico-dollars; images: µ$ × 1e6 = pico-dollars.
        let i = UInt64(max(0, inputTokens)), o = UInt64(max(0, outputTokens)), n = UInt64(max(0, images))
        let pIn = UInt64(max(0, model.inputPerMillionTokens.rawValue))
        let pOut = UInt64(max(0, model.outputPerMillionTokens.rawValue))
        let pImg = UInt64(max(0, model.perImage.rawValue))
        var pico: UInt64 = 0
        for (a, b) in [(i, pIn), (o, pOut), (n, pImg &* 1_000_000)] {
            let (p, o1) = a.multipliedReportingOverflow(by: b)
            let (s, o2) = pico.addingReportingOverflow(p)
            guard !o1, !o2 else { return MicroDollars(micros: .max) }
            pico = s
        }
        let factor = UInt64(1_000_000 + max(0, marginPartsPerMillion))
        guard let micros = MicroDollars.multiplyDivideRoundingUp(pico, factor, 1_000_000_000_000),
            micros <= UInt64(Int64.max)
        else { return MicroDollars(micros: .max) }
        return MicroDollars(micros: Int64(micros))
    }

    /// The cost of a call to the model with id `id`, or `nil` when the catalog lacks it.
    public func cost(of id: ModelID, inputTokens: Int, outputTokens: Int, images: Int = 0) -> MicroDollars? {
        model(id).map { cost(of: $0, inputTokens: inputTokens, outputTokens: outputTokens, images: images) }
    }

    // MARK: - Validation

    mutating func validate(source: String) throws {
        guard marginPartsPerMillion >= 0, marginPartsPerMillion <= 10_000_000 else {
            throw CatalogError.invalidField(source: source, field: "gateway_margin", message: "must be between 0 and 10")
        }
        guard !models.isEmpty else {
            throw CatalogError.invalidField(source: source, field: "models", message: "must list at least one model")
        }
        var index: [ModelID: Int] = [:]
        for (n, m) in models.enumerated() {
            let at = "models[\(n)]"
            guard !m.id.rawValue.isEmpty else {
                throw CatalogError.invalidField(source: source, field: "\(at).id", message: "must not be empty")
            }
            guard index[m.id] == nil else { throw CatalogError.duplicateModel(source: source, field: "\(at).id", id: m.id.rawValue) }
            guard !m.gatewayID.isEmpty else {
                throw CatalogError.invalidField(source: source, field: "\(at).gateway_id", message: "must not be empty")
            }
            for (field, price) in [("input_per_mtok", m.inputPerMillionTokens), ("output_per_mtok", m.outputPerMillionTokens), ("per_image", m.perImage)]
            where price < .zero {
                throw CatalogError.invalidField(source: source, field: "\(at).\(field)", message: "price must not be negative (\(price.decimalString))")
            }
            guard m.contextWindow > 0 else {
                throw CatalogError.invalidField(source: source, field: "\(at).context_window", message: "must be positive")
            }
            guard m.maxOutputTokens >= 0, m.kind != .chat || m.maxOutputTokens > 0 else {
                throw CatalogError.invalidField(source: source, field: "\(at).max_output_tokens", message: "must be positive for a chat model")
            }
            index[m.id] = n
        }
        self.index = index
    }
}
