/// The canonical identifier of a model in the catalog, such as `deepseek-v3` or `claude-opus`.
///
/// The gateway's own identifier is looked up in the ``ModelCatalog``.
public struct ModelID: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The canonical id.
    public var rawValue: String

    /// Creates an id.
    /// - Parameter rawValue: The canonical id.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Creates an id.
    /// - Parameter rawValue: The canonical id.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Creates an id from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The canonical id.
    public var description: String { rawValue }

    /// Orders ids alphabetically.
    public static func < (lhs: ModelID, rhs: ModelID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// DeepSeek V3.
    public static let deepseekV3: ModelID = "deepseek-v3"
    /// Mistral Medium 3.
    public static let mistralMedium3: ModelID = "mistral-medium-3"
    /// Kimi K2.
    public static let kimiK2: ModelID = "kimi-k2"
    /// DeepSeek-R1.
    public static let deepseekR1: ModelID = "deepseek-r1"
    /// Claude Opus.
    public static let claudeOpus: ModelID = "claude-opus"
}
