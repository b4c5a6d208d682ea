public import Foundation

extension ModelCatalog {
    /// The catalog shipped in the package's resources (the five routing models, an embedding and an image model).
    /// - Throws: ``CatalogError`` if the bundled file is missing or invalid (a packaging error).
    public static func bundled() throws -> ModelCatalog {
        guard let url = Bundle.module.url(forResource: "catalog", withExtension: "json") else {
            throw CatalogError.unreadable(source: "<bundled>", message: "catalog.json is missing from the package resources")
        }
        return try load(contentsOf: url, sourceName: "<bundled>")
    }

    /// Loads a catalog from a JSON file (the format of the bundled `catalog.json`).
    /// - Parameters:
    ///   - url: The file.
    ///   - sourceName: How errors name the file; defaults to its path.
    /// - Returns: The checked catalog.
    /// - Throws: ``CatalogError`` naming the field at fault.
    public static func load(contentsOf url: URL, sourceName: String? = nil) throws -> ModelCatalog {
        let source = sourceName ?? url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CatalogError.unreadable(source: source, message: "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data, source: source)
    }

    /// Decodes a catalog from JSON bytes.
    /// - Parameters:
    ///   - data: The JSON document.
    ///   - source: How errors name the document.
    /// - Returns: The checked catalog.
    /// - Throws: ``CatalogError`` naming the field at fault.
    public static func decode(_ data: Data, source: String) throws -> ModelCatalog {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw CatalogError.malformed(source: source, field: "", message: "not valid JSON")
        }
        guard let object = root as? [String: Any] else {
            throw CatalogError.malformed(source: source, field: "", message: "the top level must be a JSON object")
        }
        let reader = FieldReader(source: source)
        let margin = try reader.money(object, "gateway_margin", at: "", defaultValue: .zero)
        guard let rawModels = object["models"] else {
            throw CatalogError.malformed(source: source, field: "models", message: "missing")
        }
        guard let list = rawModels as? [Any] else {
            throw CatalogError.malformed(source: source, field: "models", message: "must be an array")
        }
        var models: [ModelInfo] = []
        for (n, item) in list.enumerated() {
            let at = "models[\(n)]"
            guard let m = item as? [String: Any] else {
                throw CatalogError.malformed(source: source, field: at, message: "must be an object")
            }
            let id = try reader.string(m, "id", at: at)
            let capabilityNames = try reader.stringArray(m, "capabilities", at: at)
            var caps: ModelInfo.Capabilities = []
            for (k, name) in capabilityNames.enumerated() {
                guard let cap = ModelInfo.Capabilities.names.first(where: { $0.0 == name })?.1 else {
                    throw CatalogError.invalidField(source: source, field: "\(at).capabilities[\(k)]", message: "unknown capability '\(name)' (tools, vision, reasoning)")
                }
                caps.insert(cap)
            }
            let kindName = try reader.optionalString(m, "kind", at: at) ?? "chat"
            guard ["chat", "embedding", "image"].contains(kindName) else {
                throw CatalogError.invalidField(source: source, field: "\(at).kind", message: "unknown kind '\(kindName)' (chat, embedding, image)")
            }
            models.append(
                ModelInfo(
                    id: ModelID(id),
                    name: try reader.optionalString(m, "name", at: at) ?? id,
                    gatewayID: try reader.optionalString(m, "gateway_id", at: at) ?? id,
                    kind: .init(rawValue: kindName),
                    inputPerMillionTokens: try reader.price(m, "input_per_mtok", at: at, model: id),
                    outputPerMillionTokens: try reader.price(m, "output_per_mtok", at: at, model: id),
                    perImage: try reader.money(m, "per_image", at: at, defaultValue: .zero),
                    contextWindow: try reader.int(m, "context_window", at: at),
                    maxOutputTokens: try reader.int(m, "max_output_tokens", at: at),
                    capabilities: caps,
                    cachedInputPerMillionTokens: try reader.optionalMoney(m, "cached_input_per_mtok", at: at),
                    cacheWritePerMillionTokens: try reader.optionalMoney(m, "cache_write_per_mtok", at: at),
                    perRequest: try reader.money(m, "per_request", at: at, defaultValue: .zero),
                    // A fraction ("0.05"): as micro-units it is already parts per million.
                    marginPartsPerMillion: try reader.optionalMoney(m, "gateway_margin", at: at)?.rawValue))
        }
        // The margin is a fraction ("0.05"): as micro-units it is already parts per million.
        var catalog = ModelCatalog(uncheckedModels: models, margin: margin.rawValue)
        try catalog.validate(source: source)
        return catalog
    }
}

