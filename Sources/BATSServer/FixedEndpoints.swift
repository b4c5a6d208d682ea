import BATS
import Foundation
import Gateway
import Hummingbird
import ModelSelection

extension ServerHandlers {
    /// `POST /v1/embeddings`: the named catalog embedding model (or, for a `bats/…` name, the catalog's first), under
    /// the budget.
    func embeddings(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        let caller = try authenticate(request)
        let parsed = try RequestJSON.decode(EmbeddingsBody.self, from: try await body(request))
        let (name, model) = try fixedName(parsed.model, kind: .embedding, headers: request.headers)
        var r = parsed.request
        r.model = model
        let tags = try tags(headers: request.headers, caller: caller)
        let (routed, headers) = try await routedCall(
            {
                try await router.embed(
                    r, kind: name.kind, tier: name.tier, tags: tags, requestID: requestID, callerKey: caller?.name, logger: logger)
            }, record: \.record)
        return Self.json(WireJSON.encode(WireEncoding.Embeddings(r: routed.response, base64: parsed.base64)), headers: headers)
    }

    /// `POST /v1/images/generations`: the named catalog image model (or the catalog's first), under the budget.
    func images(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        let caller = try authenticate(request)
        let parsed = try RequestJSON.decode(ImagesBody.self, from: try await body(request))
        let (name, model) = try fixedName(parsed.model, kind: .image, headers: request.headers)
        var r = parsed.request
        r.model = model
        let tags = try tags(headers: request.headers, caller: caller)
        let (routed, headers) = try await routedCall(
            {
                try await router.generateImages(
                    r, kind: name.kind, tier: name.tier, tags: tags, requestID: requestID, callerKey: caller?.name, logger: logger)
            }, record: \.record)
        let now = Int(router.currentDate.timeIntervalSince1970)
        return Self.json(WireJSON.encode(WireEncoding.Images(r: routed.response, now: now)), headers: headers)
    }

    /// The routing name of an embeddings or image call, and the catalog model to send ("" for the first of its kind).
    private func fixedName(_ model: String, kind: ModelInfo.Kind, headers: HTTPFields) throws(OpenAIError) -> (RoutingName, String) {
        let name = try routingName(model.isEmpty ? "bats/simple" : model, headers: headers)
        if name.council != nil || name.cascade != nil {
            throw .invalidRequest("`\(model)` is a council or a cascade: they answer chat completions only", param: "model")
        }
        if let m = name.model, selector.catalog.model(ModelID(m))?.kind != kind {
            let known = selector.catalog.models.filter { $0.kind == kind }.map(\.id.rawValue).joined(separator: ", ")
            throw .invalidRequest("`\(model)` is not a\(kind == .image ? "n image" : "n embedding") model (\(kind) models: \(known.isEmpty ? "none" : known))", param: "model")
        }
        return (name, name.model ?? "")
    }

    /// `GET /v1/models`: the routing names (tiers, task kinds, configured councils and cascades) and the catalog's models.
    func models(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        _ = try authenticate(request)
        var data: [JSONValue] = []
        func entry(_ id: String, owner: String, extra: [String: JSONValue] = [:]) -> JSONValue {
            var o: [String: JSONValue] = ["id": .string(id), "object": .string("model"), "created": .integer(0), "owned_by": .string(owner)]
            for (k, v) in extra { o[k] = v }
            return .object(o)
        }
        for tier in Complexity.allCases {
            data.append(entry("bats/\(tier.rawValue)", owner: "bats", extra: ["bats_chain": .array(selector.chain(for: tier).map { .string($0.rawValue) })]))
        }
        for (kind, tier) in selector.configuration.taskTiers.sorted(by: { $0.key < $1.key }) {
            data.append(entry("bats/task/\(kind)", owner: "bats", extra: ["bats_tier": .string(tier.rawValue)]))
        }
        for (name, c) in server.configuration.councils.sorted(by: { $0.key < $1.key }) {
            let council = c.definition
            data.append(entry("bats/council/\(name)", owner: "bats", extra: [
                "bats_council_members": .array(council.members.map { .string($0.description) }),
                "bats_aggregation": .string(council.aggregation.description), "bats_extractor": .string(council.extractor.name),
                "bats_tier": .string((c.tier ?? .simple).rawValue),
            ]))
        }
        for (name, c) in server.configuration.cascades.sorted(by: { $0.key < $1.key }) {
            let cascade = c.definition
            data.append(entry("bats/cascade/\(name)", owner: "bats", extra: [
                "bats_cascade_steps": .array(cascade.steps.map { .string($0.rawValue) }), "bats_verifier": .string(cascade.verifier.name),
                "bats_tier": .string((c.tier ?? .simple).rawValue),
            ]))
        }
        for m in selector.catalog.models {
            data.append(entry(m.id.rawValue, owner: m.gatewayID.split(separator: "/").first.map(String.init) ?? "catalog", extra: ["bats_kind": .string(m.kind.rawValue), "bats_gateway_id": .string(m.gatewayID)]))
        }
        return Self.json(WireJSON.encode(JSONValue.object(["object": .string("list"), "data": .array(data)])))
    }
}
