/// The catalog held against the models a gateway offers (`GET /v1/models`): which catalog models it offers under their
/// gateway ids, which it does not, and gateway ids that look like a missing one under another name.
///
/// Pure: the caller fetches the list. The catalog is usable as it is when every model the selector routes to (every
/// tier chain, the critical model) is offered; a missing embedding or image model is reported but does not make it
/// unusable.
public struct CatalogCheck: Sendable, Hashable {
    /// A catalog model the gateway does not offer under its gateway id.
    public struct Missing: Sendable, Hashable {
        /// The catalog model.
        public var model: ModelID
        /// Its gateway id, as the catalog has it.
        public var gatewayID: String
        /// Whether the selector routes to it (a tier chain or the critical model names it).
        public var routed: Bool
        /// Offered ids that look like it under another name (a provider prefix, a date or version suffix, the
        /// catalog's own id instead of the gateway id).
        public var lookalikes: [String]
    }

    /// Catalog models the gateway offers under their gateway ids, in catalog order.
    public var offered: [ModelID]
    /// Catalog models it does not, in catalog order.
    public var missing: [Missing]
    /// How many ids the gateway listed.
    public var listed: Int

    /// Whether the catalog can be used as it is: no model the selector routes to is missing.
    public var isUsable: Bool { !missing.contains(where: \.routed) }

    /// Checks a selector's catalog against the ids a gateway listed.
    /// - Parameters:
    ///   - selector: The selector (its catalog, and its chains for what is routed).
    ///   - gatewayIDs: The ids `GET /v1/models` returned.
    public init(selector: ModelSelector, gatewayIDs: [String]) {
        let listed = Set(gatewayIDs)
        var routed: Set<ModelID> = [selector.criticalModel]
        for tier in Complexity.allCases { routed.formUnion(selector.chain(for: tier)) }
        var offered: [ModelID] = []
        var missing: [Missing] = []
        for m in selector.catalog.models {
            if listed.contains(m.gatewayID) {
                offered.append(m.id)
                continue
            }
            let names = [Self.normalized(m.gatewayID), Self.normalized(m.id.rawValue)]
            let alike = gatewayIDs.filter { id in
                let n = Self.normalized(id)
                return names.contains { Self.alike(n, $0) }
            }
            missing.append(Missing(model: m.id, gatewayID: m.gatewayID, routed: routed.contains(m.id), lookalikes: Array(Set(alike)).sorted()))
        }
        self.offered = offered
        self.missing = missing
        self.listed = listed.count
    }

    /// An id without a `provider/` prefix, lower-cased, `_ . :` as `-`, a trailing date (`-20250805`, `-2025-08-05`),
    /// `-latest` or `-preview` dropped.
    static func normalized(_ id: String) -> String {
        var s = Substring(id.lowercased())
        if let slash = s.lastIndex(of: "/") { s = s[s.index(after: slash)...] }
        var out = String(s.map { "_.: ".contains($0) ? "-" : $0 })
        for suffix in ["-latest", "-preview"] where out.hasSuffix(suffix) { out.removeLast(suffix.count) }
        let parts = out.split(separator: "-", omittingEmptySubsequences: false)
        if let last = parts.last, last.count == 8, last.allSatisfy(\.isNumber) {
            out = parts.dropLast().joined(separator: "-")
        } else if parts.count > 3, parts.suffix(3).map(\.count) == [4, 2, 2], parts.suffix(3).allSatisfy({ $0.allSatisfy(\.isNumber) }) {
            out = parts.dropLast(3).joined(separator: "-")
        }
        return out
    }

    /// The same name, or one a dash-separated extension of the other (`kimi-k2-instruct` and `kimi-k2-instruct-0905`),
    /// for names of at least 6 characters.
    static func alike(_ a: String, _ b: String) -> Bool {
        guard a.count >= 6, b.count >= 6 else { return a == b && !a.isEmpty }
        return a == b || a.hasPrefix(b + "-") || b.hasPrefix(a + "-")
    }
}
