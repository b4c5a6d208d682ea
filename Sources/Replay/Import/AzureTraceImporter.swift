public import Foundation
import ModelSelection

/// Converts an Azure LLM inference trace CSV into native workload tasks, streaming.
///
/// The input is the format of the Azure public dataset (Patel et al., "Splitwise", ISCA 2024, CC-BY-4.0):
///
/// ```
/// TIMESTAMP,ContextTokens,GeneratedTokens
/// 2023-11-16 18:15:46.6805900,374,44
/// ```
///
/// Timestamps have no zone and are read as UTC. Each row becomes a task with
/// - `ts` = `start + (row time − start) × timeScale`, where `start` is the first row's time;
/// - `complexity` drawn from ``Configuration/mix`` with a ``SeededGenerator`` seeded by ``Configuration/seed``
///   (one draw per row, in file order), and no `task` name;
/// - `input_tokens` = `ContextTokens`, `output_tokens` = `GeneratedTokens`;
/// - `id` = `azure-<n>` (n counts the tasks produced, from 1) and tag `source` (`azure-conv` or `azure-code`,
///   from the file name, unless ``Configuration/source`` says otherwise).
///
/// The same file, mix, seed and time scale always give the same tasks.
public struct AzureTraceImporter: AsyncSequence, Sendable {
    /// The element type: one task.
    public typealias Element = WorkloadTask
    /// Importing fails only with a ``ReplayError``.
    public typealias Failure = ReplayError
    /// Counts from an import so far (the same shape as a workload read's).
    public typealias Summary = WorkloadReader.Summary

    /// The expected header line.
    public static let header = "TIMESTAMP,ContextTokens,GeneratedTokens"

    /// How a trace is imported.
    public struct Configuration: Sendable, Hashable {
        /// The share of tasks per tier.
        public var mix: TierMix
        /// The seed of the tier draws.
        public var seed: UInt64
        /// How much to stretch time: 24 makes an hour of trace stand for a day. Must be finite and > 0.
        public var timeScale: Double
        /// The `source` tag; `nil` derives it from the file name (`azure-conv`, `azure-code`, else `azure`).
        public var source: String?
        /// Count and skip bad rows instead of stopping at the first one.
        public var skipInvalid: Bool
        /// How many error messages the summary keeps when skipping bad rows.
        public var maxReportedErrors: Int

        /// Creates a configuration.
        /// - Parameters:
        ///   - mix: The share of tasks per tier (default ``TierMix/default``).
        ///   - seed: The seed of the tier draws (default 0).
        ///   - timeScale: The time stretch factor (default 1).
        ///   - source: The `source` tag, or `nil` to derive it from the file name.
        ///   - skipInvalid: Count and skip bad rows (default `false`).
        ///   - maxReportedErrors: Error messages kept when skipping (default 5).
        public init(
            mix: TierMix = .default, seed: UInt64 = 0, timeScale: Double = 1, source: String? = nil,
            skipInvalid: Bool = false, maxReportedErrors: Int = 5
        ) {
            self.mix = mix
            self.seed = seed
            self.timeScale = timeScale
            self.source = source
            self.skipInvalid = skipInvalid
            self.maxReportedErrors = maxReportedErrors
        }
    }

    private enum Input: Sendable {
        case file(URL)
        case bytes([UInt8])
    }

    private let input: Input
    /// The name used in error messages.
    public let name: String
    /// How the trace is imported.
    public let configuration: Configuration
    private let source: String

    /// Creates an importer for a CSV file.
    /// - Parameters:
    ///   - url: The trace CSV.
    ///   - configuration: Mix, seed and time scale.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for a time scale that is not > 0.
    public init(url: URL, configuration: Configuration = .init()) throws(ReplayError) {
        try self.init(input: .file(url), name: url.lastPathComponent, configuration: configuration)
    }

    /// Creates an importer over CSV bytes in memory.
    /// - Parameters:
    ///   - data: The CSV content.
    ///   - name: The name used in error messages and to derive the `source` tag.
    ///   - configuration: Mix, seed and time scale.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for a time scale that is not > 0.
    public init(data: Data, name: String, configuration: Configuration = .init()) throws(ReplayError) {
        try self.init(input: .bytes([UInt8](data)), name: name, configuration: configuration)
    }

