public import Logging

/// Records log entries in memory, for tests that check what was (and was not) logged.
///
/// ```swift
/// let recorder = LogRecorder()
/// let logger = recorder.logger(level: .trace)
/// // … use logger …
/// #expect(!recorder.text.contains(secret))
/// ```
public final class LogRecorder: Sendable {
    /// One log entry.
    public struct Entry: Sendable {
        /// The level.
        public var level: Logger.Level
        /// The message.
        public var message: String
        /// The metadata, flattened to text.
        public var metadata: [String: String]
        /// The source module.
        public var source: String
    }

    private let storage = WaitableState<[Entry]>([])

    /// Creates an empty recorder.
    public init() {}

    /// A logger that records into this recorder.
    /// - Parameters:
    ///   - label: The logger's label.
    ///   - level: The lowest level recorded.
    /// - Returns: The logger.
    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    /// The entries recorded so far.
    public var entries: [Entry] { storage.withLock { $0 } }

    /// All entries as text (level, message, metadata), one per line.
    public var text: String {
        entries.map { e in
            "\(e.level) \(e.message) " + e.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Suspends until an entry with `message` has been recorded (returns at once if one has): a handshake with
    /// the code under test, such as waiting for the client's `gateway response` before moving a clock.
    /// - Parameter message: The exact message.
    /// - Important: Returns early when the waiting task is cancelled (a test's time limit, for one).
    public func waitForEntry(_ message: String) async {
        await storage.wait { $0.contains { $0.message == message } }
    }

    func record(_ entry: Entry) { storage.withLock { $0.append(entry) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var flat: [String: String] = [:]
            for (k, v) in metadata { flat[k] = "\(v)" }
            for (k, v) in event.metadata ?? [:] { flat[k] = "\(v)" }
            recorder.record(Entry(level: event.level, message: "\(event.message)", metadata: flat, source: event.source))
        }
    }
}
