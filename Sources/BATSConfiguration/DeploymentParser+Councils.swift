import Foundation
import ModelSelection
import Yams

extension DeploymentParser {
    /// The keys of one council.
    static let councilKeys = ["tier", "task_kinds", "members", "aggregation", "minimum_members", "extractor", "judge_max_output_tokens"]

    /// `councils`: name → council. Every model must be a chat model of the catalog; `nil` when a problem was recorded.
    mutating func councils(_ node: Node?, catalog: ModelCatalog?) -> [String: DeploymentConfiguration.Council]? {
        ensembles(node, at: "councils") { p, value, name, path in p.council(value, name: name, at: path, catalog: catalog) }
    }

    /// A section of name → definition (`councils`, `cascades`): each name checked, each definition read by `one`;
    /// `nil` when a problem was recorded.
    mutating func ensembles<T>(
        _ node: Node?, at section: String, _ one: (inout DeploymentParser, Node, String, String) -> T?
    ) -> [String: T]? {
        guard let node else { return [:] }
        let before = reader.errors.count
        guard let t = reader.table(node, at: section, keys: nil) else { return nil }
        var out: [String: T] = [:]
        for e in t.entries {
            guard ensembleName(e, in: t) else { continue }
            if let c = one(&self, e.value, e.key, t.path(e.key)) { out[e.key] = c }
        }
        return reader.errors.count == before ? out : nil
    }

    /// One council.
    mutating func council(_ node: Node, name: String, at path: String, catalog: ModelCatalog?) -> DeploymentConfiguration.Council? {
        let before = reader.errors.count
        guard let c = reader.table(node, at: path, keys: Self.councilKeys) else { return nil }
        var council = DeploymentConfiguration.Council(name: name)
        if let v = c["tier"] { council.tier = reader.tier(v, at: c.path("tier")) }
        if let v = c["task_kinds"] { council.taskKinds = taskKinds(v, at: c.path("task_kinds")) }
        if let list = c["members"] {
            council.members = members(list, at: c.path("members"), catalog: catalog) ?? []
        } else {
            reader.missing("members", in: c, "a council needs members: a list of catalog models or 'tier: NAME' entries")
        }
        let seats = max(1, council.members.count)
        if let v = c["aggregation"] { council.aggregation = aggregation(v, at: c.path("aggregation"), seats: seats, catalog: catalog) ?? .majority }
        if let v = c["minimum_members"] { council.minimumMembers = reader.int(v, at: c.path("minimum_members"), in: 1...seats) }
        if let v = c["extractor"] { council.extractor = extractor(v, at: c.path("extractor")) ?? council.extractor }
        if let v = c["judge_max_output_tokens"] {
            if case .judge = council.aggregation {
                council.judgeMaxOutputTokens = reader.int(v, at: c.path("judge_max_output_tokens"), in: 1...1_000_000)
            } else {
                reader.invalid(v, c.path("judge_max_output_tokens"), "only a council whose aggregation is 'judge: MODEL' has a judge")
            }
        }
        return reader.errors.count == before ? council : nil
    }

    /// The seats: catalog model ids, `model: ID` or `tier: NAME` entries.
    mutating func members(_ node: Node, at path: String, catalog: ModelCatalog?) -> [DeploymentConfiguration.Council.Member]? {
        guard let items = reader.sequence(node, at: path) else { return nil }
        if items.isEmpty {
            reader.invalid(node, path, "a council needs at least one member")
            return nil
        }
        var out: [DeploymentConfiguration.Council.Member] = []
        for (i, item) in items.enumerated() {
            let at = "\(path)[\(i)]"
            if case .scalar = item {
                if let m = chatModel(item, at: at, catalog: catalog) { out.append(.model(m)) }
                continue
            }
            guard let t = reader.table(item, at: at, keys: ["model", "tier"]), let e = single(t, "a model id, or a table of one key: model or tier") else {
                continue
            }
            if e.key == "tier" {
                if let tier = reader.tier(e.value, at: t.path("tier")) { out.append(.tier(tier)) }
            } else if let m = chatModel(e.value, at: t.path("model"), catalog: catalog) {
                out.append(.model(m))
            }
        }
        return out.count == items.count ? out : nil
    }

