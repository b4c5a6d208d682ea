public import Gateway
public import ModelSelection

/// A routed call that could not be completed, with the decision context.
public struct RoutingError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The kind's name.
        public var rawValue: String
        /// Creates a kind.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// No model in the chain fits the remaining budget; see ``RoutingError/refusal``.
        public static let budgetExhausted = Kind(rawValue: "budget-exhausted")
        /// Every model the task may use failed at the provider (for an embeddings or image call: its one model).
        public static let allProvidersFailed = Kind(rawValue: "all-providers-failed")
        /// The gateway failed in a way another model would not fix (authentication, credit, bad request).
        public static let gatewayFailed = Kind(rawValue: "gateway-failed")
        /// The task names neither a kind nor a tier, or its kind is unknown and rejected; or an embeddings or image call
        /// names a catalog model of the wrong kind, or the catalog has no model of that kind.
        public static let invalidTask = Kind(rawValue: "invalid-task")
        /// The router's gateway does not offer the endpoint the call needs (it is not an `EmbeddingsGateway` or an
        /// `ImageGateway`); nothing was reserved or sent.
        public static let unsupportedEndpoint = Kind(rawValue: "unsupported-endpoint")
        /// The kind's name.
        public var description: String { rawValue }
    }

    /// The kind.
    public var kind: Kind
    /// The request id.
    public var requestID: String
    /// The tier, once resolved.
    public var tier: Complexity?
    /// For a budget refusal: what was available and the cheapest estimate.
    public var refusal: Selection.Refusal?
    /// The attempts made before failing.
    public var attempts: [RouteRecord.Attempt]
    /// The last gateway error, if any.
    public var gatewayError: GatewayError?
    /// More detail.
    public var detail: String

    /// A description with the kind, tier, amounts and the last gateway error (never a key or a prompt).
    public var description: String {
        var s = "routing failed (\(kind)) for request \(requestID)"
        if let tier { s += " at tier \(tier)" }
        s += ": \(detail)"
        if !attempts.isEmpty { s += "; tried " + attempts.map { "\($0.model)" }.joined(separator: ", ") }
        if let gatewayError { s += "; last error: \(gatewayError)" }
        return s
    }
}
