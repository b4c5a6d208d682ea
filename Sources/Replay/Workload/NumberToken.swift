/// The position of a JSON number's parts within a line.
struct NumberToken {
    var negative = false
    var intStart = 0
    var intEnd = 0
    var hasFraction = false
    var fracStart = 0
    var fracEnd = 0
    var hasExponent = false
    var end = 0

    /// The integer part as an `Int`, or `nil` on overflow.
    func integerValue(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        var v = 0
        for k in intStart..<intEnd {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b[k] - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            v = s
        }
        return v
    }

    /// The number read as epoch seconds, in nanoseconds (exact for plain decimals), or `nil` when out of range.
    func epochNanoseconds(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        if hasExponent {
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[(intStart - (negative ? 1 : 0))..<end]), as: UTF8.self)
            guard let seconds = Double(text), seconds.isFinite, abs(seconds) < 9.2e9 else { return nil }
            return Int64((seconds * 1e9).rounded())
        }
        guard let whole = integerValue(b) else { return nil }
        var frac: Int64 = 0
        var count = 0
        for k in fracStart..<fracEnd where count < 9 {
            frac = frac * 10 + Int64(b[k] - UInt8(ascii: "0"))
            count += 1
        }
        while count < 9 {
            frac *= 10
            count += 1
        }
        let (scaled, o1) = Int64(whole).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = scaled.addingReportingOverflow(frac)
        guard !o1, !o2 else { return nil }
        return negative ? -total : total
    }
}