/// Reads typed fields out of `JSONSerialization` objects, naming the field in every error.
private struct FieldReader {
    let source: String

    func path(_ at: String, _ key: String) -> String { at.isEmpty ? key : "\(at).\(key)" }

    func string(_ o: [String: Any], _ key: String, at: String) throws -> String {
        guard let v = o[key] else { throw CatalogError.malformed(source: source, field: path(at, key), message: "missing") }
        guard let s = v as? String else { throw CatalogError.malformed(source: source, field: path(at, key), message: "must be a string") }
        return s
    }

    func optionalString(_ o: [String: Any], _ key: String, at: String) throws -> String? {
        guard let v = o[key], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw CatalogError.malformed(source: source, field: path(at, key), message: "must be a string") }
        return s
    }

    func stringArray(_ o: [String: Any], _ key: String, at: String) throws -> [String] {
        guard let v = o[key], !(v is NSNull) else { return [] }
        guard let a = v as? [Any] else { throw CatalogError.malformed(source: source, field: path(at, key), message: "must be an array of strings") }
        return try a.enumerated().map { k, e in
            guard let s = e as? String else {
                throw CatalogError.malformed(source: source, field: "\(path(at, key))[\(k)]", message: "must be a string")
            }
            return s
        }
    }

    func int(_ o: [String: Any], _ key: String, at: String) throws -> Int {
        guard let v = o[key] else { throw CatalogError.malformed(source: source, field: path(at, key), message: "missing") }
        guard let n = v as? NSNumber, !isJSONBool(v), let i = Int(exactly: n.doubleValue) else {
            throw CatalogError.malformed(source: source, field: path(at, key), message: "must be a whole number")
        }
        return i
    }

    /// A required price: missing is not zero, so an absent price is refused with the model and the field named.
    func price(_ o: [String: Any], _ key: String, at: String, model: String) throws -> MicroDollars {
        guard let v = o[key], !(v is NSNull) else {
            throw CatalogError.malformed(
                source: source, field: path(at, key),
                message: "model '\(model)' has no \(key): a missing price is not zero (write \"0\" for a part that is free)")
        }
        return try money(o, key, at: at, defaultValue: nil)
    }

    /// An optional price or fraction: `nil` when absent or `null` (never zero).
    func optionalMoney(_ o: [String: Any], _ key: String, at: String) throws -> MicroDollars? {
        guard let v = o[key], !(v is NSNull) else { return nil }
        return try money(o, key, at: at, defaultValue: nil)
    }

    /// A price or fraction, as a decimal string ("0.30") or a JSON number, parsed exactly to micro-units.
    func money(_ o: [String: Any], _ key: String, at: String, defaultValue: MicroDollars?) throws -> MicroDollars {
        guard let v = o[key], !(v is NSNull) else {
            if let d = defaultValue { return d }
            throw CatalogError.malformed(source: source, field: path(at, key), message: "missing")
        }
        let text: String
        if let s = v as? String {
            text = s
        } else if let n = v as? NSNumber, !isJSONBool(v) {
            // The shortest round-tripping decimal of a JSON number is its literal text for prices like 0.3.
            text = "\(n.doubleValue)"
        } else {
            throw CatalogError.malformed(source: source, field: path(at, key), message: "must be a decimal string such as \"0.30\"")
        }
        guard let m = MicroDollars(parsing: text.hasSuffix(".0") ? String(text.dropLast(2)) : text) else {
            throw CatalogError.invalidField(source: source, field: path(at, key), message: "'\(text)' is not a decimal amount with at most 6 fractional digits")
        }
        return m
    }
}

/// Whether a `JSONSerialization` value is `true`/`false` (on Linux, numbers 0 and 1 also cast to `Bool`).
private func isJSONBool(_ v: Any) -> Bool {
    guard let n = v as? NSNumber else { return false }
    let t = String(cString: n.objCType)
    return t == "c" || t == "B"
}
