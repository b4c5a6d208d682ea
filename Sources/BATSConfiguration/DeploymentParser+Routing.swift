import ModelSelection
import Yams

extension DeploymentParser {
    /// The keys of `routing`.
    static let routingKeys = ["tiers", "unknown_task", "chains", "max_output_tokens", "downgrade_threshold", "critical_reserve"]

    /// `routing`: the tier map, the unknown-task rule, the chains, output caps and budget policies. Keys left out keep
    /// the defaults (``ModelSelector/Configuration``); `tiers` replaces the whole map, `chains` and
    /// `max_output_tokens` replace the tiers they name. Chains are checked against the catalog.
    mutating func routing(_ top: NodeTable, catalog: ModelCatalog?) -> ModelSelector.Configuration? {
        var config = ModelSelector.Configuration()
        let errorsBefore = reader.errors.count
        var chainItems: [Complexity: [(Node, String)]] = [:]
        var table: NodeTable?
        if let node = top["routing"] {
            guard let t = reader.table(node, at: "routing", keys: Self.routingKeys) else { return nil }
            table = t
            if let v = t["tiers"] { config.taskTiers = tiers(v, at: t.path("tiers")) ?? config.taskTiers }
            if let v = t["unknown_task"] { config.unknownTask = unknownTask(v, at: t.path("unknown_task")) ?? config.unknownTask }
            if let v = t["chains"], let c = tierTable(v, at: t.path("chains")) {
                for e in c.entries {
                    guard let tier = Complexity(rawValue: e.key), let items = reader.strings(e.value, at: c.path(e.key)) else { continue }
                    if items.isEmpty { reader.invalid(e.value, c.path(e.key), "a chain must name at least one model") }
                    chainItems[tier] = items
                    config.chains[tier] = items.map { ModelID($0.1) }
                }
            }
            if let v = t["max_output_tokens"], let c = tierTable(v, at: t.path("max_output_tokens")) {
                for e in c.entries {
                    guard let tier = Complexity(rawValue: e.key), let n = reader.int(e.value, at: c.path(e.key), in: 1...10_000_000) else { continue }
                    config.defaultMaxOutputTokens[tier] = n
                }
            }
            if let v = t["downgrade_threshold"] { config.downgradeThresholdPartsPerMillion = share(v, at: t.path("downgrade_threshold")) }
            if let v = t["critical_reserve"] { config.criticalReservePartsPerMillion = share(v, at: t.path("critical_reserve")) ?? 0 }
        }
        if let catalog { checkChains(config, items: chainItems, catalog: catalog, routing: table, top: top) }
        guard reader.errors.count == errorsBefore else { return nil }
        // The selector's own check, for anything the checks above do not cover.
        if let catalog {
            do { _ = try ModelSelector(catalog: catalog, configuration: config) } catch {
                let at = table?.node ?? top.node
                reader.invalid(at, "routing" + ((error as? CatalogError).map { $0.field.isEmpty ? "" : ".\($0.field)" } ?? ""),
                               (error as? CatalogError)?.message ?? "\(error)")
                return nil
            }
        }
        return config
    }

    /// A table keyed by tier names.
    mutating func tierTable(_ node: Node, at path: String) -> NodeTable? {
        reader.table(node, at: path, keys: Complexity.allCases.map(\.rawValue))
    }

    /// Task kind → tier.
    mutating func tiers(_ node: Node, at path: String) -> [String: Complexity]? {
        guard let t = reader.table(node, at: path, keys: nil) else { return nil }
        var map: [String: Complexity] = [:]
        var ok = true
        for e in t.entries {
            if e.key.isEmpty { reader.invalid(e.keyNode, path, "a task kind must not be empty"); ok = false; continue }
            if let tier = reader.tier(e.value, at: t.path(e.key)) { map[e.key] = tier } else { ok = false }
        }
        return ok ? map : nil
    }

    /// A tier, or `reject`.
    mutating func unknownTask(_ node: Node, at path: String) -> ModelSelector.UnknownTaskRule? {
        guard let text = reader.string(node, at: path) else { return nil }
        if text == "reject" { return .reject }
        guard let tier = Complexity(rawValue: text) else {
            reader.invalid(node, path, "must be a tier (\(NodeReader.tierNames)) or reject, not \(NodeReader.shown(text))")
            return nil
        }
        return .assign(tier)
    }

    /// A share from 0% to 100%, in parts per million.
    mutating func share(_ node: Node, at path: String) -> Int64? {
        guard let ppm = reader.percent(node, at: path) else { return nil }
        guard ppm <= 1_000_000 else {
            reader.invalid(node, path, "must be between 0% and 100%")
            return nil
        }
        return ppm
    }

    /// Every chain's models must be chat models of the catalog, each once. A tier the file gives no chain for keeps
    /// its default chain, which must fit the catalog too (its error sits on `routing.chains`, or on the catalog).
    mutating func checkChains(
        _ config: ModelSelector.Configuration, items: [Complexity: [(Node, String)]], catalog: ModelCatalog, routing: NodeTable?,
        top: NodeTable
    ) {
        let known = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue).joined(separator: ", ")
        for tier in Complexity.allCases {
            if let list = items[tier] {
                var seen: Set<String> = []
                for (i, (node, id)) in list.enumerated() {
                    let at = "routing.chains.\(tier)[\(i)]"
                    let p = NodeReader.position(of: node)
                    if let m = catalog.model(ModelID(id)) {
                        if m.kind != .chat { reader.invalid(node, at, "'\(id)' is an \(m.kind) model, not a chat model") }
                    } else {
                        reader.add(.unknownModel(file: reader.file, line: p.line, column: p.column, key: at,
                                                 message: "unknown model \(NodeReader.shown(id)) (the catalog's chat models: \(known))"))
                    }
                    if !seen.insert(id).inserted { reader.invalid(node, at, "'\(id)' is already in this chain") }
                }
                continue
            }
            for id in config.chains[tier] ?? [] where catalog.model(id)?.kind != .chat {
                let at = routing?.keyNode("chains") ?? top.keyNode("routing") ?? top.keyNode("catalog") ?? top.node
                let p = NodeReader.position(of: at)
                reader.add(.unknownModel(
                    file: reader.file, line: p.line, column: p.column, key: "routing.chains.\(tier)",
                    message: "the default \(tier) chain names '\(id)', which the catalog has no chat model for: "
                        + "give routing.chains.\(tier) (the catalog's chat models: \(known))"))
                break
            }
        }
    }
}