    /// `majority`, `first-agreement: K` (1 … seats) or `judge: MODEL`.
    mutating func aggregation(
        _ node: Node, at path: String, seats: Int, catalog: ModelCatalog?
    ) -> DeploymentConfiguration.Council.Aggregation? {
        let expected = "majority, 'first-agreement: K' or 'judge: MODEL'"
        if case .scalar = node {
            guard let text = reader.string(node, at: path) else { return nil }
            guard text == "majority" else {
                reader.invalid(node, path, "unknown aggregation \(NodeReader.shown(text)) (\(expected))")
                return nil
            }
            return .majority
        }
        guard let t = reader.table(node, at: path, keys: ["first-agreement", "judge"]), let e = single(t, expected) else { return nil }
        if e.key == "judge" { return chatModel(e.value, at: t.path("judge"), catalog: catalog).map { .judge($0) } }
        return reader.int(e.value, at: t.path("first-agreement"), in: 1...seats).map { .firstAgreement($0) }
    }

    /// An extractor's name: `text`, `final-number`, `choice-letter` or `json:PATH` (a dotted path of non-empty keys).
    mutating func extractor(_ node: Node, at path: String) -> String? {
        guard let name = reader.string(node, at: path) else { return nil }
        let prefix = DeploymentConfiguration.Council.jsonExtractorPrefix
        if DeploymentConfiguration.Council.extractorNames.contains(name) { return name }
        if name.hasPrefix(prefix) {
            let keys = name.dropFirst(prefix.count).split(separator: ".", omittingEmptySubsequences: false)
            if !keys.isEmpty, keys.allSatisfy({ !$0.isEmpty }) { return name }
        }
        let known = (DeploymentConfiguration.Council.extractorNames + ["\(prefix)PATH"]).joined(separator: ", ")
        reader.invalid(node, path, "unknown extractor \(NodeReader.shown(name)) (\(known), such as json:decision or json:order.side)")
        return nil
    }

    // MARK: - Shared by councils and cascades

    /// Whether a council's or cascade's name can follow `bats/council/` in a routing name: letters, digits, `_ . -`.
    mutating func ensembleName(_ e: NodeTable.Entry, in t: NodeTable) -> Bool {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        guard !e.key.isEmpty, e.key.utf8.count <= 128, e.key.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
            reader.invalid(e.keyNode, t.path(e.key), "a name must be 1 to 128 letters, digits, '_', '.' or '-' (it is part of a routing name)")
            return false
        }
        return true
    }

    /// `task_kinds`: the task kinds a council or cascade answers for (`bats/task/<kind>`); a kind may belong to one
    /// council or cascade only.
    mutating func taskKinds(_ node: Node, at path: String) -> [String] {
        guard let items = reader.sequence(node, at: path) else { return [] }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        var out: [String] = []
        for (i, item) in items.enumerated() {
            let at = "\(path)[\(i)]"
            guard let kind = reader.string(item, at: at) else { continue }
            guard !kind.isEmpty, kind.utf8.count <= 128, kind.unicodeScalars.allSatisfy({ allowed.contains($0) }) else {
                reader.invalid(item, at, "a task kind is 1 to 128 letters, digits, '_', '.' or '-'")
                continue
            }
            if let owner = ensembleKinds[kind] {
                reader.invalid(item, at, "task kind '\(kind)' is already claimed by \(owner)")
                continue
            }
            ensembleKinds[kind] = path
            out.append(kind)
        }
        return out
    }

    /// A catalog chat model by its id.
    mutating func chatModel(_ node: Node, at path: String, catalog: ModelCatalog?) -> ModelID? {
        guard let id = reader.string(node, at: path) else { return nil }
        guard let catalog else { return ModelID(id) }  // the catalog's own error is already recorded
        let known = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue).joined(separator: ", ")
        guard let m = catalog.model(ModelID(id)) else {
            let p = NodeReader.position(of: node)
            reader.add(.unknownModel(
                file: reader.file, line: p.line, column: p.column, key: path,
                message: "unknown model \(NodeReader.shown(id)) (the catalog's chat models: \(known))"))
            return nil
        }
        guard m.kind == .chat else {
            reader.invalid(node, path, "'\(id)' is an \(m.kind) model, not a chat model (the catalog's chat models: \(known))")
            return nil
        }
        return m.id
    }

    /// The one entry of a table that must have exactly one key; `nil` when it has another count, or when its one key
    /// was unknown (already reported by ``NodeReader/table(_:at:keys:secretAdvice:)``).
    mutating func single(_ t: NodeTable, _ expected: String) -> NodeTable.Entry? {
        let count = if case .mapping(let m) = t.node { m.count } else { 0 }
        guard count == 1 else {
            reader.invalid(t.node, t.path, "must be \(expected): one key, not \(count)")
            return nil
        }
        return t.entries.first
    }
}
