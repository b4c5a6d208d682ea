/// A what-if share of each prompt served from the provider's cache, for tasks that record no
/// ``WorkloadTask/cachedInputTokens`` of their own (`bats replay --cache-hit-share S`).
///
/// The reading is an agent repeating a long system prompt: the first `S` of every prompt is the same text, which the
/// provider serves from its cache. A call of `input_tokens` prompt tokens then reads
/// `floor(S × input_tokens)` tokens from the cache, computed exactly in integers: `S` is held in parts per million,
/// so it is given with at most six decimals (`0.6`, `0.125`, `1`). The hits are assumed, not measured: a report that
/// used a share says so.
public struct CacheHitShare: Sendable, Hashable, CustomStringConvertible {
    /// The share in parts per million (0 … 1,000,000).
    public let partsPerMillion: Int

    /// The largest value of ``partsPerMillion``: the whole prompt.
    public static let whole = 1_000_000

    /// Creates a share from parts per million.
    /// - Parameter partsPerMillion: The share, 0 … 1,000,000.
    /// - Throws: ``ReplayError`` (``ReplayError/Code/invalidArgument``) when it is outside 0 … 1,000,000.
    public init(partsPerMillion: Int) throws(ReplayError) {
        guard (0...Self.whole).contains(partsPerMillion) else {
            throw ReplayError(
                .invalidArgument, "must be between 0 and 1, got \(partsPerMillion) parts per million")
        }
        self.partsPerMillion = partsPerMillion
    }

    /// Parses a share written as a plain decimal between 0 and 1: `0`, `0.6`, `.25`, `1`, `1.0`.
    ///
    /// Signs, exponents, more than six decimals and values above 1 are refused (never rounded).
    /// - Parameter text: The share.
    /// - Throws: ``ReplayError`` (``ReplayError/Code/invalidArgument``) naming the text when it is not such a decimal.
    public init(parsing text: String) throws(ReplayError) {
        let bytes = Array(text.utf8)
        let dot = bytes.firstIndex(of: UInt8(ascii: "."))
        let whole = bytes[..<(dot ?? bytes.count)]
        let fraction = dot.map { bytes[($0 + 1)...] } ?? []
        let isDigit = { (c: UInt8) in c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else {
            throw ReplayError(
                .invalidArgument, "must be a decimal between 0 and 1 (such as 0.6), got '\(ReplayError.quote(text.utf8))'")
        }
        guard fraction.count <= 6 else {
            throw ReplayError(
                .invalidArgument, "takes at most six decimals (it is exact to a part per million), got '\(ReplayError.quote(text.utf8))'")
        }
        // The whole part is 0 or 1 once leading zeros go; anything longer is above 1.
        let units = whole.drop { $0 == UInt8(ascii: "0") }
        guard units.count <= 1 else {
            throw ReplayError(.invalidArgument, "must be between 0 and 1, got '\(ReplayError.quote(text.utf8))'")
        }
        var ppm = units.first.map { Int($0 - UInt8(ascii: "0")) * Self.whole } ?? 0
        var scale = 100_000
        for c in fraction {
            ppm += Int(c - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        guard ppm <= Self.whole else {
            throw ReplayError(.invalidArgument, "must be between 0 and 1, got '\(ReplayError.quote(text.utf8))'")
        }
        self.partsPerMillion = ppm
    }

    /// The prompt tokens read from the cache for a prompt of `inputTokens`: `floor(share × inputTokens)`.
    ///
    /// Exact in integers; a negative count gives 0, and the result never exceeds `inputTokens`.
    /// - Parameter inputTokens: The prompt's tokens.
    /// - Returns: The cached tokens, 0 … `inputTokens`.
    public func cachedTokens(of inputTokens: Int) -> Int {
        guard inputTokens > 0 else { return 0 }
        // In 128 bits, so no prompt size can overflow; the quotient is at most inputTokens, so it fits.
        let cached = Self.whole.dividingFullWidth(inputTokens.multipliedFullWidth(by: partsPerMillion)).quotient
        return min(inputTokens, cached)
    }

    /// The share as a decimal with no trailing zeros: `0.6`, `0.125`, `1`, `0`.
    public var description: String {
        let units = partsPerMillion / Self.whole, rest = partsPerMillion % Self.whole
        guard rest > 0 else { return String(units) }
        var digits = String(rest)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(units).\(digits)"
    }
}
