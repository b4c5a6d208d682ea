import Gateway

/// A response the ``LoopbackGatewayServer`` plays back: a status, headers, and body steps (writes, waits, a
/// close), so tests can script JSON replies, SSE streams in any chunk split, stalled streams, error statuses,
/// HTML and garbage bodies, truncated bodies and connections closed mid-stream.
///
/// For timing, prefer handshakes to pauses: ``Step/wait(_:)`` on a ``Gate`` the test opens, ``Step/hold`` for a
/// server that stalls, ``unanswered`` for one that never answers. ``Step/pause(_:)`` and ``delayBeforeHead`` wait
/// in real time.
public struct ScriptedResponse: Sendable {
    /// One step of writing the body.
    public enum Step: Sendable, Hashable {
        /// Writes bytes (one HTTP chunk when the body is chunked).
        case write([UInt8])
        /// Waits in real time before the next step.
        case pause(Duration)
        /// Waits until the gate opens, then goes on (nothing more is written if the connection closed meanwhile).
        case wait(Gate)
        /// Stops writing and leaves the connection open until the client (or ``LoopbackGatewayServer/shutdown()``)
        /// closes it: a stalled server.
        case hold
        /// Closes the connection at once, without finishing the response.
        case close
    }

    /// The HTTP status.
    public var status: Int
    /// Response headers, in order.
    public var headers: [(String, String)]
    /// The body steps.
    public var steps: [Step]
    /// The `Content-Length` to declare; `nil` sends the body chunked. A value larger than the bytes written,
    /// followed by ``Step/close``, makes a truncated body.
    public var contentLength: Int?
    /// A wait in real time before the response head is sent (a server slow to answer).
    public var delayBeforeHead: Duration?
    /// A gate the response head waits for (after ``delayBeforeHead``, if any); one never opened leaves the request
    /// unanswered.
    public var gateBeforeHead: Gate?
    /// Closes the connection as soon as the request arrives, writing nothing.
    public var hangUp: Bool

    /// Creates a response.
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - headers: Response headers.
    ///   - steps: The body steps.
    ///   - contentLength: The `Content-Length` to declare, `nil` for chunked.
    ///   - delayBeforeHead: A wait in real time before the head.
    ///   - hangUp: Close without answering.
    ///   - gateBeforeHead: A gate the head waits for.
    public init(
        status: Int = 200, headers: [(String, String)] = [], steps: [Step] = [], contentLength: Int? = nil,
        delayBeforeHead: Duration? = nil, hangUp: Bool = false, gateBeforeHead: Gate? = nil
    ) {
        self.status = status
        self.headers = headers
        self.steps = steps
        self.contentLength = contentLength
        self.delayBeforeHead = delayBeforeHead
        self.hangUp = hangUp
        self.gateBeforeHead = gateBeforeHead
    }

    /// The same response with `step` inserted once `offset` bytes of the body have been written (a write that
    /// spans the offset is split there); at the end of the writes when the body is shorter.
    ///
    /// ```swift
    /// .sse(transcript).inserting(.hold, afterBytes: 200)   // a stream that stalls after 200 bytes
    /// ```
    /// - Parameters:
    ///   - step: The step to insert, such as ``Step/wait(_:)`` or ``Step/hold``.
    ///   - offset: How many body bytes come before it.
    /// - Returns: The new response.
    public func inserting(_ step: Step, afterBytes offset: Int) -> ScriptedResponse {
        var copy = self
        var out: [Step] = []
        var written = 0
        var inserted = false
        for s in steps {
            if !inserted, case .write(let bytes) = s {
                if offset <= written {
                    out.append(step)
                    inserted = true
                } else if offset < written + bytes.count {
                    let cut = offset - written
                    out += [.write(Array(bytes[..<cut])), step, .write(Array(bytes[cut...]))]
                    inserted = true
                    written += bytes.count
                    continue
                }
            }
            if case .write(let bytes) = s { written += bytes.count }
            out.append(s)
        }
        if !inserted {
            let lastWrite = out.lastIndex { if case .write = $0 { true } else { false } }
            out.insert(step, at: lastWrite.map { $0 + 1 } ?? 0)
        }
        copy.steps = out
        return copy
    }

    // MARK: - Factories

