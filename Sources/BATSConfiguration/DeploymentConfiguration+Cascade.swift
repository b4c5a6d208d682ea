public import Gateway
public import ModelSelection

extension DeploymentConfiguration {
    /// One entry of `cascades:`: a cascade as the file defines it, served by `bats serve` as `bats/cascade/<name>`.
    ///
    /// Plain values, checked as the file is read (models against the catalog, the pattern compiled, the schema
    /// loaded); the router's `Cascade` is built from them by the command that serves it.
    ///
    /// ```yaml
    /// cascades:
    ///   extract:
    ///     steps: [deepseek-v3, kimi-k2, claude-opus]   # cheapest first; leave out for the tier's chain
    ///     verifier:
    ///       json-schema: {type: object, required: [side]}
    /// ```
    public struct Cascade: Sendable, Hashable {
        /// What each answer must pass, as the router's `Verifier`.
        public enum Verifier: Sendable, Hashable, CustomStringConvertible {
            /// `json`: the answer parses as JSON.
            case json
            /// `json-schema: {…}`: the answer parses as JSON and matches the schema (already loaded).
            case jsonSchema(JSONSchema)
            /// `regex: PATTERN`: the pattern (already compiled once) matches the answer.
            case regex(String)
            /// `judge: {model: M, criteria: TEXT}`: a catalog chat model accepts or rejects the answer.
            case judge(model: ModelID, criteria: String)

            /// `json`, `json-schema`, `regex` or `judge:MODEL`, as the router names a verifier.
            public var description: String {
                switch self {
                case .json: "json"
                case .jsonSchema: "json-schema"
                case .regex: "regex"
                case .judge(let m, _): "judge:\(m)"
                }
            }
        }

        /// The cascade's name: its key under `cascades`, the `<name>` of `bats/cascade/<name>`.
        public var name: String
        /// The tier a call runs at when the request names none; `nil` for `simple`.
        public var tier: Complexity?
        /// The task kinds this answers for (`task_kinds`): a request for `bats/task/<kind>` (or `bats/auto` with
        /// `X-BATS-Task: <kind>`) runs it. A kind belongs to one council or cascade at most.
        public var taskKinds: [String] = []
        /// The catalog chat models, cheapest first; empty for the tier's chain read from its cheapest model up.
        public var steps: [ModelID]
        /// What each answer must pass.
        public var verifier: Verifier

        /// Creates a cascade definition.
        /// - Parameters:
        ///   - name: Its name.
        ///   - tier: The default tier, or `nil`.
        ///   - steps: The models, cheapest first (empty: the tier's chain).
        ///   - verifier: What each answer must pass.
        public init(name: String, tier: Complexity? = nil, steps: [ModelID] = [], verifier: Verifier = .json) {
            self.name = name
            self.tier = tier
            self.steps = steps
            self.verifier = verifier
        }
    }
}
