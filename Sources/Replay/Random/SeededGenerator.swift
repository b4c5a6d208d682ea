/// A small, fast, seeded pseudo-random generator (xoshiro256**) whose output is the same on every platform
/// and Swift version.
///
/// The state is expanded from the 64-bit seed with SplitMix64, as the xoshiro authors recommend. Use the
/// generator's own helpers (``uniform(below:)``, ``uniform(in:)``, ``unitDouble()``) for reproducible
/// values: the standard library's `Int.random(in:using:)` is deterministic for a given generator, but its
/// algorithm is not guaranteed to stay the same across Swift releases.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator from a seed.
    /// - Parameter seed: Any 64-bit value; equal seeds give equal sequences.
    public init(seed: UInt64) {
        var sm = seed
        s0 = SeededGenerator.splitMix64(&sm)
        s1 = SeededGenerator.splitMix64(&sm)
        s2 = SeededGenerator.splitMix64(&sm)
        s3 = SeededGenerator.splitMix64(&sm)
    }

    /// Creates a generator for one independent stream of a seed (for example one day of a generated workload).
    /// - Parameters:
    ///   - seed: The base seed.
    ///   - stream: The stream number; different streams give unrelated sequences.
    public init(seed: UInt64, stream: UInt64) {
        var sm = seed ^ (stream &* 0xD1B5_4A32_D192_ED03)
        self.init(seed: SeededGenerator.splitMix64(&sm))
    }

    /// One step of SplitMix64.
    /// - Parameter state: The SplitMix64 state, advanced in place.
    /// - Returns: The next 64-bit output.
    public static func splitMix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Returns the next 64 random bits.
    /// - Returns: A uniformly distributed `UInt64`.
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    // MARK: - Uniform helpers

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject method).
    /// - Parameter bound: The exclusive upper bound; must be greater than zero.
    /// - Returns: A value in `0..<bound`.
    public mutating func uniform(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// A uniform integer in a closed range.
    /// - Parameter range: The range; may be a single value.
    /// - Returns: A value in `range`.
    public mutating func uniform(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(bitPattern: UInt(next())) }
        return range.lowerBound &+ Int(bitPattern: UInt(uniform(below: span)))
    }

    /// A uniform `Double` in `[0, 1)` with 53 random bits (exact on every IEEE 754 platform).
    /// - Returns: A value in `0..<1`.
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}