    /// A JSON reply with a `Content-Length`.
    /// - Parameters:
    ///   - body: The JSON text.
    ///   - status: The status (200 by default).
    ///   - headers: Further headers (`Retry-After`, `x-request-id`, …).
    public static func json(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> ScriptedResponse {
        bytes(Array(body.utf8), status: status, contentType: "application/json", headers: headers)
    }

    /// A body of any bytes with a `Content-Length` (HTML pages, garbage).
    /// - Parameters:
    ///   - body: The bytes.
    ///   - status: The status.
    ///   - contentType: The `Content-Type`.
    ///   - headers: Further headers.
    public static func bytes(
        _ body: [UInt8], status: Int = 200, contentType: String, headers: [(String, String)] = []
    ) -> ScriptedResponse {
        ScriptedResponse(
            status: status, headers: [("Content-Type", contentType)] + headers, steps: [.write(body)], contentLength: body.count
        )
    }

    /// An HTML error page (as a proxy or load balancer sends).
    /// - Parameters:
    ///   - body: The HTML.
    ///   - status: The status.
    ///   - headers: Further headers.
    public static func html(_ body: String, status: Int, headers: [(String, String)] = []) -> ScriptedResponse {
        bytes(Array(body.utf8), status: status, contentType: "text/html; charset=utf-8", headers: headers)
    }

    /// An OpenAI-style error envelope `{"error":{"message","type","code"}}`.
    /// - Parameters:
    ///   - status: The status.
    ///   - message: `error.message`.
    ///   - type: `error.type`.
    ///   - code: `error.code`.
    ///   - headers: Further headers.
    public static func error(
        status: Int, message: String, type: String? = nil, code: String? = nil, headers: [(String, String)] = []
    ) -> ScriptedResponse {
        var fields = ["\"message\":\(quote(message))"]
        if let type { fields.append("\"type\":\(quote(type))") }
        if let code { fields.append("\"code\":\(quote(code))") }
        return json("{\"error\":{\(fields.joined(separator: ","))}}", status: status, headers: headers)
    }

    /// A server-sent-events stream written in pieces.
    /// - Parameters:
    ///   - transcript: The whole event stream text.
    ///   - chunkSize: The size of each write in bytes (`nil`: one write).
    ///   - splits: Explicit byte offsets to split at (used instead of `chunkSize` when given).
    ///   - delay: A pause between writes (slow streams).
    ///   - closeAfterBytes: Close the connection after this many bytes, without finishing the body.
    ///   - headers: Further headers.
    public static func sse(
        _ transcript: String, chunkSize: Int? = nil, splits: [Int]? = nil, delay: Duration? = nil,
        closeAfterBytes: Int? = nil, headers: [(String, String)] = []
    ) -> ScriptedResponse {
        var bytes = Array(transcript.utf8)
        if let closeAfterBytes { bytes = Array(bytes.prefix(closeAfterBytes)) }
        var cuts: [Int]
        if let splits {
            cuts = splits.filter { $0 > 0 && $0 < bytes.count }.sorted()
        } else if let chunkSize, chunkSize > 0 {
            cuts = Array(stride(from: chunkSize, to: bytes.count, by: chunkSize))
        } else {
            cuts = []
        }
        var steps: [Step] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut > start {
            if let delay, !steps.isEmpty { steps.append(.pause(delay)) }
            steps.append(.write(Array(bytes[start..<cut])))
            start = cut
        }
        if closeAfterBytes != nil { steps.append(.close) }
        return ScriptedResponse(
            status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")] + headers, steps: steps
        )
    }

    /// A JSON body cut short: the full `Content-Length` is declared, `keep` bytes are written, then the
    /// connection closes.
    /// - Parameters:
    ///   - body: The full JSON text.
    ///   - keep: How many bytes to send.
    public static func truncated(_ body: String, keep: Int) -> ScriptedResponse {
        let bytes = Array(body.utf8)
        return ScriptedResponse(
            status: 200, headers: [("Content-Type", "application/json")],
            steps: [.write(Array(bytes.prefix(keep))), .close], contentLength: bytes.count
        )
    }

    /// Closes the connection as soon as the request arrives.
    public static var hangingUp: ScriptedResponse { ScriptedResponse(hangUp: true) }

    /// Never answers: the request is read and the connection left open until the client closes it (a timeout
    /// before the head, with no real time passing on the server's side).
    public static var unanswered: ScriptedResponse { ScriptedResponse(gateBeforeHead: Gate()) }

    static func quote(_ s: String) -> String { JSONValue.string(s).compactJSON }
}
