/// A model catalog or selector configuration that cannot be used, with the field at fault.
public struct CatalogError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unreadable
        case malformed
        case invalidField
        case duplicateModel
        case unknownModel
    }

    private let code: Code
    /// Where the problem is: a file path, or `<bundled>` for the packaged catalog.
    public let source: String
    /// The JSON path of the field at fault, e.g. `models[2].input_per_mtok`.
    public let field: String
    /// What is wrong with it.
    public let message: String

    private init(_ code: Code, source: String, field: String, message: String) {
        self.code = code
        self.source = source
        self.field = field
        self.message = message
    }

    /// The file could not be read.
    public static func unreadable(source: String, message: String) -> CatalogError {
        .init(.unreadable, source: source, field: "", message: message)
    }
    /// The file is not valid JSON or lacks a required field.
    public static func malformed(source: String, field: String, message: String) -> CatalogError {
        .init(.malformed, source: source, field: field, message: message)
    }
    /// A field has a value outside its domain (a negative price, a zero context window).
    public static func invalidField(source: String, field: String, message: String) -> CatalogError {
        .init(.invalidField, source: source, field: field, message: message)
    }
    /// Two models share one id.
    public static func duplicateModel(source: String, field: String, id: String) -> CatalogError {
        .init(.duplicateModel, source: source, field: field, message: "duplicate model id '\(id)'")
    }
    /// A chain or tier names a model the catalog does not have.
    public static func unknownModel(source: String, field: String, id: String) -> CatalogError {
        .init(.unknownModel, source: source, field: field, message: "unknown model '\(id)'")
    }

    /// Whether two errors are of the same kind (ignoring their context).
    public func isSameKind(as other: CatalogError) -> Bool { code == other.code }

    /// A description naming the source, field and problem.
    public var description: String {
        let at = field.isEmpty ? "" : " at \(field)"
        return "invalid model catalog \(source)\(at): \(message)"
    }
}
