public import ModelSelection

/// What a request's `model` field (with the `X-BATS-Task` and `X-BATS-Tier` headers) asks the router for.
///
/// - `bats/simple` … `bats/critical`: a tier, routed down its chain.
/// - `bats/task/<kind>`, or any `bats/…` name with an `X-BATS-Task` header: a task kind, through the tier map.
/// - A catalog model's canonical or gateway id: that model alone, under the budget, never swapped (its tier from
///   `X-BATS-Tier`, else the task kind, else `simple`).
/// - `bats/council/<name>`, `bats/cascade/<name>`: a configured council or cascade (its tier from `X-BATS-Tier`,
///   else the task kind, else the one configured for it; the caller fills in that last default).
public struct RoutingName: Sendable, Hashable {
    /// The tier, when the name or a header gives it.
    public var tier: Complexity?
    /// The task kind, when the name or a header gives it.
    public var kind: String?
    /// The catalog model the caller named, for a fixed-model call.
    public var model: String?
    /// The council the caller named (`bats/council/<name>`).
    public var council: String?
    /// The cascade the caller named (`bats/cascade/<name>`).
    public var cascade: String?

    /// The routing prefix.
    public static let prefix = "bats/"

    /// Reads a `model` field and the headers.
    /// - Parameters:
    ///   - model: The request's `model`.
    ///   - taskHeader: `X-BATS-Task`, if sent.
    ///   - tierHeader: `X-BATS-Tier`, if sent.
    ///   - selector: The selector whose catalog and tier map the names are checked against.
    ///   - councils: The names of the configured councils.
    ///   - cascades: The names of the configured cascades.
    /// - Throws: ``OpenAIError`` 404 (`model_not_found`) for a name that is none of the above (an unknown council's
    ///   names the configured ones), 400 for a bad header.
    public init(
        model: String, taskHeader: String?, tierHeader: String?, selector: ModelSelector, councils: Set<String> = [], cascades: Set<String> = []
    ) throws(OpenAIError) {
        var tier: Complexity?
        if let t = tierHeader?.trimmed, !t.isEmpty {
            guard let c = Complexity(rawValue: t.lowercased()) else {
                throw .invalidRequest(
                    "X-BATS-Tier must be one of \(Complexity.allCases.map(\.rawValue).joined(separator: ", "))", param: "X-BATS-Tier")
            }
            tier = c
        }
        let header = taskHeader?.trimmed
        if let h = header, !RoutingName.isKind(h) {
            throw .invalidRequest("X-BATS-Task must be a task kind of letters, digits, _ . - (at most 128)", param: "X-BATS-Task")
        }
        self.kind = header.flatMap { $0.isEmpty ? nil : $0 }
        if model.hasPrefix(Self.prefix) {
            let rest = model.dropFirst(Self.prefix.count)
            for (prefix, names) in [("council/", councils), ("cascade/", cascades)] where rest.hasPrefix(prefix) {
                let name = String(rest.dropFirst(prefix.count))
                let what = prefix == "council/" ? "council" : "cascade"
                guard names.contains(name) else {
                    throw .modelNotFound(
                        model,
                        known: names.isEmpty
                            ? "No \(what) is configured on this server (add \(what)s: to its configuration file)."
                            : "The configured \(what)s: \(names.sorted().joined(separator: ", ")).")
                }
                if prefix == "council/" { self.council = name } else { self.cascade = name }
                self.tier = tier
                self.model = nil
                return
            }
            if rest.hasPrefix("task/") {
                let kind = String(rest.dropFirst("task/".count))
                guard Self.isKind(kind), !kind.isEmpty else { throw .modelNotFound(model, known: Self.known(selector)) }
                self.kind = kind
                self.tier = tier
            } else if let c = Complexity(rawValue: String(rest)) {
                self.tier = c
            } else if rest == "auto", self.kind != nil {
                self.tier = tier
            } else {
                throw .modelNotFound(model, known: Self.known(selector))
            }
            self.model = nil
            return
        }
        let catalog = selector.catalog
        guard let m = catalog.model(ModelID(model)) ?? catalog.model(gatewayID: model) else {
            throw .modelNotFound(model, known: Self.known(selector))
        }
        self.model = m.id.rawValue
        self.tier = tier ?? (self.kind == nil ? .simple : nil)
    }

    /// The names a caller can use, for a not-found message.
    static func known(_ selector: ModelSelector) -> String {
        "Use bats/<tier> (\(Complexity.allCases.map(\.rawValue).joined(separator: ", "))), bats/task/<kind>, bats/council/<name>, "
            + "bats/cascade/<name>, or a catalog model ("
            + selector.catalog.models.map(\.id.rawValue).joined(separator: ", ") + "); GET /v1/models lists them."
    }

    static func isKind(_ s: String) -> Bool {
        s.utf8.count <= 128 && s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.kindCharacters.contains($0)) }
    }
}

import Foundation

extension CharacterSet {
    static let kindCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespaces) }
}
