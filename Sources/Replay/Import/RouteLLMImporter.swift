public import Foundation
public import ModelSelection

/// Converts a RouteLLM response file (CSV) into workload tasks with outcome labels for two catalog models.
///
/// RouteLLM (Ong et al., "RouteLLM: Learning to Route LLMs with Preference Data", ICLR 2025) publishes, per
/// benchmark, a CSV with a `prompt` column, one boolean column per model named after the model (`True` when that
/// model's answer was graded correct) and, in some files, the model's answer in `<model>_response`. The file is RFC
/// 4180 CSV: quoted fields may hold commas, newlines and doubled quotes.
///
/// Each record becomes a task with
/// - `id` = `routellm-<n>` (n from 1, in file order) and tag `source` = `routellm`;
/// - `ts` = ``Configuration/start`` + (n − 1) minutes;
/// - `complexity` = ``Configuration/complexity``, or drawn from ``Configuration/mix`` with a ``SeededGenerator``
///   seeded by ``Configuration/seed`` (one draw per record, in file order);
/// - `input_tokens` = ``TokenEstimator/typical`` of the prompt as one message: ⌈UTF-8 bytes ÷ 4⌉ + 4 + 3;
/// - `outcomes` for ``Configuration/weakModel`` and ``Configuration/strongModel``: `correct` from the weak and strong
///   columns, and `output_tokens` = ⌈UTF-8 bytes of `<column>_response` ÷ 4⌉ when that column exists;
/// - `output_tokens` = the larger label count, or ``Configuration/defaultOutputTokens`` when the file has no response
///   text.
///
/// The file is read into memory (RouteLLM's files are a few megabytes). The same file and configuration always give
/// the same tasks.
public struct RouteLLMImporter: Sendable {
    /// How a RouteLLM file is imported.
    public struct Configuration: Sendable, Hashable {
        /// The weak model's column (for example `mistralai/Mixtral-8x7B-Instruct-v0.1`).
        public var weakColumn: String
        /// The strong model's column (for example `gpt-4-1106-preview`).
        public var strongColumn: String
        /// The catalog model the weak column's labels are written for.
        public var weakModel: ModelID
        /// The catalog model the strong column's labels are written for.
        public var strongModel: ModelID
        /// The tier of every task, unless ``mix`` is given.
        public var complexity: Complexity
        /// When set, each task's tier is drawn from this mix instead of ``complexity``.
        public var mix: TierMix?
        /// The seed of the tier draws (used only with ``mix``).
        public var seed: UInt64
        /// Completion tokens of a task when the file has no response text.
        public var defaultOutputTokens: Int
        /// The first task's time, in nanoseconds since the Unix epoch; the others follow a minute apart.
        public var start: Int64

        /// 2026-10-01T00:00:00Z, the default ``start``.
        public static let defaultStart: Int64 = 1_790_812_800 * 1_000_000_000

        /// Creates a configuration.
        /// - Parameters:
        ///   - weakColumn: The weak model's column.
        ///   - strongColumn: The strong model's column.
        ///   - weakModel: The catalog id its labels are written for.
        ///   - strongModel: The catalog id its labels are written for.
        ///   - complexity: The tier of every task (default ``Complexity/medium``).
        ///   - mix: A tier mix to draw from instead (default none).
        ///   - seed: The seed of the mix draws (default 0).
        ///   - defaultOutputTokens: Completion tokens without response text (default 256).
        ///   - start: The first task's time (default ``defaultStart``).
        public init(
            weakColumn: String, strongColumn: String, weakModel: ModelID, strongModel: ModelID, complexity: Complexity = .medium,
            mix: TierMix? = nil, seed: UInt64 = 0, defaultOutputTokens: Int = 256, start: Int64 = Self.defaultStart
        ) {
            self.weakColumn = weakColumn
            self.strongColumn = strongColumn
            self.weakModel = weakModel
            self.strongModel = strongModel
            self.complexity = complexity
            self.mix = mix
            self.seed = seed
            self.defaultOutputTokens = defaultOutputTokens
            self.start = start
        }
    }

    /// The prompt column.
    public static let promptColumn = "prompt"
    /// The suffix of a model's response column.
    public static let responseSuffix = "_response"
    /// How prompt tokens are estimated: ``TokenEstimator/typical`` (one token per 4 UTF-8 bytes, rounded up, plus 4
    /// for the message and 3 for the reply's priming).
    public static let promptEstimator = TokenEstimator.typical
    /// How a response's tokens are estimated: one token per 4 UTF-8 bytes, rounded up, with no per-message allowance.
    public static let responseEstimator = TokenEstimator(bytesPerToken: 4, tokensPerMessage: 0, tokensPerRequest: 0)

    private let bytes: [UInt8]
    /// The name used in error messages.
    public let name: String
    /// How the file is imported.
    public let configuration: Configuration

