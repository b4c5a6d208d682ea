import Foundation
import ModelSelection
import SpendLedger
import Yams

/// Turns a composed YAML tree into a ``DeploymentConfiguration``, section by section, recording every problem in
/// its ``NodeReader`` rather than stopping at the first.
struct DeploymentParser {
    /// The value readers and the problems found.
    var reader: NodeReader
    /// The directory relative paths are taken from.
    let baseDirectory: URL
    /// The task kinds councils and cascades claimed so far (`task_kinds`), with the claimer's path.
    var ensembleKinds: [String: String] = [:]

    init(file: String, baseDirectory: URL) {
        self.reader = NodeReader(file: file)
        self.baseDirectory = baseDirectory
    }

    /// The configuration, or `nil` when a problem was recorded.
    mutating func parse(_ root: Node) -> DeploymentConfiguration? {
        guard let top = reader.table(root, at: "", keys: DeploymentConfiguration.topLevelKeys) else { return nil }
        if let v = top["version"], let n = reader.int(v, at: "version", in: 0...Int.max), n != 1 {
            reader.invalid(v, "version", "this BATS reads version 1 of the configuration format, not \(n)")
        }
        let catalog = self.catalog(top)
        let routing = self.routing(top, catalog: catalog?.catalog)
        let budget = self.budget(top["budget"])
        let alerts = self.alerts(top["alerts"])
        let gateway = self.gateway(top["gateway"])
        let ledger = self.ledger(top["ledger"])
        let server = self.server(top["server"], scopes: budget?.limits?.scopes ?? [])
        let councils = self.councils(top["councils"], catalog: catalog?.catalog)
        let cascades = self.cascades(top["cascades"], catalog: catalog?.catalog)
        guard reader.errors.isEmpty, let catalog, let routing, let budget, let alerts, let gateway, let ledger, let server, let councils,
            let cascades
        else {
            return nil
        }
        return DeploymentConfiguration(
            source: reader.file, catalog: catalog.catalog, catalogSource: catalog.source, routing: routing, limits: budget.limits,
            calendar: budget.calendar, alerts: alerts, gateway: gateway, ledger: ledger, server: server, councils: councils,
            cascades: cascades)
    }

    /// A path from the file, resolved against its directory (`~` is the home directory).
    func resolve(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return URL(fileURLWithPath: expanded, relativeTo: baseDirectory).standardizedFileURL.path
    }

    // MARK: - Catalog

    /// `catalog`: a JSON file's path (`catalog: prices.json` or `catalog.path`), or inline `gateway_margin` and
    /// `models`; the bundled catalog when absent.
    mutating func catalog(_ top: NodeTable) -> (catalog: ModelCatalog, source: DeploymentConfiguration.CatalogSource)? {
        guard let node = top["catalog"] else {
            do { return (try ModelCatalog.bundled(), .bundled) } catch {
                reader.add(.unreadable(file: reader.file, message: "the bundled catalog cannot be read (\(error))"))
                return nil
            }
        }
        if case .scalar = node { return catalogFile(node, at: "catalog") }
        guard let t = reader.table(node, at: "catalog", keys: ["path", "gateway_margin", "models"]) else { return nil }
        if let path = t["path"] {
            for key in ["gateway_margin", "models"] where t.has(key) {
                if let k = t.keyNode(key) { reader.invalid(k, t.path(key), "give either catalog.path or inline models, not both") }
            }
            return catalogFile(path, at: "catalog.path")
        }
        return inlineCatalog(t)
    }

    /// A catalog JSON file named in the configuration.
    mutating func catalogFile(_ node: Node, at path: String) -> (catalog: ModelCatalog, source: DeploymentConfiguration.CatalogSource)? {
        guard let p = reader.string(node, at: path) else { return nil }
        let resolved = resolve(p)
        do {
            return (try ModelCatalog.load(contentsOf: URL(fileURLWithPath: resolved), sourceName: p), .file(resolved))
        } catch {
            reader.invalid(node, path, "\(error)")
            return nil
        }
    }

    /// Inline `gateway_margin` and `models`, in the catalog JSON's field names.
    mutating func inlineCatalog(_ t: NodeTable) -> (catalog: ModelCatalog, source: DeploymentConfiguration.CatalogSource)? {
        guard let list = t["models"] else {
            reader.missing("models", in: t, "give catalog.path (a catalog JSON file) or catalog.models (inline prices)")
            return nil
        }
        var margin: Int64? = 0
        if let m = t["gateway_margin"] { margin = self.margin(m, at: t.path("gateway_margin")) }
        guard let items = reader.sequence(list, at: t.path("models")) else { return nil }
        var models: [ModelInfo] = []
        var fieldNodes: [String: Node] = [:]
        var ok = margin != nil
        for (i, item) in items.enumerated() {
            let at = "\(t.path("models"))[\(i)]"
            let keys = ["id", "name", "gateway_id", "kind", "input_per_mtok", "output_per_mtok", "per_image", "context_window",
                        "max_output_tokens", "capabilities", "cached_input_per_mtok", "cache_write_per_mtok", "per_request", "gateway_margin"]
            guard let m = reader.table(item, at: at, keys: keys) else { ok = false; continue }
            for e in m.entries { fieldNodes["models[\(i)].\(e.key)"] = e.value }
            fieldNodes["models[\(i)]"] = item
            if let model = inlineModel(m) { models.append(model) } else { ok = false }
        }
        guard ok, let margin else { return nil }
        do {
            return (try ModelCatalog(models: models, marginPartsPerMillion: margin), .inline)
        } catch let error as CatalogError {
            let node = fieldNodes[error.field] ?? fieldNodes[String(error.field.prefix { $0 != "." })] ?? list
            reader.invalid(node, error.field.isEmpty ? t.path : "catalog.\(error.field)", error.message)
        } catch {
            reader.invalid(list, t.path("models"), "\(error)")
        }
        return nil
    }

