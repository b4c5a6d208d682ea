public import Gateway

/// A routed image-generation call's reply and its decision record.
public struct RoutedImages: Sendable {
    /// The provider's reply: the images, as URLs or base64.
    public var response: ImageGenerationResponse
    /// What was decided and spent (``RouteRecord/images`` holds the images settled).
    public var record: RouteRecord
}
