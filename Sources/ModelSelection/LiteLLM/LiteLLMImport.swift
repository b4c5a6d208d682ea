public import Foundation

/// A LiteLLM price map set against a catalog: which entry prices each model, what would change, and the new catalog.
///
/// Each catalog model is matched to at most one map entry, by this rule:
/// 1. the mapping file's entry for the model's catalog id (the key must exist in the map), else
/// 2. the candidates: the entry keyed by the model's `gateway_id` exactly (`claude-opus-4-1`) and every entry keyed
///    `provider/gateway_id` with a one-segment provider (`mistral/mistral-medium-2505`). One candidate is the match;
///    several that give the same prices match too (the exact key first, else the first in key order, the others
///    listed); several that disagree are ambiguous: reported with the candidates, never guessed, for the mapping file
///    to settle. (LiteLLM 1.80.0 lists `deepseek-chat` at $0.60/$1.70 and `deepseek/deepseek-chat` at $0.27/$1.10.)
///
/// Without a candidate the model is unmatched; keys that end in `/gateway_id` deeper down, such as
/// `groq/moonshotai/kimi-k2-instruct`, are listed as hints. An entry is imported whole or not at all: one without both
/// `input_cost_per_token` and `output_cost_per_token`, or with a mapped price it cannot use exactly, is reported and
/// leaves the model's prices as they are, as does one that would make the model fail the catalog's checks (a kept
/// cache price above a lower new input price). Prices the entry does not give (a cache price LiteLLM lacks) are kept.
public struct LiteLLMImport: Sendable {
    /// How a model found its entry.
    public struct Rule: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The rule's name as printed.
        public var rawValue: String
        /// Creates a rule.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Named by the mapping file.
        public static let mapping = Rule(rawValue: "mapping file")
        /// The key is the model's gateway id.
        public static let gatewayID = Rule(rawValue: "gateway id")
        /// The key is `provider/gateway_id`.
        public static let providerPrefix = Rule(rawValue: "provider/gateway id")
        /// The rule's name.
        public var description: String { rawValue }
    }

    /// One price that differs between the catalog and the map.
    public struct PriceChange: Sendable, Hashable {
        /// The catalog model.
        public var model: ModelID
        /// The catalog field (`input_per_mtok`, `cached_input_per_mtok`, …).
        public var field: String
        /// The catalog's price (`nil`: the catalog has none).
        public var current: MicroDollars?
        /// LiteLLM's price, converted.
        public var litellm: MicroDollars
        /// `litellm - current`; `nil` when the catalog has no price.
        public var change: MicroDollars? { current.flatMap { try? litellm.subtracting($0) } }
    }

    /// What happened to one catalog model.
    public struct ModelResult: Sendable, Hashable {
        /// The catalog model.
        public var model: ModelID
        /// Its gateway id.
        public var gatewayID: String
        /// The matching entry's key, or `nil` when none matched.
        public var key: String?
        /// How the entry was found (`nil` when none was).
        public var rule: Rule?
        /// Whether its prices were taken from the entry.
        public var imported: Bool
        /// Why they were not, one reason a line (no entry, ambiguous, missing price, unusable field).
        public var problems: [String]
        /// Other keys that could be the model's entry: those that agree with the match, those that disagree when
        /// ambiguous, or deeper `…/gateway_id` keys when nothing matched.
        public var candidates: [String]
        /// The matching entry's price-like fields that the importer does not understand.
        public var unknownFields: [String]
    }

    /// The per-model results, in catalog order.
    public var results: [ModelResult]
    /// The prices that differ, in catalog and field order.
    public var changes: [PriceChange]
    /// How many mapped prices are the same in both.
    public var unchanged: Int
    /// The catalog with the imported prices.
    public var catalog: ModelCatalog

    /// Sets a map against a catalog.
    /// - Parameters:
    ///   - map: The LiteLLM price map.
    ///   - catalog: The current catalog.
    ///   - mapping: Catalog id → LiteLLM key, for models whose key is not found by the rule.
    ///   - mappingSource: How errors name the mapping file.
    /// - Throws: ``PriceImportError`` when the mapping names an unknown model or key, or the new catalog fails its
    ///   checks.
    public init(
        map: LiteLLMPriceMap, catalog: ModelCatalog, mapping: [String: String] = [:], mappingSource: String = "<mapping>"
    ) throws(PriceImportError) {
        for (id, key) in mapping.sorted(by: { $0.key < $1.key }) {
            guard catalog.contains(ModelID(id)) else {
                throw .malformedMapping(source: mappingSource, key: id, message: "the catalog has no model '\(id)'")
            }
            guard map.entries[key] != nil else {
                throw .malformedMapping(source: mappingSource, key: id, message: "the price map has no entry '\(key)'")
            }
        }
        var results: [ModelResult] = []
        var changes: [PriceChange] = []
        var unchanged = 0
        var models: [ModelInfo] = []
        for var model in catalog.models {
            var r = ModelResult(
                model: model.id, gatewayID: model.gatewayID, key: nil, rule: nil, imported: false, problems: [],
                candidates: [], unknownFields: [])
            let found = Self.match(model, map: map, mapping: mapping)
            r.rule = found.rule
            r.candidates = found.candidates
            if let entry = found.entry {
                r.key = entry.key
                r.unknownFields = entry.unknownFields
                r.problems = Self.problems(entry)
                if r.problems.isEmpty, let input = entry.input, let output = entry.output {
                    var updated = model
                    updated.inputPerMillionTokens = input
                    updated.outputPerMillionTokens = output
                    updated.cachedInputPerMillionTokens = entry.cachedInput ?? model.cachedInputPerMillionTokens
                    updated.cacheWritePerMillionTokens = entry.cacheWrite ?? model.cacheWritePerMillionTokens
                    updated.perImage = entry.perImage ?? model.perImage
                    updated.perRequest = entry.perRequest ?? model.perRequest
                    // The model with its new prices must pass the catalog's checks on its own (a kept cache price
                    // above a lower new input price, a price past the ceilings): if not, it is reported, not imported.
                    do {
                        _ = try ModelCatalog(models: [updated], marginPartsPerMillion: catalog.marginPartsPerMillion)
                        r.imported = true
                    } catch {
                        let why = (error as? CatalogError).map { "\($0.field.replacingOccurrences(of: "models[0].", with: "")): \($0.message)" } ?? "\(error)"
                        r.problems = ["with entry '\(entry.key)' the model would be refused: \(why)"]
                    }
                }
                if r.imported {
                    let fields: [(String, MicroDollars?, MicroDollars?)] = [
                        ("input_per_mtok", model.inputPerMillionTokens, entry.input),
                        ("output_per_mtok", model.outputPerMillionTokens, entry.output),
                        ("cached_input_per_mtok", model.cachedInputPerMillionTokens, entry.cachedInput),
                        ("cache_write_per_mtok", model.cacheWritePerMillionTokens, entry.cacheWrite),
                        ("per_image", model.perImage, entry.perImage),
                        ("per_request", model.perRequest, entry.perRequest),
                    ]
                    for (field, current, new) in fields {
                        guard let new else { continue }
                        if current == new { unchanged += 1 } else {
                            changes.append(PriceChange(model: model.id, field: field, current: current, litellm: new))
                        }
                    }
                    model.inputPerMillionTokens = entry.input ?? model.inputPerMillionTokens
                    model.outputPerMillionTokens = entry.output ?? model.outputPerMillionTokens
                    model.cachedInputPerMillionTokens = entry.cachedInput ?? model.cachedInputPerMillionTokens
                    model.cacheWritePerMillionTokens = entry.cacheWrite ?? model.cacheWritePerMillionTokens
                    model.perImage = entry.perImage ?? model.perImage
                    model.perRequest = entry.perRequest ?? model.perRequest
                }
            } else if found.ambiguous {
                r.problems = ["ambiguous: \(found.candidates.joined(separator: ", ")) give different prices for '\(model.gatewayID)'; name one in the mapping file"]
            } else {
                r.problems = ["no entry '\(model.gatewayID)' or 'provider/\(model.gatewayID)'"]
            }
            results.append(r)
            models.append(model)
        }
        do {
            self.catalog = try ModelCatalog(models: models, marginPartsPerMillion: catalog.marginPartsPerMillion)
        } catch {
            throw .unusableCatalog(source: "", key: "", message: "\(error)")
        }
        self.results = results
        self.changes = changes
        self.unchanged = unchanged
    }

    // MARK: - Matching

    /// What the rule found for one model.
    private struct Found {
        var entry: LiteLLMPriceMap.Entry?
        var rule: Rule?
        var candidates: [String] = []
        var ambiguous = false
    }

    /// The entry for a model by the rule (see the type's documentation).
    private static func match(_ model: ModelInfo, map: LiteLLMPriceMap, mapping: [String: String]) -> Found {
        if let key = mapping[model.id.rawValue], let e = map.entries[key] { return Found(entry: e, rule: .mapping) }
        let suffix = "/" + model.gatewayID
        let endings = map.entries.keys.filter { $0.hasSuffix(suffix) }.sorted()
        let prefixed = endings.filter { !$0.dropLast(suffix.count).contains("/") }
        let keys = (map.entries[model.gatewayID] != nil ? [model.gatewayID] : []) + prefixed
        let entries = keys.compactMap { map.entries[$0] }
        guard let first = entries.first else { return Found(candidates: endings) }
        let rule: Rule = first.key == model.gatewayID ? .gatewayID : .providerPrefix
        if entries.allSatisfy({ samePrices($0, first) }) {
            return Found(entry: first, rule: rule, candidates: Array(keys.dropFirst()))
        }
        return Found(candidates: keys, ambiguous: true)
    }

    /// Whether two entries give the same prices for every field the importer maps.
    private static func samePrices(_ a: LiteLLMPriceMap.Entry, _ b: LiteLLMPriceMap.Entry) -> Bool {
        a.input == b.input && a.output == b.output && a.cachedInput == b.cachedInput && a.cacheWrite == b.cacheWrite
            && a.perImage == b.perImage && a.perRequest == b.perRequest && a.unusableFields == b.unusableFields
    }

    /// Why an entry's prices cannot be imported as a whole.
    private static func problems(_ e: LiteLLMPriceMap.Entry) -> [String] {
        var p: [String] = []
        if !e.hasPrices && e.unusableFields.isEmpty {
            p.append("entry '\(e.key)' has no prices this catalog holds (no input_cost_per_token or output_cost_per_token)")
        } else {
            if e.input == nil && e.unusableFields["input_cost_per_token"] == nil { p.append("entry '\(e.key)' has no input_cost_per_token: a missing price is not zero") }
            if e.output == nil && e.unusableFields["output_cost_per_token"] == nil { p.append("entry '\(e.key)' has no output_cost_per_token: a missing price is not zero") }
        }
        for (field, why) in e.unusableFields.sorted(by: { $0.key < $1.key }) {
            p.append("entry '\(e.key)' \(field): \(why)")
        }
        return p
    }

    // MARK: - Mapping file

    /// Reads a mapping file: a JSON object of catalog id → LiteLLM key, e.g. `{"kimi-k2": "moonshot/kimi-k2-0711-preview"}`.
    /// - Parameters:
    ///   - data: The JSON document.
    ///   - source: How errors name the file.
    /// - Returns: The mapping.
    /// - Throws: ``PriceImportError`` when it is not an object of strings, naming the catalog id at fault.
    public static func mapping(_ data: Data, source: String) throws(PriceImportError) -> [String: String] {
        let root: LiteLLMValue
        do { root = try JSONDecoder().decode(LiteLLMValue.self, from: data) } catch {
            throw .malformedMapping(source: source, key: "", message: "not valid JSON")
        }
        guard case .object(let object) = root else {
            throw .malformedMapping(source: source, key: "", message: "must be a JSON object of catalog id → LiteLLM key, not \(root.typeName)")
        }
        var mapping: [String: String] = [:]
        for (id, value) in object {
            guard case .string(let key) = value else {
                throw .malformedMapping(source: source, key: id, message: "the LiteLLM key must be a string, not \(value.typeName)")
            }
            mapping[id] = key
        }
        return mapping
    }
}