    /// The gateway margin: `5%`, or a fraction as in catalog JSON (`0.05`).
    mutating func margin(_ node: Node, at path: String) -> Int64? {
        guard let text = reader.scalar(node, at: path, expected: "a share such as 5% or 0.05") else { return nil }
        let ppm = text.hasSuffix("%") ? NodeReader.partsPerMillion(percent: String(text.dropLast()))
            : (text.hasPrefix("-") || text.contains("$") ? nil : MicroDollars(parsing: text)?.rawValue)
        guard let ppm, ppm <= 10_000_000 else {
            reader.invalid(node, path, "must be a share between 0% and 1000%, such as 5% or 0.05")
            return nil
        }
        return ppm
    }

    /// One inline model.
    mutating func inlineModel(_ m: NodeTable) -> ModelInfo? {
        func required(_ key: String) -> Node? {
            if let v = m[key] { return v }
            reader.missing(key, in: m, "a model needs \(key)")
            return nil
        }
        let id = required("id").flatMap { reader.string($0, at: m.path("id")) }
        let input = required("input_per_mtok").flatMap { reader.money($0, at: m.path("input_per_mtok")) }
        let output = required("output_per_mtok").flatMap { reader.money($0, at: m.path("output_per_mtok")) }
        let context = required("context_window").flatMap { reader.int($0, at: m.path("context_window"), in: 1...Int(Int32.max)) }
        let maxOut = required("max_output_tokens").flatMap { reader.int($0, at: m.path("max_output_tokens"), in: 0...Int(Int32.max)) }
        var ok = true
        func optional<T>(_ key: String, _ read: (inout NodeReader, Node, String) -> T?) -> T?? {
            guard let v = m[key] else { return .some(nil) }
            guard let r = read(&reader, v, m.path(key)) else { ok = false; return nil }
            return .some(r)
        }
        let name = optional("name") { $0.string($1, at: $2) }
        let gatewayID = optional("gateway_id") { $0.string($1, at: $2) }
        let perImage = optional("per_image") { $0.money($1, at: $2) }
        let cached = optional("cached_input_per_mtok") { $0.money($1, at: $2) }
        let cacheWrite = optional("cache_write_per_mtok") { $0.money($1, at: $2) }
        let perRequest = optional("per_request") { $0.money($1, at: $2) }
        var modelMargin: Int64? = nil
        if let node = m["gateway_margin"] {
            if let v = margin(node, at: m.path("gateway_margin")) { modelMargin = v } else { ok = false }
        }
        let kind = optional("kind") { r, node, path -> ModelInfo.Kind? in
            guard let k = r.string(node, at: path) else { return nil }
            guard ["chat", "embedding", "image"].contains(k) else {
                r.invalid(node, path, "unknown kind \(NodeReader.shown(k)) (chat, embedding or image)")
                return nil
            }
            return ModelInfo.Kind(rawValue: k)
        }
        let capabilities = optional("capabilities") { r, node, path -> ModelInfo.Capabilities? in
            guard let names = r.strings(node, at: path) else { return nil }
            var caps: ModelInfo.Capabilities = []
            for (i, (n, name)) in names.enumerated() {
                guard let c = ModelInfo.Capabilities.names.first(where: { $0.0 == name })?.1 else {
                    r.invalid(n, "\(path)[\(i)]", "unknown capability \(NodeReader.shown(name)) (tools, vision or reasoning)")
                    return nil
                }
                caps.insert(c)
            }
            return caps
        }
        guard ok, let id, let input, let output, let context, let maxOut, let name, let gatewayID, let perImage, let kind,
            let capabilities, let cached, let cacheWrite, let perRequest
        else { return nil }
        return ModelInfo(
            id: ModelID(id), name: name ?? id, gatewayID: gatewayID ?? id, kind: kind ?? .chat, inputPerMillionTokens: input,
            outputPerMillionTokens: output, perImage: perImage ?? .zero, contextWindow: context, maxOutputTokens: maxOut,
            capabilities: capabilities ?? [], cachedInputPerMillionTokens: cached, cacheWritePerMillionTokens: cacheWrite,
            perRequest: perRequest ?? .zero, marginPartsPerMillion: modelMargin)
    }
}
