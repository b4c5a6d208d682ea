public import Gateway
public import ModelSelection
import Foundation

/// Whether an answer is good enough to stop a cascade, and why.
public struct Verdict: Sendable, Hashable {
    /// The answer is kept.
    public var accepted: Bool
    /// Why (recorded as the step's reason to escalate when rejected).
    public var reason: String

    /// Creates a verdict.
    public init(accepted: Bool, reason: String) {
        self.accepted = accepted
        self.reason = reason
    }

    /// An acceptance.
    public static func accept(_ reason: String = "accepted") -> Verdict { .init(accepted: true, reason: reason) }
    /// A rejection.
    public static func reject(_ reason: String) -> Verdict { .init(accepted: false, reason: reason) }
}

/// What a cascade asks of each answer before it stops (``Cascade``).
///
/// Built-ins check the reply text: ``json`` (it parses as JSON, code fences allowed), ``jsonSchema(_:)`` (and matches
/// a schema), ``regex(_:)`` (a pattern matches it). ``judge(_:criteria:)`` asks a model (charged as a routed call
/// tagged `verifier-N`); ``custom(name:_:)`` runs the caller's closure.
public struct Verifier: Sendable, CustomStringConvertible {
    /// A verifier that cannot be made.
    public struct InvalidPattern: Error, Sendable, Hashable, CustomStringConvertible {
        /// The pattern.
        public var pattern: String
        /// What the regular-expression parser said.
        public var message: String
        /// `invalid regular expression 'P': MESSAGE`.
        public var description: String { "invalid regular expression '\(pattern)': \(message)" }
    }

    enum Rule: Sendable {
        case custom(@Sendable (ChatResponse) async throws -> Verdict)
        case json
        case schema(JSONSchema)
        case regex(String)
        case judge(ModelID, criteria: String)
    }

    /// The verifier's name, for records and headers.
    public let name: String
    let rule: Rule

    /// The caller's own check.
    /// - Parameters:
    ///   - name: Its name, for records.
    ///   - body: The verdict on a reply; a thrown error counts as a rejection naming it.
    public static func custom(name: String = "custom", _ body: @escaping @Sendable (ChatResponse) async throws -> Verdict) -> Verifier {
        .init(name: name, rule: .custom(body))
    }

    /// The reply's text parses as JSON (a Markdown code fence around it is allowed).
    public static let json = Verifier(name: "json", rule: .json)

    /// The reply's text parses as JSON and conforms to `schema`.
    public static func jsonSchema(_ schema: JSONSchema) -> Verifier { .init(name: "json-schema", rule: .schema(schema)) }

    /// `pattern` matches somewhere in the reply's text (anchor it with `^…$` to match the whole).
    /// - Throws: ``InvalidPattern``.
    public static func regex(_ pattern: String) throws(InvalidPattern) -> Verifier {
        do { _ = try Regex(pattern) } catch { throw InvalidPattern(pattern: pattern, message: "\(error)") }
        return .init(name: "regex", rule: .regex(pattern))
    }

    /// A model reads the question and the answer and replies `ACCEPT` or `REJECT` with a reason.
    /// - Parameters:
    ///   - model: The judge (a catalog chat model), reserved and charged like any call.
    ///   - criteria: What a good answer must do, in words.
    public static func judge(_ model: ModelID, criteria: String) -> Verifier { .init(name: "judge:\(model)", rule: .judge(model, criteria: criteria)) }

    /// The name.
    public var description: String { name }

    /// The verdict of a text-only rule; `nil` for ``judge(_:criteria:)`` and ``custom(name:_:)``.
    public func check(text: String) -> Verdict? {
        switch rule {
        case .json:
            return Self.parse(text) == nil ? .reject("the answer is not JSON") : .accept("the answer is JSON")
        case .schema(let schema):
            guard let v = Self.parse(text) else { return .reject("the answer is not JSON") }
            if let why = schema.violation(of: v) { return .reject("the answer breaks the schema: \(why)") }
            return .accept("the answer matches the schema")
        case .regex(let pattern):
            guard let r = try? Regex(pattern) else { return .reject("the pattern cannot be compiled") }
            return (try? r.firstMatch(in: text)) == nil ? .reject("the answer does not match \(pattern)") : .accept("the answer matches \(pattern)")
        case .custom, .judge:
            return nil
        }
    }

    /// The reply as JSON: the whole text (code fence stripped).
    static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(JSONText.stripFences(text).utf8))
    }
}
