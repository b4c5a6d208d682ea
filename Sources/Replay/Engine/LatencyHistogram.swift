/// A fixed-size log-scale histogram of durations (1% resolution, 10 ns to 100 s): flat memory for any number of samples.
public struct LatencyHistogram: Sendable, Hashable {
    private static let growth = 1.01
    private static let lnGrowth = 0.009950330853168083  // ln(1.01)
    private static let buckets = 2_400
    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.buckets)
    /// How many samples were recorded.
    public private(set) var count: UInt64 = 0

    /// An empty histogram.
    public init() {}

    /// Records one duration in nanoseconds.
    public mutating func record(nanoseconds: Int64) {
        let v = max(10, Double(nanoseconds)) / 10
        let i = min(Self.buckets - 1, Int(v.logValue / Self.lnGrowth))
        counts[i] += 1
        count += 1
    }

    /// The duration below which a share `q` (0...1) of samples fall, in nanoseconds (0 when empty).
    public func quantile(_ q: Double) -> Int64 {
        guard count > 0 else { return 0 }
        let target = UInt64((Double(count) * q).rounded(.up))
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen >= max(1, target) { return Int64(10 * Self.growth.power(Double(i) + 0.5)) }
        }
        return Int64(10 * Self.growth.power(Double(Self.buckets)))
    }

    /// Adds another histogram's samples.
    public mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<Self.buckets { counts[i] += other.counts[i] }
        count += other.count
    }
}

extension Double {
    fileprivate var logValue: Double { Foundation_log(self) }
    fileprivate func power(_ e: Double) -> Double { Foundation_pow(self, e) }
}

#if canImport(Glibc)
import Glibc
private func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
private func Foundation_pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Darwin
private func Foundation_log(_ x: Double) -> Double { Darwin.log(x) }
private func Foundation_pow(_ x: Double, _ y: Double) -> Double { Darwin.pow(x, y) }
#endif