    /// Creates an importer for a file.
    /// - Parameters:
    ///   - url: The RouteLLM CSV.
    ///   - configuration: Columns, models and tiers.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/io`` when the file cannot be read, or
    ///   ``ReplayError/Code/invalidArgument`` for a configuration that maps both columns or both models to one.
    public init(url: URL, configuration: Configuration) throws(ReplayError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ReplayError(.io, "cannot read: \(error.localizedDescription)", file: url.lastPathComponent)
        }
        try self.init(data: data, name: url.lastPathComponent, configuration: configuration)
    }

    /// Creates an importer over CSV bytes in memory.
    /// - Parameters:
    ///   - data: The CSV content.
    ///   - name: The name used in error messages.
    ///   - configuration: Columns, models and tiers.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/invalidArgument`` for a configuration that maps both
    ///   columns or both models to one, or a negative default output count.
    public init(data: Data, name: String, configuration: Configuration) throws(ReplayError) {
        guard configuration.weakColumn != configuration.strongColumn else {
            throw ReplayError(.invalidArgument, "the weak and strong columns must differ, both are '\(configuration.weakColumn)'")
        }
        guard configuration.weakModel != configuration.strongModel else {
            throw ReplayError(.invalidArgument, "the weak and strong models must differ, both are '\(configuration.weakModel)'")
        }
        guard (0...WorkloadLineParser.maxTokens).contains(configuration.defaultOutputTokens) else {
            throw ReplayError(.invalidArgument, "the default output tokens must be 0…\(WorkloadLineParser.maxTokens)")
        }
        bytes = [UInt8](data)
        self.name = name
        self.configuration = configuration
    }

    // MARK: - Import

    /// Imports every record.
    /// - Returns: The tasks, in file order.
    /// - Throws: ``ReplayError`` naming the file and line: ``ReplayError/Code/invalidHeader`` for a missing `prompt` or
    ///   model column (the message lists the columns), ``ReplayError/Code/malformedLine`` for a record with the wrong
    ///   number of fields or bad quoting, ``ReplayError/Code/invalidField`` for a model cell that is not `True` or
    ///   `False`.
    public func importAll() throws(ReplayError) -> [WorkloadTask] {
        var reader = CSVReader(bytes: bytes, file: name)
        guard let header = try reader.next() else {
            throw ReplayError(.invalidHeader, "the file is empty: expected a header with a 'prompt' column", file: name, line: 1)
        }
        let columns = header.fields
        func index(_ column: String, _ role: String) throws(ReplayError) -> Int {
            guard let k = columns.firstIndex(of: column) else {
                throw ReplayError(
                    .invalidHeader, "no \(role) column '\(column)' (columns: \(columns.joined(separator: ", ")))", file: name,
                    line: header.line, field: column)
            }
            return k
        }
        let prompt = try index(Self.promptColumn, "prompt")
        let weak = try index(configuration.weakColumn, "weak model")
        let strong = try index(configuration.strongColumn, "strong model")
        let weakResponse = columns.firstIndex(of: configuration.weakColumn + Self.responseSuffix)
        let strongResponse = columns.firstIndex(of: configuration.strongColumn + Self.responseSuffix)

        var generator = SeededGenerator(seed: configuration.seed)
        var tasks: [WorkloadTask] = []
        var n = 0
        while let record = try reader.next() {
            n += 1
            guard record.fields.count == columns.count else {
                throw ReplayError(
                    .malformedLine, "record \(n) has \(record.fields.count) fields, the header has \(columns.count)", file: name,
                    line: record.line)
            }
            func label(_ column: Int, _ response: Int?) throws(ReplayError) -> WorkloadTask.Outcome {
                let cell = record.fields[column].trimmingCharacters(in: .whitespaces)
                let correct: Bool
                switch cell.lowercased() {
                case "true": correct = true
                case "false": correct = false
                default:
                    throw ReplayError(
                        .invalidField, "record \(n): must be True or False, got '\(ReplayError.quote(cell.utf8))'", file: name,
                        line: record.line, field: columns[column])
                }
                let tokens = response.map { Self.responseEstimator.estimate(utf8Bytes: record.fields[$0].utf8.count, messages: 0) }
                return WorkloadTask.Outcome(correct: correct, outputTokens: tokens)
            }
            let weakLabel = try label(weak, weakResponse)
            let strongLabel = try label(strong, strongResponse)
            let input = Self.promptEstimator.estimate(utf8Bytes: record.fields[prompt].utf8.count, messages: 1)
            let labelled = [weakLabel.outputTokens, strongLabel.outputTokens].compactMap { $0 }
            let output = labelled.max() ?? configuration.defaultOutputTokens
            guard input <= WorkloadLineParser.maxTokens, output <= WorkloadLineParser.maxTokens else {
                throw ReplayError(
                    .invalidField, "record \(n): more than \(WorkloadLineParser.maxTokens) tokens", file: name, line: record.line)
            }
            let (ts, overflow) = configuration.start.addingReportingOverflow(Int64(n - 1) * 60_000_000_000)
            guard !overflow else {
                throw ReplayError(.invalidArgument, "record \(n): its timestamp is out of range", file: name, line: record.line)
            }
            let tier = configuration.mix.map { $0.draw(using: &generator) } ?? configuration.complexity
            tasks.append(
                WorkloadTask(
                    epochNanoseconds: ts, id: "routellm-\(n)", complexity: tier, inputTokens: input, outputTokens: output,
                    tags: ["source": "routellm"],
                    outcomes: [configuration.weakModel: weakLabel, configuration.strongModel: strongLabel]))
        }
        return tasks
    }
}