    private init(input: Input, name: String, configuration: Configuration) throws(ReplayError) {
        guard configuration.timeScale.isFinite, configuration.timeScale > 0 else {
            throw ReplayError(.invalidArgument, "time scale must be a number > 0, got \(configuration.timeScale)")
        }
        self.input = input
        self.name = name
        self.configuration = configuration
        let lower = name.lowercased()
        source = configuration.source
            ?? (lower.contains("conv") ? "azure-conv" : lower.contains("code") ? "azure-code" : "azure")
    }

    // MARK: - Iteration

    /// A synchronous iterator over the imported tasks; it exposes the ``Summary``.
    public struct Iterator {
        private var reader: LineReader?
        private var pendingError: ReplayError?
        private let name: String
        private let configuration: Configuration
        private let source: String
        private var generator: SeededGenerator
        private var start: Int64?
        private var sawHeader = false
        /// Counts so far; complete once ``next()`` has returned `nil`.
        public private(set) var summary = Summary()

        fileprivate init(importer: AzureTraceImporter) {
            name = importer.name
            configuration = importer.configuration
            source = importer.source
            generator = SeededGenerator(seed: importer.configuration.seed)
            switch importer.input {
            case .bytes(let bytes):
                reader = LineReader(bytes: bytes)
            case .file(let url):
                do throws(ReplayError) {
                    reader = try LineReader(url: url, blockSize: 1 << 20, fileName: importer.name)
                } catch {
                    pendingError = error
                }
            }
        }

        /// Returns the next imported task, or `nil` at the end of the file.
        /// - Returns: The next task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file, a bad header, or a bad row unless skipping invalid rows.
        public mutating func next() throws(ReplayError) -> WorkloadTask? {
            if let pendingError {
                self.pendingError = nil
                reader = nil
                throw pendingError
            }
            guard let reader else { return nil }
            while true {
                let row: Result<AzureRow, ReplayError>??
                do throws(ReplayError) {
                    let header = sawHeader
                    row = try reader.nextLine { (line) throws(ReplayError) -> Result<AzureRow, ReplayError>? in
                        if WorkloadLineParser.isBlank(line) { return nil }
                        if !header {
                            let text = String(decoding: line, as: UTF8.self)
                                .trimmingCharacters(in: .whitespaces)
                            guard text.caseInsensitiveCompare(AzureTraceImporter.header) == .orderedSame else {
                                throw ReplayError(
                                    .invalidHeader,
                                    "expected header '\(AzureTraceImporter.header)', got '\(ReplayError.quote(line))'",
                                    line: reader.lineNumber)
                            }
                            return .failure(ReplayError(.invalidHeader, "header"))  // Marker, consumed below.
                        }
                        do throws(ReplayError) {
                            return .success(try AzureRow.parse(line, file: name, line: reader.lineNumber))
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
                guard let row else {
                    self.reader = nil
                    return nil
                }
                summary.lines += 1
                switch row {
                case nil:
                    summary.blankLines += 1
                case .failure where !sawHeader:
                    sawHeader = true
                case .failure(let error):
                    guard configuration.skipInvalid else {
                        self.reader = nil
                        throw error
                    }
                    summary.invalidLines += 1
                    if summary.errors.count < configuration.maxReportedErrors { summary.errors.append(error) }
                case .success(let row):
                    summary.tasks += 1
                    return try makeTask(row)
                }
            }
        }

        private mutating func makeTask(_ row: AzureRow) throws(ReplayError) -> WorkloadTask {
            let start = self.start ?? row.nanos
            self.start = start
            var ts = row.nanos
            if configuration.timeScale != 1 {
                // Rows may lie centuries apart (1677…2262): the offset, the scaled offset and the sum are all checked.
                let (offset, o1) = row.nanos.subtractingReportingOverflow(start)
                let scaled = (Double(offset) * configuration.timeScale).rounded()
                let shifted = o1 || !(abs(scaled) < 4.0e18) ? nil : start.addingReportingOverflow(Int64(scaled))
                guard let shifted, !shifted.overflow else {
                    throw ReplayError(
                        .invalidArgument, "time scale \(configuration.timeScale) takes the timestamp out of range (1677…2262)",
                        file: name, line: reader?.lineNumber, field: "TIMESTAMP")
                }
                ts = shifted.partialValue
            }
            // No cached_input_tokens: the trace records no cache hits (a replay may assume some with a CacheHitShare).
            return WorkloadTask(
                epochNanoseconds: ts, id: "azure-\(summary.tasks)", complexity: configuration.mix.draw(using: &generator),
                inputTokens: row.input, outputTokens: row.output, tags: ["source": source])
        }
    }

    /// An asynchronous iterator over the imported tasks (it never suspends).
    public struct AsyncIterator: AsyncIteratorProtocol {
        private var base: Iterator

        fileprivate init(base: Iterator) { self.base = base }

        /// Counts so far; complete once ``next()`` has returned `nil`.
        public var summary: Summary { base.summary }

        /// Returns the next imported task, or `nil` at the end.
        /// - Returns: The next task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file, a bad header or a bad row.
        public mutating func next() async throws(ReplayError) -> WorkloadTask? { try base.next() }

        /// Returns the next imported task, or `nil` at the end.
        /// - Parameter actor: The caller's isolation (unused: importing never suspends).
        /// - Returns: The next task, or `nil` when the file is exhausted.
        /// - Throws: ``ReplayError`` for an unreadable file, a bad header or a bad row.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(ReplayError) -> WorkloadTask? {
            try base.next()
        }
    }

    /// Makes a synchronous iterator.
    /// - Returns: An iterator that reads the trace from the start.
    public func makeIterator() -> Iterator { Iterator(importer: self) }

    /// Makes an asynchronous iterator.
    /// - Returns: An iterator that reads the trace from the start.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: makeIterator()) }

    /// Imports the whole trace into memory (for small files and tests).
    /// - Returns: The tasks and the import's summary.
    /// - Throws: ``ReplayError`` as ``Iterator/next()`` does.
    public func importAll() throws(ReplayError) -> (tasks: [WorkloadTask], summary: Summary) {
        var iterator = makeIterator()
        var tasks: [WorkloadTask] = []
        while let task = try iterator.next() { tasks.append(task) }
        return (tasks, iterator.summary)
    }
}

/// One parsed row of an Azure trace.
struct AzureRow {
    var nanos: Int64
    var input: Int
    var output: Int

