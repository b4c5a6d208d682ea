public import Foundation
public import ModelSelection

/// One recorded (or generated) call in a workload: when it happened, what it was and how many tokens it used.
///
/// A task names its ``task`` kind (such as `parse_market_data`), its ``complexity`` tier, or both; at least
/// one is always present in a task read from a file. Timestamps are exact to the nanosecond.
public struct WorkloadTask: Sendable, Hashable {
    /// When the call started, in nanoseconds since 1970-01-01T00:00:00Z.
    public var epochNanoseconds: Int64
    /// An optional identifier, unique within the workload by convention.
    public var id: String?
    /// The task kind (`parse_market_data`), if recorded.
    public var task: String?
    /// The tier, if recorded; otherwise the router resolves it from ``task``.
    public var complexity: Complexity?
    /// Prompt tokens the call used (> 0), cache reads included.
    public var inputTokens: Int
    /// Prompt tokens the provider served from its cache (`cached_input_tokens`, 0 … ``inputTokens``), if recorded.
    ///
    /// They are part of ``inputTokens``; a replay settles them at the model's cached price
    /// (``ModelSelection/ModelInfo/cachedInputPerMillionTokens``). `nil` means not recorded: a replay then assumes no
    /// cache hit unless it is given a ``CacheHitShare``.
    public var cachedInputTokens: Int?
    /// Completion tokens the call produced (≥ 0).
    public var outputTokens: Int
    /// The `max_tokens` the call was sent with, if recorded (> 0).
    public var maxOutputTokens: Int?
    /// Free-form string tags such as `agent` and `symbol`.
    public var tags: [String: String]
    /// Per-model outcome labels (`"outcomes": {"deepseek-v3": {"correct": true}}`): whether that model's answer to
    /// this task was graded correct, and optionally how many tokens it produced. Empty when the line has none.
    public var outcomes: [ModelID: Outcome]

    /// Creates a task.
    /// - Parameters:
    ///   - epochNanoseconds: Start time in nanoseconds since the Unix epoch.
    ///   - id: An optional identifier.
    ///   - task: The task kind, if any.
    ///   - complexity: The tier, if any.
    ///   - inputTokens: Prompt tokens (> 0).
    ///   - outputTokens: Completion tokens (≥ 0).
    ///   - maxOutputTokens: The `max_tokens` of the call, if known.
    ///   - tags: String tags.
    ///   - outcomes: Per-model outcome labels.
    ///   - cachedInputTokens: Prompt tokens served from the cache (0 … `inputTokens`), if recorded.
    public init(
        epochNanoseconds: Int64, id: String? = nil, task: String? = nil, complexity: Complexity? = nil,
        inputTokens: Int, outputTokens: Int, maxOutputTokens: Int? = nil, tags: [String: String] = [:],
        outcomes: [ModelID: Outcome] = [:], cachedInputTokens: Int? = nil
    ) {
        self.epochNanoseconds = epochNanoseconds
        self.id = id
        self.task = task
        self.complexity = complexity
        self.inputTokens = inputTokens
        self.cachedInputTokens = cachedInputTokens
        self.outputTokens = outputTokens
        self.maxOutputTokens = maxOutputTokens
        self.tags = tags
        self.outcomes = outcomes
    }

    /// Creates a task from a `Date` (rounded to the nearest microsecond, the precision of `Date` today).
    /// - Parameters:
    ///   - date: Start time.
    ///   - id: An optional identifier.
    ///   - task: The task kind, if any.
    ///   - complexity: The tier, if any.
    ///   - inputTokens: Prompt tokens (> 0).
    ///   - outputTokens: Completion tokens (≥ 0).
    ///   - maxOutputTokens: The `max_tokens` of the call, if known.
    ///   - tags: String tags.
    ///   - outcomes: Per-model outcome labels.
    ///   - cachedInputTokens: Prompt tokens served from the cache (0 … `inputTokens`), if recorded.
    public init(
        date: Date, id: String? = nil, task: String? = nil, complexity: Complexity? = nil,
        inputTokens: Int, outputTokens: Int, maxOutputTokens: Int? = nil, tags: [String: String] = [:],
        outcomes: [ModelID: Outcome] = [:], cachedInputTokens: Int? = nil
    ) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        self.init(
            epochNanoseconds: Int64(micros) * 1_000, id: id, task: task, complexity: complexity,
            inputTokens: inputTokens, outputTokens: outputTokens, maxOutputTokens: maxOutputTokens, tags: tags,
            outcomes: outcomes, cachedInputTokens: cachedInputTokens)
    }

    /// The start time as a `Date` (sub-microsecond digits may be lost to `Double` precision).
    public var date: Date {
        let seconds = epochNanoseconds.quotientAndRemainderFlooring(1_000_000_000)
        return Date(timeIntervalSince1970: Double(seconds.quotient) + Double(seconds.remainder) / 1e9)
    }

    /// The start time in RFC 3339 UTC form, as the writer prints it (`2026-10-01T13:30:00.125Z`).
    public var timestampString: String { Timestamp.format(epochNanoseconds) }
}

extension Int64 {
    /// Floor division: the remainder is always in `0..<divisor` for a positive divisor.
    func quotientAndRemainderFlooring(_ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var (q, r) = quotientAndRemainder(dividingBy: divisor)
        if r < 0 {
            q -= 1
            r += divisor
        }
        return (q, r)
    }
}
