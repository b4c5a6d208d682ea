/// A task or call the selector cannot place, with the task kind or model at fault.
public struct SelectionError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case unknownTaskKind
        case unknownModel
        case wrongModelKind
    }

    private let code: Code
    /// The task kind at fault (``unknownTaskKind(_:)``), else `nil`.
    public let taskKind: String?
    /// The model at fault (``unknownModel(_:)``, ``wrongModelKind(_:expected:actual:)``), else `nil`.
    public let model: ModelID?
    /// The kind of model the call needs (``wrongModelKind(_:expected:actual:)``), else `nil`.
    public let expectedKind: ModelInfo.Kind?
    /// The kind the catalog gives the model (``wrongModelKind(_:expected:actual:)``), else `nil`.
    public let actualKind: ModelInfo.Kind?

    private init(
        _ code: Code, taskKind: String? = nil, model: ModelID? = nil, expectedKind: ModelInfo.Kind? = nil, actualKind: ModelInfo.Kind? = nil
    ) {
        self.code = code
        self.taskKind = taskKind
        self.model = model
        self.expectedKind = expectedKind
        self.actualKind = actualKind
    }

    /// The task kind is not in the tier map and the unknown-task rule rejects it.
    /// - Parameter kind: The task kind.
    /// - Returns: The error.
    public static func unknownTaskKind(_ kind: String) -> SelectionError { .init(.unknownTaskKind, taskKind: kind) }

    /// A call names a model the catalog does not have, so it cannot be priced.
    /// - Parameter model: The model id.
    /// - Returns: The error.
    public static func unknownModel(_ model: ModelID) -> SelectionError { .init(.unknownModel, model: model) }

    /// A call names a model of the wrong kind for its endpoint (a chat model for embeddings), or asks to price a chat
    /// model as a fixed model (chat calls are routed down a tier's chain instead).
    /// - Parameters:
    ///   - model: The model id.
    ///   - expected: The kind the call needs.
    ///   - actual: The kind the catalog gives the model.
    /// - Returns: The error.
    public static func wrongModelKind(_ model: ModelID, expected: ModelInfo.Kind, actual: ModelInfo.Kind) -> SelectionError {
        .init(.wrongModelKind, model: model, expectedKind: expected, actualKind: actual)
    }

    /// Whether two errors are of the same kind (ignoring their context).
    /// - Parameter other: The other error.
    /// - Returns: `true` when both have the same cause.
    public func isSameKind(as other: SelectionError) -> Bool { code == other.code }

    /// A description naming the task kind or model and what to do about it.
    public var description: String {
        switch code {
        case .unknownTaskKind:
            return "unknown task kind '\(taskKind ?? "")': add it to the task→tier map or set the unknown-task rule to assign a tier"
        case .unknownModel:
            return "unknown model '\(model?.rawValue ?? "")': the catalog has no price for it, so the call cannot be budgeted"
        case .wrongModelKind:
            let m = model?.rawValue ?? "", expected = expectedKind?.rawValue ?? "", actual = actualKind?.rawValue ?? ""
            if expectedKind == .chat {
                return "cannot price '\(m)' as a fixed model: chat calls are routed down a tier's chain"
            }
            return "model '\(m)' is of kind \(actual); this call needs a model of kind \(expected)"
        }
    }
}
