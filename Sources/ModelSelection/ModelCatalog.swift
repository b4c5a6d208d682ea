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

    /// The cost of one call with no cache hit, margin and per-request fee included, rounded up to the next micro-dollar.
    ///
    /// cost = (1 + margin) × (inputTokens × input price + outputTokens × output price + images × image price
    /// + per-request fee), computed exactly in 128-bit integers. Every prompt token is priced at the full input rate;
    /// ``cost(of:_:)`` prices cache reads and writes at their own rates.
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
        try price(
            model, BillableUsage(inputTokens: inputTokens, outputTokens: outputTokens, images: images),
            operands: ["input_tokens=\(inputTokens)", "output_tokens=\(outputTokens)", "images=\(images)"])
    }

    /// The cost of the billable parts of a call, each at its own rate, margin included, rounded up to the next
    /// micro-dollar.
    ///
    /// cost = (1 + margin) × (input × input price + cache reads × cached price + cache writes × cache-write price
    /// + output × output price + images × image price + requests × per-request fee), computed exactly in 128-bit
    /// integers, rounded once. A model without a cached or cache-write price prices those tokens at its input price.
    /// The margin is the model's own (``ModelInfo/marginPartsPerMillion``) when it has one, else the catalog's.
    /// - Parameters:
    ///   - model: The model.
    ///   - usage: The parts (non-negative counts).
    /// - Returns: The cost.
    /// - Throws: ``MoneyError/negativeQuantity(model:operands:)`` when a count is negative;
    ///   ``MoneyError/overflow(_:operands:model:)`` (``MoneyError/Operation/cost``) when the cost does not fit in
    ///   64-bit micro-dollars.
    public func cost(of model: ModelInfo, _ usage: BillableUsage) throws(MoneyError) -> MicroDollars {
        try price(model, usage, operands: usage.operands)
    }

    /// The margin applied to a model's costs, in parts per million: its own, else the catalog's.
    /// - Parameter model: The model.
    /// - Returns: The margin.
    public func margin(for model: ModelInfo) -> Int64 { model.marginPartsPerMillion ?? marginPartsPerMillion }

    private func price(_ model: ModelInfo, _ u: BillableUsage, operands: @autoclosure () -> [String]) throws(MoneyError) -> MicroDollars {
        let counts = [u.inputTokens, u.cacheReadTokens, u.cacheWriteTokens, u.outputTokens, u.images, u.requests]
        guard counts.allSatisfy({ $0 >= 0 }) else { throw .negativeQuantity(model: model.id, operands: operands()) }
        // Units: (µ$ per million tokens) × tokens = pico-dollars; images and requests: µ$ × 1e6 = pico-dollars.
        // micros = ceil(pico × (1e6 + margin) / 1e12), all in 128 bits with every step checked.
        func rate(_ p: MicroDollars) -> UInt128 { UInt128(Swift.max(0, p.rawValue)) }
        let input = rate(model.inputPerMillionTokens)
        let terms: [(Int, UInt128)] = [
            (u.inputTokens, input),
            (u.cacheReadTokens, model.cachedInputPerMillionTokens.map(rate) ?? input),
            (u.cacheWriteTokens, model.cacheWritePerMillionTokens.map(rate) ?? input),
            (u.outputTokens, rate(model.outputPerMillionTokens)),
            (u.images, rate(model.perImage) * 1_000_000),
            (u.requests, rate(model.perRequest) * 1_000_000),
        ]
        var pico: UInt128 = 0
        for (count, r) in terms {
            let (p, o1) = UInt128(count).multipliedReportingOverflow(by: r)
            let (s, o2) = pico.addingReportingOverflow(p)
            guard !o1, !o2 else { throw .overflow(.cost, operands: operands(), model: model.id) }
            pico = s
        }
        guard let micros = Self.micros(pico: pico, margin: margin(for: model), roundingUp: true) else {
            throw .overflow(.cost, operands: operands(), model: model.id)
        }
        return micros
    }

    /// pico-dollars × (1 + margin), in micro-dollars, rounded up or down; `nil` when it does not fit.
    static func micros(pico: UInt128, margin: Int64, roundingUp: Bool) -> MicroDollars? {
        let factor = UInt128(1_000_000) + UInt128(Swift.max(0, margin))
        let (scaled, o) = pico.multipliedReportingOverflow(by: factor)
        guard !o else { return nil }
        let unit: UInt128 = 1_000_000_000_000
        let micros = scaled / unit + (roundingUp && scaled % unit != 0 ? 1 : 0)
        guard micros <= UInt128(Int64.max) else { return nil }
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
    /// The highest fee per request a catalog may give: $10,000, as for an image.
    public static let maxPricePerRequest = MicroDollars.dollars(10_000)

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
            var prices = [
                ("input_per_mtok", m.inputPerMillionTokens, Self.maxPricePerMillionTokens, "per million tokens"),
                ("output_per_mtok", m.outputPerMillionTokens, Self.maxPricePerMillionTokens, "per million tokens"),
                ("per_image", m.perImage, Self.maxPricePerImage, "per image"),
                ("per_request", m.perRequest, Self.maxPricePerRequest, "per request"),
            ]
            if let p = m.cachedInputPerMillionTokens { prices.append(("cached_input_per_mtok", p, Self.maxPricePerMillionTokens, "per million tokens")) }
            if let p = m.cacheWritePerMillionTokens { prices.append(("cache_write_per_mtok", p, Self.maxPricePerMillionTokens, "per million tokens")) }
            for (field, price, ceiling, unit) in prices {
                guard price >= .zero else {
                    throw CatalogError.invalidField(source: source, field: "\(at).\(field)", message: "price must not be negative (\(price.decimalString))")
                }
                guard price <= ceiling else {
                    throw CatalogError.invalidField(
                        source: source, field: "\(at).\(field)", message: "price of \(price.formatted()) \(unit) is absurd (the limit is \(ceiling == Self.maxPricePerMillionTokens ? "$1,000,000" : "$10,000") \(unit))")
                }
            }
            if let cached = m.cachedInputPerMillionTokens, cached > m.inputPerMillionTokens {
                throw CatalogError.invalidField(
                    source: source, field: "\(at).cached_input_per_mtok",
                    message: "a cache read (\(cached.decimalString)) must not cost more than plain input (\(m.inputPerMillionTokens.decimalString))")
            }
            if let margin = m.marginPartsPerMillion, margin < 0 || margin > 10_000_000 {
                throw CatalogError.invalidField(source: source, field: "\(at).gateway_margin", message: "must be between 0 and 10")
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
