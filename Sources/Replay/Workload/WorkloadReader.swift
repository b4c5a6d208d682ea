public import Foundation

/// Streams the tasks of a native JSONL workload file, one line at a time, in blocks of bytes.
///
/// Memory stays flat in the file's length. Blank lines are skipped. By default the first bad line stops
/// the read with a ``ReplayError`` naming the file, the line and the field; with
/// ``Configuration/skipInvalid`` bad lines are counted in ``Summary`` instead.
///
/// Tasks are returned in file order. Any order of timestamps is accepted, but replay assumes the file
/// is in trace order (non-decreasing `ts`).
///
/// ```swift
/// for try await task in WorkloadReader(url: url) { … }
///
/// var tasks = WorkloadReader(url: url, configuration: .init(skipInvalid: true)).makeIterator()
/// while let task = try tasks.next() { … }
/// print(tasks.summary.invalidLines)
/// ```
public struct WorkloadReader: AsyncSequence, Sendable {
    /// The element type: one task.
    public typealias Element = WorkloadTask
    /// Reading fails only with a ``ReplayError``.
    public typealias Failure = ReplayError

    /// How a workload is read.
    public struct Configuration: Sendable, Hashable {
        /// Count and skip bad lines instead of stopping at the first one.
        public var skipInvalid: Bool
        /// How many error messages ``Summary/errors`` keeps when skipping bad lines.
        public var maxReportedErrors: Int
        /// Bytes read from the file at a time.
        public var blockSize: Int

        /// Creates a configuration.
        /// - Parameters:
        ///   - skipInvalid: Count and skip bad lines instead of failing (default `false`).
        ///   - maxReportedErrors: Error messages kept when skipping (default 5).
        ///   - blockSize: Bytes read at a time (default 1 MiB).
        public init(skipInvalid: Bool = false, maxReportedErrors: Int = 5, blockSize: Int = 1 << 20) {
            self.skipInvalid = skipInvalid
            self.maxReportedErrors = maxReportedErrors
            self.blockSize = blockSize
        }
    }

    /// Counts from a read so far.
    public struct Summary: Sendable, Hashable {
        /// Lines read, including blank and bad ones.
        public var lines = 0
        /// Tasks returned.
        public var tasks = 0
        /// Blank lines skipped.
        public var blankLines = 0
        /// Bad lines skipped (only with ``Configuration/skipInvalid``).
        public var invalidLines = 0
        /// The first ``Configuration/maxReportedErrors`` errors of the skipped lines.
        public var errors: [ReplayError] = []

        /// Creates an empty summary.
        public init() {}
    }

    fileprivate enum Source: Sendable {
        case file(URL)
        case bytes([UInt8])
    }

    private let source: Source
    /// The name used in error messages (the file's last path component by default).
    public let name: String
    /// How the workload is read.
    public var configuration: Configuration

    /// Creates a reader for a file.
    /// - Parameters:
    ///   - url: The JSONL file.
    ///   - configuration: How to read it.
    public init(url: URL, configuration: Configuration = .init()) {
        source = .file(url)
        name = url.lastPathComponent
        self.configuration = configuration
    }

    /// Creates a reader over JSONL bytes in memory.
    /// - Parameters:
    ///   - data: The JSONL content.
    ///   - name: The name used in error messages.
    ///   - configuration: How to read it.
    public init(data: Data, name: String = "workload.jsonl", configuration: Configuration = .init()) {
        source = .bytes([UInt8](data))
        self.name = name
        self.configuration = configuration
    }

    // MARK: - Iteration

    /// A synchronous iterator: the fastest way to read, and the one that exposes the ``Summary``.
    public struct Iterator {
        private var reader: LineReader?
        private var openError: ReplayError?
        private let name: String
        private let configuration: Configuration
        /// Counts so far; complete once ``next()`` has returned `nil`.
        public private(set) var summary = Summary()

        fileprivate init(source: Source, name: String, configuration: Configuration) {
            self.name = name
            self.configuration = configuration
            switch source {
            case .bytes(let bytes):
                reader = LineReader(bytes: bytes)
            case .file(let url):
                do throws(ReplayError) {
                    reader = try LineReader(url: url, blockSize: configuration.blockSize, fileName: name)
                } catch {
                    openError = error
                }
            }
        }

        /// Returns the next task, or `nil` at the end of the file.
        /// - Returns: The next valid task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file, or for a bad line unless skipping invalid lines.
        public mutating func next() throws(ReplayError) -> WorkloadTask? {
            if let openError {
                self.openError = nil
                reader = nil
                throw openError
            }
            guard let reader else { return nil }
            while true {
                let result: Result<WorkloadTask?, ReplayError>?
                do throws(ReplayError) {
                    result = try reader.nextLine { (line) throws(ReplayError) -> Result<WorkloadTask?, ReplayError> in
                        if WorkloadLineParser.isBlank(line) { return .success(nil) }
                        do throws(ReplayError) {
                            return .success(try WorkloadLineParser.parse(line, file: name, line: reader.lineNumber))
                        } catch {
                            return .failure(error)
                        }
                    }
                } catch {
                    var error = error
                    error.file = error.file ?? name
                    self.reader = nil
                    throw error
                }
                guard let result else {
                    self.reader = nil
                    return nil
                }
                summary.lines += 1
                switch result {
                case .success(let task?):
                    summary.tasks += 1
                    return task
                case .success(nil):
                    summary.blankLines += 1
                case .failure(let error):
                    guard configuration.skipInvalid else {
                        self.reader = nil
                        throw error
                    }
                    summary.invalidLines += 1
                    if summary.errors.count < configuration.maxReportedErrors { summary.errors.append(error) }
                }
            }
        }
    }

    /// An asynchronous iterator over the tasks (it never suspends; it reads the file synchronously in blocks).
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: Iterator

        fileprivate init(base: Iterator) { self.base = base }

        /// Counts so far; complete once ``next()`` has returned `nil`.
        public var summary: Summary { base.summary }

        /// Returns the next task, or `nil` at the end.
        /// - Returns: The next valid task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file or a bad line.
        public mutating func next() async throws(ReplayError) -> WorkloadTask? {
            try base.next()
        }

        /// Returns the next task, or `nil` at the end.
        /// - Parameter actor: The caller's isolation (unused: reading never suspends).
        /// - Returns: The next valid task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file or a bad line.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ReplayError) -> WorkloadTask? {
            try base.next()
        }
    }

    /// Makes a synchronous iterator.
    /// - Returns: An iterator that reads the file from the start.
    public func makeIterator() -> Iterator {
        Iterator(source: source, name: name, configuration: configuration)
    }

    /// Makes an asynchronous iterator.
    /// - Returns: An iterator that reads the file from the start.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: makeIterator())
    }

    /// Reads the whole workload into memory (for small files and tests; replay should stream instead).
    /// - Returns: The tasks and the read's summary.
    /// - Throws: ``ReplayError`` as ``Iterator/next()`` does.
    public func readAll() throws(ReplayError) -> (tasks: [WorkloadTask], summary: Summary) {
        var iterator = makeIterator()
        var tasks: [WorkloadTask] = []
        while let task = try iterator.next() { tasks.append(task) }
        return (tasks, iterator.summary)
    }
}
