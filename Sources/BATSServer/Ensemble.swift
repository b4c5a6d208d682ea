public import ModelSelection

extension BATSServer {
    /// A council or a cascade that the server offers under a routing name (`bats/council/<name>`,
    /// `bats/cascade/<name>`), with the tier its calls run at when a request names none.
    ///
    /// A request's `X-BATS-Tier` wins, then its task kind when the tier map has it, then ``tier``, then `simple`.
    public struct Ensemble<Definition: Sendable>: Sendable {
        /// The council (`BATS.Council`) or cascade (`BATS.Cascade`).
        public var definition: Definition
        /// The tier for requests that name none; `nil` for `simple`.
        public var tier: Complexity?
        /// The task kinds it answers for: a chat request for `bats/task/<kind>` (or `bats/auto` with
        /// `X-BATS-Task: <kind>`) runs it.
        public var taskKinds: Set<String>

        /// Creates an entry.
        /// - Parameters:
        ///   - definition: The council or cascade.
        ///   - tier: The tier for requests that name none (`nil`: `simple`).
        ///   - taskKinds: The task kinds it answers for.
        public init(_ definition: Definition, tier: Complexity? = nil, taskKinds: Set<String> = []) {
            self.definition = definition
            self.tier = tier
            self.taskKinds = taskKinds
        }
    }
}
