/// An incremental server-sent-events parser that works on bytes.
///
/// Feed it the body as it arrives, in chunks of any size; it returns the events completed by each chunk.
/// It follows the WHATWG event-stream rules:
/// - lines end with CRLF, LF or CR, including a CR at the end of one chunk and its LF at the start of the next;
/// - a leading UTF-8 byte-order mark is skipped;
/// - lines starting with `:` are comments (keep-alives) and are ignored;
/// - `data:` lines are joined with `\n`; one space after the colon is removed;
/// - `event:` sets the type of the event being built (`message` by default);
/// - `id:` sets the last event id, which carries over to later events; an id containing NUL is ignored;
/// - `retry:` with only digits sets ``reconnectionTime``;
/// - a blank line dispatches the event unless no `data:` line was seen;
/// - text is decoded only when an event is dispatched, so a multi-byte character split across chunks is kept whole.
///
/// At the end of the input, call ``finish()``: an unfinished event (no blank line after it) is discarded, never
/// dispatched, and ``finish()`` reports that it was there.
///
/// ```swift
/// var parser = SSEParser()
/// for chunk in chunks {
///     for event in parser.parse(chunk) where !event.isDone { handle(event) }
/// }
/// let cutShort = parser.finish()
/// ```
public struct SSEParser: Sendable {
    private var carry: [UInt8] = []
    private var data: [UInt8] = []
    private var eventType: [UInt8] = []
    private var skipLeadingLF = false
    private var checkedBOM = false
    private var bomBytesSeen = 0
    private var fieldsSinceDispatch = false

    /// The last event id in force (`id:` lines carry over from event to event).
    public private(set) var lastEventID: String?
    /// The reconnection time in milliseconds from the last valid `retry:` line, if any.
    public private(set) var reconnectionTime: Int?

    /// Creates a parser at the start of a stream.
    public init() {}

    /// Whether bytes of an event that has not been dispatched yet are buffered (a partial line, or fields
    /// not yet followed by a blank line).
    public var hasPendingEvent: Bool { !carry.isEmpty || fieldsSinceDispatch }

    // MARK: - Feeding

    /// Parses the next bytes of the stream and calls `onEvent` for each completed event.
    /// - Parameters:
    ///   - bytes: The next bytes, split anywhere.
    ///   - onEvent: Called with each event completed by these bytes, in order.
    /// - Throws: Whatever `onEvent` throws; parsing stops there.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, onEvent: (SSEEvent) throws -> Void) rethrows {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let end = bytes.count
        var i = 0
        if !checkedBOM {
            // Skip a UTF-8 byte-order mark (EF BB BF), possibly split across chunks.
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            while i < end && bomBytesSeen < 3 && base.load(fromByteOffset: i, as: UInt8.self) == bom[bomBytesSeen] {
                bomBytesSeen += 1
                i += 1
            }
            if bomBytesSeen == 3 || i < end {
                if bomBytesSeen < 3 && bomBytesSeen > 0 {
                    // Not a BOM after all: the bytes seen belong to the first line.
                    carry.append(contentsOf: bom[0..<bomBytesSeen])
                }
                checkedBOM = true
            }
            if i == end { return }
        }
        if skipLeadingLF {
            skipLeadingLF = false
            if base.load(fromByteOffset: i, as: UInt8.self) == 0x0A { i += 1 }
        }
        let p = base.assumingMemoryBound(to: UInt8.self)
        while i < end {
            var j = i
            while j < end {
                let b = p[j]
                if b == 0x0A || b == 0x0D { break }
                j += 1
            }
            if j == end {
                carry.append(contentsOf: UnsafeBufferPointer(start: p + i, count: end - i))
                return
            }
            if carry.isEmpty {
                try processLine(UnsafeBufferPointer(start: p + i, count: j - i), onEvent)
            } else {
                var line = carry
                carry = []
                line.append(contentsOf: UnsafeBufferPointer(start: p + i, count: j - i))
                try line.withUnsafeBufferPointer { try processLine($0, onEvent) }
                line.removeAll(keepingCapacity: true)
                carry = line
            }
            if p[j] == 0x0D {
                if j + 1 < end {
                    i = p[j + 1] == 0x0A ? j + 2 : j + 1
                } else {
                    skipLeadingLF = true
                    i = j + 1
                }
            } else {
                i = j + 1
            }
        }
    }

    /// Parses the next bytes of the stream and returns the events they complete.
    /// - Parameter bytes: The next bytes, split anywhere.
    /// - Returns: The completed events, in order (often none or one).
    public mutating func parse(_ bytes: some Sequence<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            parse(UnsafeRawBufferPointer(buffer)) { events.append($0) }
        }
        if done == nil {
            let array = Array(bytes)
            array.withUnsafeBytes { parse($0) { events.append($0) } }
        }
        return events
    }

    /// Parses the next part of the stream given as text (tests, fixtures).
    /// - Parameter text: The next characters.
    /// - Returns: The completed events, in order.
    public mutating func parse(_ text: String) -> [SSEEvent] {
        parse(Array(text.utf8))
    }

    /// Ends the stream: discards any unfinished event and resets the parser for a new stream.
    /// - Returns: `true` when an unfinished event (a partial line, or fields with no blank line after them)
    ///   was discarded, which means the stream was cut mid-event.
    @discardableResult
    public mutating func finish() -> Bool {
        let pending = hasPendingEvent
        self = SSEParser()
        return pending
    }

    // MARK: - Lines

    private mutating func processLine(_ line: UnsafeBufferPointer<UInt8>, _ onEvent: (SSEEvent) throws -> Void) rethrows {
        let count = line.count
        if count == 0 {
            try dispatch(onEvent)
            return
        }
        if line[0] == 0x3A { return }  // ":" comment or keep-alive
        fieldsSinceDispatch = true
        var colon = 0
        while colon < count && line[colon] != 0x3A { colon += 1 }
        var valueStart = colon < count ? colon + 1 : count
        if valueStart < count && line[valueStart] == 0x20 { valueStart += 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<count])
        switch colon {
        case 4 where line[0] == 0x64 && line[1] == 0x61 && line[2] == 0x74 && line[3] == 0x61:  // data
            data.append(contentsOf: value)
            data.append(0x0A)
        case 5 where line[0] == 0x65 && line[1] == 0x76 && line[2] == 0x65 && line[3] == 0x6E && line[4] == 0x74:  // event
            eventType.removeAll(keepingCapacity: true)
            eventType.append(contentsOf: value)
        case 2 where line[0] == 0x69 && line[1] == 0x64:  // id
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        case 5 where line[0] == 0x72 && line[1] == 0x65 && line[2] == 0x74 && line[3] == 0x72 && line[4] == 0x79:  // retry
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let ms = Int(String(decoding: value, as: UTF8.self)) {
                reconnectionTime = ms
            }
        default:
            break  // unknown field: ignored
        }
    }

    private mutating func dispatch(_ onEvent: (SSEEvent) throws -> Void) rethrows {
        fieldsSinceDispatch = false
        if data.isEmpty {
            eventType.removeAll(keepingCapacity: true)
            return
        }
        let text = data.withUnsafeBufferPointer { String(decoding: $0[0..<($0.count - 1)], as: UTF8.self) }
        let type = eventType.isEmpty ? "message" : String(decoding: eventType, as: UTF8.self)
        data.removeAll(keepingCapacity: true)
        eventType.removeAll(keepingCapacity: true)
        try onEvent(SSEEvent(type: type, data: text, lastEventID: lastEventID))
    }
}
