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
    /// cost = (1 + margin) × (inputTokens × input price + outputTokens × output price + images × image price),
    /// computed exactly in 128-bit integers.
    /// - Parameters:
    ///   - model: The model.
    ///   - inputTokens: Prompt tokens (non-negative).
    ///   - outputTokens: Completion tokens (non-negative).
    ///   - images: Generated images (image models; non-negative).
    /// - Returns: The cost.
    /// - Throws: ``MoneyError/negativeQuantity(model:operands:)`` when a count is negative;
    ///   ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/cost``) when the cost does not fit in
    ///   64-bit micro-dollars (about $9.2 trillion).
    public func cost(of model: ModelInfo, inputTokens: Int, outputTokens: Int, images: Int = 0) throws(MoneyError) -> MicroDollars {
        func operands() -> [String] { ["input_tokens=\(inputTokens)", "output_tokens=\(outputTokens)", "images=\(images)"] }
        guard inputTokens >= 0, outputTokens >= 0, images >= 0 else { throw .negativeQuantity(model: model.id, operands: operands()) }
        // Units: (µ$ per million tokens) × tokens = pico-dollars; images: µ$ × 1e6 = pico-dollars.
        // micros = ceil(pico × (1e6 + margin) / 1e12), all in 128 bits with every step checked.
        func price(_ p: MicroDollars) -> UInt128 { UInt128(Swift.max(0, p.rawValue)) }
        var pico: UInt128 = 0
        func add(_ count: Int, _ rate: UInt128) -> Bool {
            let (p, o1) = UInt128(count).multipliedReportingOverflow(by: rate)
            let (s, o2) = pico.addingReportingOverflow(p)
            pico = s
            return !o1 && !o2
        }
        guard add(inputTokens, price(model.inputPerMillionTokens)), add(outputTokens, price(model.outputPerMillionTokens)),
            add(images, price(model.perImage) * 1_000_000)
        else { throw .overflow(.cost, operands: operands(), model: model.id) }
        let factor = UInt128(1_000_000) + UInt128(Swift.max(0, marginPartsPerMillion))
        let (scaled, o) = pico.multipliedReportingOverflow(by: factor)
        guard !o else { throw .overflow(.cost, operands: operands(), model: model.id) }
        let unit: UInt128 = 1_000_000_000_000
        let micros = scaled / unit + (scaled % unit == 0 ? 0 : 1)
        guard micros <= UInt128(Int64.max) else { throw .overflow(.cost, operands: operands(), model: model.id) }
        return MicroDollars(micros: Int64(micros))
    }

    /// The cost of a call to the model with id `id`, a convenience for lookups: `nil` when the catalog lacks the model
    /// **or** the cost cannot be computed (a negative count, or a cost past 64-bit micro-dollars).
    ///
    /// It never saturates or traps. Code that records or budgets money uses
    /// ``cost(of:inputTokens:outputTokens:images:)-(ModelInfo,_,_,_)``, which says why in a ``MoneyError``.
    /// - Returns: The cost, or `nil`.
    public func cost(of id: ModelID, inputTokens: Int, outputTokens: Int, images: Int = 0) -> MicroDollars? {
        guard let m = model(id) else { return nil }
        return try? cost(of: m, inputTokens: inputTokens, outputTokens: outputTokens, images: images)
    }

    // MARK: - Limits

    // The messages of the checks in validate(source:) spell out both ceilings; keep them in step.

    /// The highest price per million tokens (input or output) a catalog may give: $1,000,000.
    ///
    /// The dearest model on sale costs well under $1,000 per million tokens; a price above this ceiling is a typo
    /// (a price in micro-dollars written as dollars) and is refused at load.
    public static let maxPricePerMillionTokens = MicroDollars.dollars(1_000_000)
    /// The highest price per generated image a catalog may give: $10,000.
    public static let maxPricePerImage = MicroDollars.dollars(10_000)

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
            let prices = [
                ("input_per_mtok", m.inputPerMillionTokens, Self.maxPricePerMillionTokens, "per million tokens"),
                ("output_per_mtok", m.outputPerMillionTokens, Self.maxPricePerMillionTokens, "per million tokens"),
                ("per_image", m.perImage, Self.maxPricePerImage, "per image"),
            ]
            for (field, price, ceiling, unit) in prices {
                guard price >= .zero else {
                    throw CatalogError.invalidField(source: source, field: "\(at).\(field)", message: "price must not be negative (\(price.decimalString))")
                }
                guard price <= ceiling else {
                    throw CatalogError.invalidField(
                        source: source, field: "\(at).\(field)", message: "price of \(price.formatted()) \(unit) is absurd (the limit is \(unit == "per image" ? "$10,000" : "$1,000,000") \(unit))")
                }
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
