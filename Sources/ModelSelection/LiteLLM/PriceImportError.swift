/// A LiteLLM price map, or a mapping file for it, that cannot be imported, naming the entry at fault.
public struct PriceImportError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case malformedMap
        case invalidPrice
        case malformedMapping
        case unusableCatalog
    }

    private let code: Code
    /// Where the problem is: the map's or the mapping file's path.
    public let source: String
    /// The entry key at fault (a LiteLLM model key, or a catalog id in a mapping file); empty for the whole document.
    public let key: String
    /// What is wrong.
    public let message: String

    private init(_ code: Code, source: String, key: String, message: String) {
        self.code = code
        self.source = source
        self.key = key
        self.message = message
    }

    /// The map is not valid JSON, its top level is not an object, or an entry is not an object.
    public static func malformedMap(source: String, key: String, message: String) -> PriceImportError {
        .init(.malformedMap, source: source, key: key, message: message)
    }
    /// A price field the importer maps is not a number, is negative, or is out of range.
    public static func invalidPrice(source: String, key: String, message: String) -> PriceImportError {
        .init(.invalidPrice, source: source, key: key, message: message)
    }
    /// The mapping file is not a JSON object of strings, or names a model or an entry that does not exist.
    public static func malformedMapping(source: String, key: String, message: String) -> PriceImportError {
        .init(.malformedMapping, source: source, key: key, message: message)
    }
    /// The catalog with the imported prices fails the catalog's own checks (a price above its cap).
    public static func unusableCatalog(source: String, key: String, message: String) -> PriceImportError {
        .init(.unusableCatalog, source: source, key: key, message: message)
    }

    /// Whether two errors are of the same kind (ignoring their context).
    public func isSameKind(as other: PriceImportError) -> Bool { code == other.code }

    /// A description naming the source, the entry and the problem.
    public var description: String {
        let at = key.isEmpty ? "" : " entry '\(key)'"
        switch code {
        case .malformedMapping: return "invalid LiteLLM mapping file \(source)\(at): \(message)"
        case .unusableCatalog: return "the imported catalog is not usable\(at): \(message)"
        case .malformedMap, .invalidPrice: return "invalid LiteLLM price map \(source)\(at): \(message)"
        }
    }
}
