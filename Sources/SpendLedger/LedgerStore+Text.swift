package import Foundation

extension LedgerStore {
    // MARK: - Hash chain

    package static func sealHash(
        hash: String, status: EntryStatus, actualIn: Int?, actualOut: Int?, cached: Int?, actualCost: Int64?, estimated: Bool, finishedAt: Int64,
        overLimit: Bool, error: String?, flags: Int64, judgedAt: Int64? = nil, chain: ChainHasher
    ) -> String {
        // s1|hash|status|actualIn|actualOut|cached|actualCost|estimated|finished|overLimit|error  (absent numbers are "-"),
        // then |flags when any flag is set (so entries sealed before flags existed keep their seals).
        var t = ChainText(tag: "s1")
        t.add(hash)
        t.add(status.rawValue)
        t.add(optional: actualIn.map(Int64.init))
        t.add(optional: actualOut.map(Int64.init))
        t.add(optional: cached.map(Int64.init))
        t.add(optional: actualCost)
        t.add(estimated ? 1 : 0)
        t.add(finishedAt)
        t.add(overLimit ? 1 : 0)
        t.add(error ?? "")
        // A leased call's judging position (`judged_at`) after the flags, so moving it to hide a breach breaks the seal.
        if let judgedAt {
            t.add(flags)
            t.add("judged-at")
            t.add(judgedAt)
        } else if flags != 0 {
            t.add(flags)
        }
        return t.hex(chain)
    }

    // MARK: - Tags

    /// Tags as canonical JSON: keys sorted, strings escaped.
    package static func encodeTags(_ tags: [String: String]) -> String {
        if tags.isEmpty { return "{}" }
        var out = "{"
        for (n, k) in tags.keys.sorted().enumerated() {
            if n > 0 { out += "," }
            out += jsonString(k) + ":" + jsonString(tags[k]!)
        }
        return out + "}"
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    package static func decodeTags(_ json: String) -> [String: String] {
        if json == "{}" { return [:] }
        if let fast = decodeCanonicalTags(json) { return fast }
        guard let data = json.data(using: .utf8),
            let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return o.compactMapValues { $0 as? String }
    }

    /// Decodes tags written by ``encodeTags(_:)`` when they hold no escapes; `nil` sends the caller to the full parser.
    static func decodeCanonicalTags(_ json: String) -> [String: String]? {
        var u = Substring(json).utf8[...]
        guard u.first == UInt8(ascii: "{"), u.last == UInt8(ascii: "}"), !u.contains(UInt8(ascii: "\\")) else { return nil }
        u = u.dropFirst().dropLast()
        var out: [String: String] = [:]
        func string(_ u: inout Substring.UTF8View.SubSequence) -> String? {
            guard u.first == UInt8(ascii: "\""), let end = u.dropFirst().firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            let s = String(Substring(u[u.index(after: u.startIndex)..<end]))
            u = u[u.index(after: end)...]
            return s
        }
        while !u.isEmpty {
            guard let k = string(&u), u.first == UInt8(ascii: ":") else { return nil }
            u = u.dropFirst()
            guard let v = string(&u) else { return nil }
            out[k] = v
            if u.first == UInt8(ascii: ",") { u = u.dropFirst() } else if !u.isEmpty { return nil }
        }
        return out
    }
}
