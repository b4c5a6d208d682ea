/// Builds the `|`-separated text the hash chain hashes, as bytes, without string interpolation.
struct ChainText {
    private(set) var bytes: [UInt8] = []

    init(tag: StaticString) {
        bytes.reserveCapacity(320)
        tag.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func add(_ s: String) {
        bytes.append(UInt8(ascii: "|"))
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func add(_ v: Int64) {
        bytes.append(UInt8(ascii: "|"))
        if v == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of room, enough for 20 digits
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while m > 0 {
                d[n] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    mutating func add(_ v: Int) { add(Int64(v)) }

    /// A present value, or `-`.
    mutating func add(optional v: Int64?) {
        if let v { add(v) } else { add("-") }
    }

    /// The hex SHA-256 (or HMAC-SHA256) of the text.
    func hex(_ hasher: ChainHasher) -> String { hasher.hex(bytes) }
}
