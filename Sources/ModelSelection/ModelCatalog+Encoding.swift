public import Foundation

extension ModelCatalog {
    /// The catalog as a JSON file in the format ``load(contentsOf:sourceName:)`` reads, prices as decimal strings.
    ///
    /// Every price is written digit for digit (`"0.600000"`), so loading the file gives back the same catalog.
    /// Optional prices the catalog lacks are left out, never written as zero.
    /// - Returns: The UTF-8 JSON document, one model a block, ending in a newline.
    public func encodedJSON() -> Data {
        func string(_ s: String) -> String {
            (try? JSONEncoder().encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
        }
        func money(_ m: MicroDollars) -> String { "\"\(m.decimalString)\"" }
        var blocks: [String] = []
        for m in models {
            var fields: [(String, String)] = [
                ("id", string(m.id.rawValue)), ("name", string(m.name)), ("gateway_id", string(m.gatewayID)),
                ("kind", string(m.kind.rawValue)),
                ("input_per_mtok", money(m.inputPerMillionTokens)), ("output_per_mtok", money(m.outputPerMillionTokens)),
            ]
            if let c = m.cachedInputPerMillionTokens { fields.append(("cached_input_per_mtok", money(c))) }
            if let c = m.cacheWritePerMillionTokens { fields.append(("cache_write_per_mtok", money(c))) }
            if m.perImage != .zero { fields.append(("per_image", money(m.perImage))) }
            if m.perRequest != .zero { fields.append(("per_request", money(m.perRequest))) }
            if let margin = m.marginPartsPerMillion { fields.append(("gateway_margin", money(MicroDollars(micros: margin)))) }
            fields.append(("context_window", String(m.contextWindow)))
            fields.append(("max_output_tokens", String(m.maxOutputTokens)))
            fields.append(("capabilities", "[" + m.capabilities.names.map(string).joined(separator: ", ") + "]"))
            blocks.append("    {\n" + fields.map { "      \(string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n    }")
        }
        let text = """
            {
              "version": 1,
              "gateway_margin": \(money(MicroDollars(micros: marginPartsPerMillion))),
              "models": [
            \(blocks.joined(separator: ",\n"))
              ]
            }

            """
        return Data(text.utf8)
    }
}
