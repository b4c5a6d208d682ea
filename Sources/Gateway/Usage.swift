/// Token counts a provider reports for one call.
///
/// Decoding is lenient: a `usage` object that is empty, incomplete or hostile never fails the reply. Instead the
/// counts that could not be trusted are stored as 0 (or `nil` for the details) and each defect is named in
/// ``problems``, so that a caller can settle from its own estimate and flag the call. See
/// ``init(from:)`` for the rules.
public struct Usage: Sendable, Hashable, Codable {
    /// Prompt tokens billed, cache reads and writes included (0 when not reported as a usable count; see
    /// ``problems``).
    ///
    /// For a native Anthropic-style usage (`input_tokens` with `cache_read_input_tokens` /
    /// `cache_creation_input_tokens`, which Anthropic does not count in `input_tokens`) this is their sum.
    public var promptTokens: Int
    /// Completion tokens billed (reasoning tokens included where the provider counts them here); 0 when not
    /// reported as a usable count.
    public var completionTokens: Int
    /// The total the provider reported when it is a usable count, else prompt + completion (saturating).
    public var totalTokens: Int
    /// Prompt tokens served from the provider's cache, where reported (`prompt_tokens_details.cached_tokens`, or
    /// Anthropic-style `cache_read_input_tokens`); part of ``promptTokens``.
    public var cachedPromptTokens: Int?
    /// Prompt tokens written to the provider's cache, where reported (Anthropic-style `cache_creation_input_tokens`);
    /// part of ``promptTokens``, and never overlapping ``cachedPromptTokens``.
    public var cacheWritePromptTokens: Int?
    /// Reasoning tokens, where reported (`completion_tokens_details.reasoning_tokens`).
    public var reasoningTokens: Int?
    /// What was wrong with the counts as reported, one short sentence each (never echoing provider strings);
    /// empty when the usage is well formed. Not encoded.
    ///
    /// A usage with problems should not be trusted for billing: settle from an estimate and flag the call.
    public var problems: [String]

    /// Whether the usage is well formed (``problems`` is empty).
    public var isWellFormed: Bool { problems.isEmpty }

    /// The smallest token count treated as absurd (10^12): such counts are stored as 0 and reported as a problem.
    public static let absurdTokenCount = 1_000_000_000_000

    /// Creates a usage record.
    ///
    /// The same rules as decoding apply: a negative or absurd count is stored as 0, a detail count that is
    /// negative, absurd or larger than its parent is dropped, a total that is not prompt + completion is kept but
    /// reported, and each of these adds to `problems`. Arithmetic never traps.
    /// - Parameters:
    ///   - promptTokens: Prompt tokens.
    ///   - completionTokens: Completion tokens.
    ///   - totalTokens: The total; `nil` is prompt + completion.
    ///   - cachedPromptTokens: Prompt tokens read from the cache, part of `promptTokens`.
    ///   - reasoningTokens: Reasoning tokens.
    ///   - cacheWritePromptTokens: Prompt tokens written to the cache, part of `promptTokens`; with the cached
    ///     tokens, no more than `promptTokens` (else dropped and reported).
    ///   - problems: Problems already known (such as "settled from an estimate").
    public init(
        promptTokens: Int, completionTokens: Int, totalTokens: Int? = nil, cachedPromptTokens: Int? = nil, reasoningTokens: Int? = nil,
        cacheWritePromptTokens: Int? = nil, problems: [String] = []
    ) {
        var check = UsageCheck()
        check.problems = problems
        self.promptTokens = check.count(.integer(Int64(promptTokens)), "prompt_tokens", required: true) ?? 0
        self.completionTokens = check.count(.integer(Int64(completionTokens)), "completion_tokens", required: true) ?? 0
        self.totalTokens = check.total(totalTokens.map { .integer(Int64($0)) }, prompt: self.promptTokens, completion: self.completionTokens)
        self.cachedPromptTokens = check.detail(
            cachedPromptTokens.map { .integer(Int64($0)) }, "prompt_tokens_details.cached_tokens", parent: self.promptTokens, parentName: "prompt_tokens")
        self.reasoningTokens = check.detail(
            reasoningTokens.map { .integer(Int64($0)) }, "completion_tokens_details.reasoning_tokens", parent: self.completionTokens,
            parentName: "completion_tokens")
        self.cacheWritePromptTokens = check.cacheWrite(
            cacheWritePromptTokens.map { .integer(Int64($0)) }, "cache_creation_input_tokens", cached: self.cachedPromptTokens,
            prompt: self.promptTokens, promptName: "prompt_tokens")
        self.problems = check.problems
    }