    static let columns = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]

    static func parse(_ line: UnsafeBufferPointer<UInt8>, file: String, line number: Int) throws(ReplayError) -> AzureRow {
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var start = 0
        for k in 0...line.count where k == line.count || line[k] == UInt8(ascii: ",") {
            var lo = start
            var hi = k
            while lo < hi, line[lo] == 0x20 || line[lo] == 0x09 { lo += 1 }
            while hi > lo, line[hi - 1] == 0x20 || line[hi - 1] == 0x09 { hi -= 1 }
            fields.append(UnsafeBufferPointer(rebasing: line[lo..<hi]))
            start = k + 1
        }
        guard fields.count == 3 else {
            throw ReplayError(
                .malformedLine, "expected 3 columns (\(columns.joined(separator: ","))), got \(fields.count)",
                file: file, line: number)
        }
        func invalid(_ column: Int, _ message: String) -> ReplayError {
            ReplayError(
                .invalidField, "\(message), got '\(ReplayError.quote(fields[column]))'", file: file, line: number,
                field: columns[column])
        }
        guard let nanos = Timestamp.parseRFC3339(fields[0]) else {
            throw invalid(0, "must be a timestamp like 2023-11-16 18:15:46.6805900")
        }
        guard let input = integer(fields[1]), input > 0 else { throw invalid(1, "must be a positive integer") }
        guard let output = integer(fields[2]), output >= 0 else { throw invalid(2, "must be a non-negative integer") }
        guard input <= WorkloadLineParser.maxTokens, output <= WorkloadLineParser.maxTokens else {
            throw invalid(input > WorkloadLineParser.maxTokens ? 1 : 2, "must be at most \(WorkloadLineParser.maxTokens)")
        }
        return AzureRow(nanos: nanos, input: input, output: output)
    }

    private static func integer(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !b.isEmpty, b.count <= 18 else { return nil }
        var v = 0
        for c in b {
            let d = c &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }
}
