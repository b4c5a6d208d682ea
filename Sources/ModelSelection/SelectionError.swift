/// A task the selector cannot place.
public struct SelectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The task kind at fault.
    public let taskKind: String

    /// The task kind is not in the tier map and the unknown-task rule rejects it.
    public static func unknownTaskKind(_ kind: String) -> SelectionError { .init(taskKind: kind) }

    /// A description naming the kind.
    public var description: String {
        "unknown task kind '\(taskKind)': add it to the task→tier map or set the unknown-task rule to assign a tier"
    }
}
