import BATS
import BATSConfiguration
import BATSServer
import ModelSelection

/// The configuration file's councils and cascades as the router's, for `bats serve` to offer by routing name.
///
/// The file's definitions are already checked against its own catalog; here they are checked again against the
/// catalog the server prices with (a `--prices` file may replace the file's).
enum ServeEnsembles {
    /// The councils, by name.
    /// - Throws: ``CommandError`` when a council names a model the catalog has no chat model for.
    static func councils(_ file: DeploymentConfiguration?, catalog: ModelCatalog) throws -> [String: BATSServer.Ensemble<Council>] {
        var out: [String: BATSServer.Ensemble<Council>] = [:]
        for (name, c) in file?.councils ?? [:] {
            let members: [Council.Member] = try c.members.map { m in
                switch m {
                case .model(let id): return .model(try chatModel(id, catalog: catalog, what: "council '\(name)'"))
                case .tier(let t): return .tier(t)
                }
            }
            let aggregation: Council.Aggregation
            switch c.aggregation {
            case .majority: aggregation = .majority
            case .firstAgreement(let k): aggregation = .firstAgreement(k)
            case .judge(let id): aggregation = .judge(try chatModel(id, catalog: catalog, what: "council '\(name)' (its judge)"))
            }
            guard let extractor = AnswerExtractor.named(c.extractor) else {
                throw CommandError("council '\(name)': unknown extractor '\(c.extractor)'")
            }
            let council = Council(
                name: name, members: members, minimumMembers: c.minimumMembers, aggregation: aggregation, extractor: extractor,
                judgeMaxOutputTokens: c.judgeMaxOutputTokens ?? 256)
            out[name] = .init(council, tier: c.tier, taskKinds: Set(c.taskKinds))
        }
        return out
    }

    /// The cascades, by name.
    /// - Throws: ``CommandError`` when a cascade names a model the catalog has no chat model for, or its pattern does
    ///   not compile.
    static func cascades(_ file: DeploymentConfiguration?, catalog: ModelCatalog) throws -> [String: BATSServer.Ensemble<Cascade>] {
        var out: [String: BATSServer.Ensemble<Cascade>] = [:]
        for (name, c) in file?.cascades ?? [:] {
            let what = "cascade '\(name)'"
            let steps = try c.steps.map { try chatModel($0, catalog: catalog, what: what) }
            let verifier: Verifier
            switch c.verifier {
            case .json: verifier = .json
            case .jsonSchema(let schema): verifier = .jsonSchema(schema)
            case .regex(let pattern):
                do { verifier = try .regex(pattern) } catch { throw CommandError("\(what): \(error)") }
            case .judge(let model, let criteria):
                verifier = .judge(try chatModel(model, catalog: catalog, what: "\(what) (its judge)"), criteria: criteria)
            }
            out[name] = .init(Cascade(name: name, steps: steps, verifier: verifier), tier: c.tier, taskKinds: Set(c.taskKinds))
        }
        return out
    }

    /// `id` when the catalog has a chat model of that id.
    private static func chatModel(_ id: ModelID, catalog: ModelCatalog, what: String) throws -> ModelID {
        guard catalog.model(id)?.kind == .chat else {
            let known = catalog.models.filter { $0.kind == .chat }.map(\.id.rawValue).joined(separator: ", ")
            throw CommandError("\(what) names '\(id)', which the catalog has no chat model for (its chat models: \(known))")
        }
        return id
    }
}