    /// Creates a usage from already-checked parts.
    init(checkedPrompt: Int, completion: Int, total: Int, cached: Int?, cacheWrite: Int? = nil, reasoning: Int?, problems: [String]) {
        self.promptTokens = checkedPrompt
        self.completionTokens = completion
        self.totalTokens = total
        self.cachedPromptTokens = cached
        self.cacheWritePromptTokens = cacheWrite
        self.reasoningTokens = reasoning
        self.problems = problems
    }
}

// MARK: - Checking counts

/// Validates token counts and collects problems. Counts are read from ``JSONValue``s so that strings, floats,
/// booleans and numbers beyond 64 bits are seen as they were sent.
struct UsageCheck {
    var problems: [String] = []

    /// A usable count, or `nil` (with a problem unless it is an absent optional count).
    mutating func count(_ value: JSONValue?, _ name: String, required: Bool) -> Int? {
        switch value {
        case nil, .null?:
            if required { problems.append("\(name) is missing") }
            return nil
        case .integer(let i)?:
            return range(i, name)
        case .number(let d)?:
            guard d.isFinite else {
                problems.append("\(name) is not a finite number")
                return nil
            }
            if d >= Double(Usage.absurdTokenCount) {
                problems.append("\(name) is absurd (\(d), at least 10^12); counted as 0")
                return nil
            }
            if d <= -Double(Usage.absurdTokenCount) {
                problems.append("\(name) is negative (\(d)); counted as 0")
                return nil
            }
            guard let i = Int64(exactly: d) else {
                problems.append("\(name) is not a whole number (\(d)); counted as 0")
                return nil
            }
            return range(i, name)
        case .string?:
            problems.append("\(name) is a string, not a JSON integer; counted as 0")
            return nil
        case .bool?, .array?, .object?:
            problems.append("\(name) is not a number; counted as 0")
            return nil
        }
    }

    private mutating func range(_ i: Int64, _ name: String) -> Int? {
        if i < 0 {
            problems.append("\(name) is negative (\(i)); counted as 0")
            return nil
        }
        if i >= Int64(Usage.absurdTokenCount) {
            problems.append("\(name) is absurd (\(i), at least 10^12); counted as 0")
            return nil
        }
        return Int(i)
    }

    /// The reported total when usable (a mismatch with prompt + completion is a problem), else the sum.
    mutating func total(_ value: JSONValue?, prompt: Int, completion: Int) -> Int {
        let (sum, overflow) = prompt.addingReportingOverflow(completion)
        let computed = overflow ? Int.max : sum
        guard let value, value != .null else { return computed }
        guard let reported = count(value, "total_tokens", required: false) else { return computed }
        if reported != computed {
            problems.append("total_tokens (\(reported)) is not prompt_tokens + completion_tokens (\(computed))")
        }
        return reported
    }

    /// A usable cache-write count that fits in the prompt beside the cache reads, or `nil`.
    mutating func cacheWrite(_ value: JSONValue?, _ name: String, cached: Int?, prompt: Int, promptName: String) -> Int? {
        guard let n = count(value, name, required: false) else { return nil }
        let room = prompt - (cached ?? 0)
        if n > room {
            problems.append("\(name) (\(n)) and the cached tokens (\(cached ?? 0)) are more than \(promptName) (\(prompt)); dropped")
            return nil
        }
        return n
    }

    /// A usable detail count no larger than its parent, or `nil`.
    mutating func detail(_ value: JSONValue?, _ name: String, parent: Int, parentName: String) -> Int? {
        guard let n = count(value, name, required: false) else { return nil }
        if n > parent {
            problems.append("\(name) (\(n)) is larger than \(parentName) (\(parent)); dropped")
            return nil
        }
        return n
    }
}
