public import ModelSelection

extension BATSServer {
    /// A council or a cascade that the server offers under a routing name (`bats/council/<name>`,
    /// `bats/cascade/<name>`), with the tier its calls run at when a request names none.
    ///
    /// A request's `X-BATS-Tier` wins, then its `X-BATS-Task` kind (through the tier map), then ``tier``, then
    /// `simple`.
    public struct Ensemble<Definition: Sendable>: Sendable {
        /// The council (`BATS.Council`) or cascade (`BATS.Cascade`).
        public var definition: Definition
        /// The tier for requests that name none; `nil` for `simple`.
        public var tier: Complexity?

        /// Creates an entry.
        /// - Parameters:
        ///   - definition: The council or cascade.
        ///   - tier: The tier for requests that name none (`nil`: `simple`).
        public init(_ definition: Definition, tier: Complexity? = nil) {
            self.definition = definition
            self.tier = tier
        }
    }
}
