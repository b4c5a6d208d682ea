/// An amount of money that cannot be computed exactly: the result does not fit in 64-bit micro-dollars
/// (about ±$9.2 trillion), or a cost was asked for a negative count of tokens or images.
///
/// Thrown by the checked arithmetic of ``MicroDollars`` (``MicroDollars/adding(_:)``,
/// ``MicroDollars/subtracting(_:)``, ``MicroDollars/multiplied(by:)``, ``MicroDollars/sum(_:)``) and by
/// ``ModelCatalog/cost(of:inputTokens:outputTokens:images:)-(ModelInfo,_,_,_)``. Money never wraps, saturates or traps.
public struct MoneyError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case overflow
        case negativeQuantity
    }

    /// The operation that failed. A struct with static members, so new operations can be added.
    public struct Operation: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// `a + b` (``MicroDollars/adding(_:)``).
        public static let addition = Operation("addition")
        /// `a − b` (``MicroDollars/subtracting(_:)``).
        public static let subtraction = Operation("subtraction")
        /// `a × n` (``MicroDollars/multiplied(by:)``).
        public static let multiplication = Operation("multiplication")
        /// The total of a sequence of amounts (``MicroDollars/sum(_:)``).
        public static let sum = Operation("sum")
        /// The price of a call (``ModelCatalog/cost(of:inputTokens:outputTokens:images:)-(ModelInfo,_,_,_)``).
        public static let cost = Operation("cost")

        /// The operation's name: `addition`, `subtraction`, `multiplication`, `sum` or `cost`.
        public var description: String { name }
    }

    private let code: Code
    /// The operation that failed.
    public let operation: Operation
    /// The operands as text, in order. Amounts print as `$1.234567`; a cost's counts as `input_tokens=12`,
    /// `output_tokens=0`, `images=0` (and, for ``ModelCatalog/cost(of:_:)``, `cache_read_tokens=…`,
    /// `cache_write_tokens=…` and `requests=…` too); a sum's as the running total and the amount that did not fit.
    public let operands: [String]
    /// The model being priced, for ``Operation/cost``; else `nil`.
    public let model: ModelID?

    private init(_ code: Code, _ operation: Operation, operands: [String], model: ModelID? = nil) {
        self.code = code
        self.operation = operation
        self.operands = operands
        self.model = model
    }

    /// The result does not fit in 64-bit micro-dollars.
    /// - Parameters:
    ///   - operation: What was computed.
    ///   - operands: The operands, as text.
    ///   - model: The model being priced, for a cost.
    /// - Returns: The error.
    public static func overflow(_ operation: Operation, operands: [String], model: ModelID? = nil) -> MoneyError {
        .init(.overflow, operation, operands: operands, model: model)
    }

    /// A cost was asked for a negative count of tokens or images.
    /// - Parameters:
    ///   - model: The model being priced.
    ///   - operands: The counts, as text (`input_tokens=-5`).
    /// - Returns: The error.
    public static func negativeQuantity(model: ModelID, operands: [String]) -> MoneyError {
        .init(.negativeQuantity, .cost, operands: operands, model: model)
    }

    /// Whether two errors are of the same kind (ignoring their context).
    /// - Parameter other: The other error.
    /// - Returns: `true` when both have the same cause.
    public func isSameKind(as other: MoneyError) -> Bool { code == other.code }

    /// A description naming the operation and its operands.
    public var description: String {
        let list = operands.joined(separator: ", ")
        switch code {
        case .overflow:
            let what: String
            switch operation {
            case .addition: what = operands.joined(separator: " + ")
            case .subtraction: what = operands.joined(separator: " − ")
            case .multiplication: what = operands.joined(separator: " × ")
            case .sum: what = "a sum (running total, next amount: \(list))"
            default: what = "the cost of '\(model?.rawValue ?? "")' for \(list)"
            }
            return "money overflow: \(what) does not fit in 64-bit micro-dollars (the limit is \(MicroDollars.max))"
        case .negativeQuantity:
            return "cannot price '\(model?.rawValue ?? "")': token and image counts must not be negative, got \(list)"
        }
    }
}
