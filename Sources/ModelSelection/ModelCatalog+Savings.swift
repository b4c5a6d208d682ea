extension ModelCatalog {
    /// What cache reads saved against paying the full input price for the same tokens.
    ///
    /// saved = Σ over models of cached tokens × (input price − cached price) × (1 + the model's margin), summed
    /// exactly in 128-bit integers and rounded **down** once to the micro-dollar, so a saving is never overstated.
    /// A model without a cached price saved nothing (its cached tokens were billed at the input price). Models the
    /// catalog does not have are left out: their prices are unknown.
    /// - Parameter cachedTokens: Cache-read prompt tokens per model id.
    /// - Returns: The saving.
    /// - Throws: ``MoneyError/negativeQuantity(model:operands:)`` when a count is negative;
    ///   ``MoneyError/overflow(_:operands:model:)`` when the saving does not fit in 64-bit micro-dollars.
    public func cacheSavings(cachedTokens: [ModelID: Int]) throws(MoneyError) -> MicroDollars {
        var scaled: UInt128 = 0
        let unit: UInt128 = 1_000_000_000_000
        for (id, tokens) in cachedTokens.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let m = model(id) else { continue }
            let operands = ["cached_tokens=\(tokens)"]
            guard tokens >= 0 else { throw .negativeQuantity(model: id, operands: operands) }
            guard let cached = m.cachedInputPerMillionTokens, cached < m.inputPerMillionTokens else { continue }
            // Validation keeps 0 ≤ cached ≤ input, so the difference is a non-negative rate in µ$ per million tokens.
            let rate = UInt128(m.inputPerMillionTokens.rawValue - cached.rawValue)
            let factor = UInt128(1_000_000) + UInt128(Swift.max(0, margin(for: m)))
            let (pico, o1) = UInt128(tokens).multipliedReportingOverflow(by: rate)
            let (withMargin, o2) = pico.multipliedReportingOverflow(by: factor)
            let (sum, o3) = scaled.addingReportingOverflow(withMargin)
            guard !o1, !o2, !o3 else { throw .overflow(.cost, operands: operands, model: id) }
            scaled = sum
        }
        let micros = scaled / unit
        guard micros <= UInt128(Int64.max) else { throw .overflow(.sum, operands: ["cache savings"]) }
        return MicroDollars(micros: Int64(micros))
    }
}
