import ModelSelection

// MARK: - Outcome labels

extension WorkloadLineParser {
    /// Parses `"outcomes": {"MODEL": {"correct": true, "output_tokens": 212}, …}` (`null` means none).
    ///
    /// Each model id must be a non-empty string given once; each label an object with a boolean `correct` (required)
    /// and a non-negative integer `output_tokens` (optional, `null` for absent). Unknown keys inside a label are
    /// skipped, as unknown fields are. Model ids are not checked against a catalog here, as task kinds are not: the
    /// replay and its policies decide what a label of an unknown model means.
    mutating func parseOutcomes() throws(ReplayError) -> [ModelID: WorkloadTask.Outcome] {
        if consumeNull() { return [:] }
        let start = i
        guard peek() == UInt8(ascii: "{") else {
            try skipValue(field: .outcomes)
            throw invalid(.outcomes, "must be an object of labels by model id, got \(quoteRaw(from: start))")
        }
        var outcomes: [ModelID: WorkloadTask.Outcome] = [:]
        try forEachMember(field: .outcomes, naming: "a model id") { (p, model) throws(ReplayError) in
            guard !model.isEmpty else { throw p.invalid(.outcomes, "a model id must not be empty") }
            guard outcomes[ModelID(model)] == nil else { throw p.invalid(.outcomes, "model '\(model)' is given twice") }
            outcomes[ModelID(model)] = try p.parseOutcome(model: model)
        }
        return outcomes
    }

    /// Parses one label: `{"correct": true, "output_tokens": 212}`.
    private mutating func parseOutcome(model: String) throws(ReplayError) -> WorkloadTask.Outcome {
        let start = i
        guard peek() == UInt8(ascii: "{") else {
            try skipValue(field: .outcomes)
            throw invalid(
                .outcomes, "'\(model)' must be an object such as {\"correct\": true}, got \(quoteRaw(from: start))")
        }
        var correct: Bool?
        var output: Int?
        var seenOutput = false
        try forEachMember(field: .outcomes, naming: "a label field") { (p, name) throws(ReplayError) in
            let valueStart = p.i
            switch name {
            case "correct":
                guard correct == nil else { throw p.invalid(.outcomes, "'\(model)': 'correct' is given twice") }
                guard let value = p.consumeBool() else {
                    try p.skipValue(field: .outcomes)
                    throw p.invalid(.outcomes, "'\(model)': 'correct' must be true or false, got \(p.quoteRaw(from: valueStart))")
                }
                correct = value
            case "output_tokens":
                guard !seenOutput else { throw p.invalid(.outcomes, "'\(model)': 'output_tokens' is given twice") }
                seenOutput = true
                if !p.consumeNull() { output = try p.parseLabelTokens(model: model) }
            default:
                try p.skipValue(field: .outcomes)
            }
        }
        guard let correct else { throw invalid(.outcomes, "'\(model)': 'correct' (true or false) is required") }
        return WorkloadTask.Outcome(correct: correct, outputTokens: output)
    }

    private mutating func parseLabelTokens(model: String) throws(ReplayError) -> Int {
        let start = i
        let c = peek()
        let message = "'\(model)': 'output_tokens' must be a non-negative integer"
        guard c == UInt8(ascii: "-") || (c.map { $0 &- UInt8(ascii: "0") < 10 } ?? false) else {
            try skipValue(field: .outcomes)
            throw invalid(.outcomes, "\(message), got \(quoteRaw(from: start))")
        }
        let number = try scanNumber(field: .outcomes)
        guard !number.negative, !number.hasFraction, !number.hasExponent, let value = number.integerValue(b) else {
            throw invalid(.outcomes, "\(message), got \(quoteRaw(from: start))")
        }
        guard value <= Self.maxTokens else {
            throw invalid(.outcomes, "'\(model)': 'output_tokens' must be at most \(Self.maxTokens), got \(value)")
        }
        return value
    }

    /// Consumes `true` or `false`.
    private mutating func consumeBool() -> Bool? {
        for (literal, value) in [(Array("true".utf8), true), (Array("false".utf8), false)]
        where b.count - i >= literal.count && (0..<literal.count).allSatisfy({ b[i + $0] == literal[$0] }) {
            i += literal.count
            return value
        }
        return nil
    }
}
