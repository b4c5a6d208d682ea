/// One dispatched server-sent event.
///
/// Events are produced by ``SSEParser`` following the WHATWG event-stream rules: `data:` lines are joined with
/// line feeds, `event:` names the type (default `message`), and `id:` sets the last event id, which carries
/// over to later events until another `id:` line changes it.
public struct SSEEvent: Sendable, Hashable, CustomStringConvertible {
    /// The event type (`event:` field); `message` when the event named none.
    public var type: String
    /// The data, `data:` lines joined with `\n` (no trailing line feed).
    public var data: String
    /// The last event id in force when the event was dispatched, if any `id:` line was seen.
    public var lastEventID: String?

    /// Creates an event.
    /// - Parameters:
    ///   - type: The event type.
    ///   - data: The data.
    ///   - lastEventID: The last event id.
    public init(type: String = "message", data: String, lastEventID: String? = nil) {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }

    /// Whether this is the OpenAI end-of-stream sentinel (`data: [DONE]`).
    public var isDone: Bool { data == "[DONE]" }

    /// A short form: type, id and data.
    public var description: String {
        "SSEEvent(type: \(type), id: \(lastEventID ?? "nil"), data: \(data))"
    }
}
