public import Gateway

/// A routed embeddings call's reply and its decision record.
public struct RoutedEmbeddings: Sendable {
    /// The provider's reply: one vector per input text, in input order.
    public var response: EmbeddingsResponse
    /// What was decided and spent (``RouteRecord/usage`` holds the prompt tokens settled).
    public var record: RouteRecord
}
