public import ModelSelection

/// The share of tasks assigned to each tier when importing a trace that has no tiers of its own.
///
/// Written as `simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02`; tiers left out get 0.
/// Shares are turned into integer weights (parts per million) once, so drawing a tier is pure integer
/// arithmetic and reproducible everywhere.
public struct TierMix: Sendable, Hashable, CustomStringConvertible {
    /// Parts per million of the whole, in ``Complexity/allCases`` order; they sum to 1,000,000.
    public private(set) var weights: [Complexity: Int]

    /// The default mix: `simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02`.
    public static let `default` = try! TierMix(shares: [
        .simple: 0.5, .medium: 0.25, .complex: 0.15, .reasoning: 0.08, .critical: 0.02,
    ])

    /// How far the shares' sum may be from 1.
    public static let tolerance = 0.01

    /// Creates a mix from shares.
    /// - Parameter shares: Each tier's share, ≥ 0, summing to 1 (within ``tolerance``); they are normalised.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidMix`` for a negative or non-finite share or a bad sum.
    public init(shares: [Complexity: Double]) throws(ReplayError) {
        var sum = 0.0
        for tier in Complexity.allCases {
            let share = shares[tier] ?? 0
            guard share.isFinite, share >= 0 else {
                throw ReplayError(.invalidMix, "share of '\(tier)' must be a number ≥ 0, got \(share)")
            }
            sum += share
        }
        guard abs(sum - 1) <= Self.tolerance else {
            throw ReplayError(.invalidMix, "shares must sum to 1 (±\(Self.tolerance)), got \(sum)")
        }
        // Largest-remainder rounding to exactly 1,000,000 parts.
        var weights: [Complexity: Int] = [:]
        var remainders: [(Complexity, Double)] = []
        var total = 0
        for tier in Complexity.allCases {
            let exact = (shares[tier] ?? 0) / sum * 1_000_000
            let whole = Int(exact.rounded(.down))
            weights[tier] = whole
            total += whole
            remainders.append((tier, exact - Double(whole)))
        }
        let order = remainders.enumerated().sorted { a, b in
            a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
        }
        for k in 0..<(1_000_000 - total) { weights[order[k % order.count].element.0]! += 1 }
        self.weights = weights
    }

    /// Parses `name=share,…`, for example `simple=0.5,medium=0.25,complex=0.15,reasoning=0.08,critical=0.02`.
    /// - Parameter text: Comma-separated `tier=share` pairs; whitespace around items is ignored.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidMix`` for an unknown or repeated tier,
    ///   a share that is not a number ≥ 0, or shares that do not sum to 1.
    public init(parsing text: String) throws(ReplayError) {
        var shares: [Complexity: Double] = [:]
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0].trimmingSpaces
            guard pair.count == 2 else {
                throw ReplayError(.invalidMix, "expected tier=share, got '\(item.trimmingSpaces)'")
            }
            guard let tier = Complexity(rawValue: name) else {
                throw ReplayError(
                    .invalidMix, "unknown tier '\(name)' (expected simple, medium, complex, reasoning, critical)")
            }
            guard shares[tier] == nil else { throw ReplayError(.invalidMix, "tier '\(name)' given twice") }
            let value = pair[1].trimmingSpaces
            guard let share = Double(value), share.isFinite, share >= 0 else {
                throw ReplayError(.invalidMix, "share of '\(name)' must be a number ≥ 0, got '\(value)'")
            }
            shares[tier] = share
        }
        try self.init(shares: shares)
    }

    /// The share of a tier, from 0 to 1.
    /// - Parameter tier: The tier.
    /// - Returns: Its share.
    public func share(of tier: Complexity) -> Double { Double(weights[tier] ?? 0) / 1_000_000 }

    /// Draws a tier.
    /// - Parameter generator: The seeded generator to draw from (one draw).
    /// - Returns: A tier, each with probability equal to its share.
    public func draw(using generator: inout SeededGenerator) -> Complexity {
        var r = Int(generator.uniform(below: 1_000_000))
        for tier in Complexity.allCases {
            let w = weights[tier] ?? 0
            if r < w { return tier }
            r -= w
        }
        return .critical  // Unreachable: weights sum to 1,000,000.
    }

    /// The mix as `simple=0.5,medium=0.25,…` (tiers with a zero share left out; parsable by ``init(parsing:)``).
    public var description: String {
        Complexity.allCases.compactMap { tier in
            guard let w = weights[tier], w > 0 else { return nil }
            var frac = String(w % 1_000_000)
            frac = String(repeating: "0", count: 6 - frac.count) + frac
            while frac.hasSuffix("0") { frac.removeLast() }
            return w == 1_000_000 ? "\(tier)=1" : "\(tier)=0.\(frac)"
        }.joined(separator: ",")
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
