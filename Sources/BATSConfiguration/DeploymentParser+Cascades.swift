import Foundation
import Gateway
import ModelSelection
import Yams

extension DeploymentParser {
    /// The keys of one cascade.
    static let cascadeKeys = ["tier", "task_kinds", "steps", "verifier"]

    /// `cascades`: name → cascade. Steps must be chat models of the catalog, a pattern must compile and a schema load;
    /// `nil` when a problem was recorded.
    mutating func cascades(_ node: Node?, catalog: ModelCatalog?) -> [String: DeploymentConfiguration.Cascade]? {
        ensembles(node, at: "cascades") { p, value, name, path in p.cascade(value, name: name, at: path, catalog: catalog) }
    }

    /// One cascade.
    mutating func cascade(_ node: Node, name: String, at path: String, catalog: ModelCatalog?) -> DeploymentConfiguration.Cascade? {
        let before = reader.errors.count
        guard let c = reader.table(node, at: path, keys: Self.cascadeKeys) else { return nil }
        var cascade = DeploymentConfiguration.Cascade(name: name)
        if let v = c["tier"] { cascade.tier = reader.tier(v, at: c.path("tier")) }
        if let v = c["task_kinds"] { cascade.taskKinds = taskKinds(v, at: c.path("task_kinds")) }
        if let v = c["steps"], let items = reader.sequence(v, at: c.path("steps")) {
            if items.isEmpty { reader.invalid(v, c.path("steps"), "give at least one model, or leave steps out for the tier's chain") }
            var seen: Set<ModelID> = []
            for (i, item) in items.enumerated() {
                guard let m = chatModel(item, at: "\(c.path("steps"))[\(i)]", catalog: catalog) else { continue }
                if !seen.insert(m).inserted { reader.invalid(item, "\(c.path("steps"))[\(i)]", "'\(m)' is already a step of this cascade") }
                cascade.steps.append(m)
            }
        }
        if let v = c["verifier"] {
            cascade.verifier = verifier(v, at: c.path("verifier"), catalog: catalog) ?? .json
        } else {
            reader.missing("verifier", in: c, "a cascade needs a verifier: json, 'json-schema: {…}', 'regex: PATTERN' or 'judge: {model, criteria}'")
        }
        return reader.errors.count == before ? cascade : nil
    }

    /// `json`, `json-schema: SCHEMA` (a table, or JSON text), `regex: PATTERN` or `judge: {model: M, criteria: TEXT}`.
    mutating func verifier(_ node: Node, at path: String, catalog: ModelCatalog?) -> DeploymentConfiguration.Cascade.Verifier? {
        let expected = "json, 'json-schema: {…}', 'regex: PATTERN' or 'judge: {model: M, criteria: TEXT}'"
        if case .scalar = node {
            guard let text = reader.string(node, at: path) else { return nil }
            guard text == "json" else {
                reader.invalid(node, path, "unknown verifier \(NodeReader.shown(text)) (\(expected))")
                return nil
            }
            return .json
        }
        guard let t = reader.table(node, at: path, keys: ["json-schema", "regex", "judge"]), let e = single(t, expected) else { return nil }
        let at = t.path(e.key)
        switch e.key {
        case "regex":
            guard let pattern = reader.string(e.value, at: at) else { return nil }
            do { _ = try Regex(pattern) } catch {
                reader.invalid(e.value, at, "not a valid regular expression: \(error)")
                return nil
            }
            return .regex(pattern)
        case "judge":
            guard let j = reader.table(e.value, at: at, keys: ["model", "criteria"]) else { return nil }
            guard let m = j["model"], let c = j["criteria"] else {
                for key in ["model", "criteria"] where !j.has(key) { reader.missing(key, in: j, "a judge verifier needs a model and its criteria") }
                return nil
            }
            guard let model = chatModel(m, at: j.path("model"), catalog: catalog), let criteria = reader.string(c, at: j.path("criteria")) else {
                return nil
            }
            return .judge(model: model, criteria: criteria)
        default:
            return schema(e.value, at: at).map { .jsonSchema($0) }
        }
    }

    /// A JSON schema written as YAML (a table) or as JSON text, loaded (``Gateway/JSONSchema``): an unsupported keyword or
    /// a bad value is reported at its own key path and line.
    mutating func schema(_ node: Node, at path: String) -> JSONSchema? {
        let document: JSONValue
        if case .scalar = node {
            guard let text = reader.string(node, at: path) else { return nil }
            do { document = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) } catch {
                reader.invalid(node, path, "a schema written as text must be JSON (or write it as a YAML table)")
                return nil
            }
        } else {
            guard let d = json(node, at: path) else { return nil }
            document = d
        }
        do {
            return try JSONSchema(document)
        } catch {
            let inner = error.path.isEmpty ? path : "\(path).\(error.path)"
            reader.invalid(Self.descend(node, error.path), inner, error.message)
            return nil
        }
    }

    /// A YAML value as JSON: tables with plain keys, lists, and scalars by their resolved YAML type (a quoted scalar is
    /// a string).
    mutating func json(_ node: Node, at path: String) -> JSONValue? {
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (k, v) in mapping {
                guard case .scalar(let s) = k else {
                    reader.wrongType(k, path, "a key must be a plain name")
                    return nil
                }
                guard let value = json(v, at: path.isEmpty ? s.string : "\(path).\(s.string)") else { return nil }
                object[s.string] = value
            }
            return .object(object)
        case .sequence(let seq):
            var items: [JSONValue] = []
            for (i, item) in seq.enumerated() {
                guard let value = json(item, at: "\(path)[\(i)]") else { return nil }
                items.append(value)
            }
            return .array(items)
        case .scalar(let s):
            guard s.style == .plain || s.style == .any else { return .string(s.string) }
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSONValue.bool) ?? .string(s.string)
            case .int: return node.int.map { .integer(Int64($0)) } ?? .string(s.string)
            case .float: return node.float.map(JSONValue.number) ?? .string(s.string)
            default: return .string(s.string)
            }
        case .alias:
            reader.wrongType(node, path, "an alias cannot be used here: write the value out")
            return nil
        }
    }

    /// The node at a dotted path inside a table (as far as the keys are found), for the line of a schema error.
    static func descend(_ node: Node, _ path: String) -> Node {
        var current = node
        for key in path.split(separator: ".") {
            guard case .mapping(let m) = current, let next = m.first(where: { $0.key.string == String(key) })?.value else { break }
            current = next
        }
        return current
    }
}
