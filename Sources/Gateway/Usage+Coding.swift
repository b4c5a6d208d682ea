// MARK: - Lenient, truthful decoding of usage

extension Usage {
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptDetails = "prompt_tokens_details"
        case completionDetails = "completion_tokens_details"
        case cacheCreation = "cache_creation_input_tokens"
    }

    private struct PromptDetails: Encodable { var cached_tokens: Int }
    private struct CompletionDetails: Encodable { var reasoning_tokens: Int }

    /// Decodes usage leniently and truthfully; it never throws.
    ///
    /// - `prompt_tokens` and `completion_tokens` must both be present as non-negative JSON integers below 10^12
    ///   (whole floats such as `12.0` are accepted). A count that is missing, `null`, a string, a fractional or
    ///   non-finite number, negative or absurd is stored as 0 and named in ``problems``.
    /// - `total_tokens`, when present, must be such a count too and equal prompt + completion; a usable total is
    ///   kept even when it does not add up (reported as a problem), an unusable one is replaced by the sum.
    /// - `prompt_tokens_details.cached_tokens` and `completion_tokens_details.reasoning_tokens`, when present, must
    ///   be such counts no larger than their parent count; otherwise they are dropped (`nil`) and reported.
    /// - A `usage` that is not a JSON object gives zero counts and one problem.
    /// - `input_tokens` / `output_tokens` (and their `_details`) are read when the `prompt_`/`completion_` names are
    ///   absent, as image and Responses-style replies name them.
    /// - Anthropic-style `cache_read_input_tokens` and `cache_creation_input_tokens` are read as such counts. Beside
    ///   `input_tokens` (Anthropic's own shape) they are **not** part of it, so ``promptTokens`` is the sum of the
    ///   three. Beside `prompt_tokens` (an OpenAI-compatible gateway passing them through, as LiteLLM does) they are
    ///   taken as part of `prompt_tokens`; reads and writes together may not exceed it (else the writes are
    ///   dropped and reported). `cache_read_input_tokens` equal to `prompt_tokens_details.cached_tokens` is the same
    ///   tokens, counted once; unequal, the usage is reported as a problem. LiteLLM's
    ///   `prompt_tokens_details.cache_creation_tokens` is read the same way, as the cache writes.
    /// - Parameter decoder: The decoder.
    public init(from decoder: any Decoder) throws {
        self.init(lenientlyFrom: decoder, completionRequired: true)
    }

    /// Decodes usage where `completion_tokens` is optional (embeddings and images report prompt tokens only).
    init(lenientlyFrom decoder: any Decoder, completionRequired: Bool) {
        guard let object = (try? JSONValue(from: decoder))?.objectValue else {
            self.init(checkedPrompt: 0, completion: 0, total: 0, cached: nil, reasoning: nil, problems: ["usage is not a JSON object"])
            return
        }
        var check = UsageCheck()
        func field(_ name: String, _ alias: String) -> (JSONValue?, String) {
            if let v = object[name] { return (v, name) }
            if let v = object[alias] { return (v, alias) }
            return (nil, name)
        }
        let (p, pName) = field("prompt_tokens", "input_tokens")
        var prompt = check.count(p, pName, required: true) ?? 0
        let (c, cName) = field("completion_tokens", "output_tokens")
        let completion = check.count(c, cName, required: completionRequired) ?? 0
        // Anthropic-style cache counts, as Anthropic sends them or a gateway passes them through.
        var cacheRead = check.count(object["cache_read_input_tokens"], "cache_read_input_tokens", required: false)
        var cacheWrite = check.count(object["cache_creation_input_tokens"], "cache_creation_input_tokens", required: false)
        let native = pName == "input_tokens" && (object["cache_read_input_tokens"] != nil || object["cache_creation_input_tokens"] != nil)
        if native {
            // Anthropic's own `input_tokens` leaves out cache reads and writes: the prompt billed is their sum.
            let (a, o1) = prompt.addingReportingOverflow(cacheRead ?? 0)
            let (b, o2) = a.addingReportingOverflow(cacheWrite ?? 0)
            if o1 || o2 || b >= Usage.absurdTokenCount {
                check.problems.append("input_tokens with the cache reads and writes is absurd (at least 10^12); counted as 0")
                prompt = 0
                cacheRead = nil
                cacheWrite = nil
            } else {
                prompt = b
            }
        }
        let total = check.total(object["total_tokens"], prompt: prompt, completion: completion)

        func details(_ name: String, _ alias: String) -> (members: [String: JSONValue], name: String)? {
            let (value, key) = field(name, alias)
            switch value {
            case nil, .null?: return nil
            case .object(let o)?: return (o, key)
            default:
                check.problems.append("\(key) is not a JSON object; ignored")
                return nil
            }
        }
        var cached: Int?
        var cachedName = "cache_read_input_tokens"
        if let d = details("prompt_tokens_details", "input_tokens_details") {
            cachedName = "\(d.name).cached_tokens"
            cached = check.detail(d.members["cached_tokens"], cachedName, parent: prompt, parentName: pName)
            // LiteLLM also names the cache writes here; with cache_creation_input_tokens they are the same tokens.
            let writeName = "\(d.name).cache_creation_tokens"
            if let w = check.count(d.members["cache_creation_tokens"], writeName, required: false) {
                if let top = cacheWrite, top != w {
                    check.problems.append("\(writeName) (\(w)) and cache_creation_input_tokens (\(top)) disagree")
                } else {
                    cacheWrite = w
                }
            }
        }
        if let cacheRead {
            // Both forms name the same cache reads (LiteLLM sends both, equal): counted once. Unequal, neither is trusted.
            if let c = cached, c != cacheRead {
                check.problems.append("\(cachedName) (\(c)) and cache_read_input_tokens (\(cacheRead)) disagree")
            } else if cached == nil {
                cached = check.detail(.integer(Int64(cacheRead)), "cache_read_input_tokens", parent: prompt, parentName: pName)
            }
        }
        let write = check.cacheWrite(cacheWrite.map { .integer(Int64($0)) }, "cache_creation_input_tokens", cached: cached, prompt: prompt, promptName: pName)
        var reasoning: Int?
        if let d = details("completion_tokens_details", "output_tokens_details") {
            reasoning = check.detail(d.members["reasoning_tokens"], "\(d.name).reasoning_tokens", parent: completion, parentName: cName)
        }
        self.init(
            checkedPrompt: prompt, completion: completion, total: total, cached: cached, cacheWrite: write, reasoning: reasoning,
            problems: check.problems)
    }

    /// Encodes usage in the OpenAI shape (``problems`` are not encoded).
    /// - Parameter encoder: The encoder.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(promptTokens, forKey: .promptTokens)
        try c.encode(completionTokens, forKey: .completionTokens)
        try c.encode(totalTokens, forKey: .totalTokens)
        if let cachedPromptTokens { try c.encode(PromptDetails(cached_tokens: cachedPromptTokens), forKey: .promptDetails) }
        if let reasoningTokens { try c.encode(CompletionDetails(reasoning_tokens: reasoningTokens), forKey: .completionDetails) }
        if let cacheWritePromptTokens { try c.encode(cacheWritePromptTokens, forKey: .cacheCreation) }
    }
}

/// Decodes a ``Usage`` whose `completion_tokens` may be absent (embeddings, images).
struct PromptOnlyUsage: Decodable {
    var usage: Usage
    init(from decoder: any Decoder) throws {
        usage = Usage(lenientlyFrom: decoder, completionRequired: false)
    }
}
