import Gateway

// MARK: - Redacting decoded replies
//
// Providers echo anything in the identifiers of a reply, the key included, and BATS prints those identifiers
// (`bats models --remote`, `bats complete`, errors, logs). The client redacts them before handing a reply back.
// The reply's own text (content, reasoning, tool arguments) is the caller's data and is left alone.

extension ChatResponse {
    /// The reply with `id` and `model` redacted.
    func redacted(by redactor: SecretRedactor) -> ChatResponse {
        var r = self
        r.id = redactor.redact(id)
        r.model = redactor.redact(model)
        return r
    }
}

extension ChatCompletionChunk {
    /// The chunk with `id` and `model` redacted.
    func redacted(by redactor: SecretRedactor) -> ChatCompletionChunk {
        var c = self
        c.id = redactor.redact(id)
        c.model = redactor.redact(model)
        return c
    }
}

extension ModelList {
    /// The list with every model's `id` and `owned_by` redacted.
    func redacted(by redactor: SecretRedactor) -> ModelList {
        ModelList(data: data.map { m in
            ModelList.Model(id: redactor.redact(m.id), ownedBy: redactor.redact(m.ownedBy), created: m.created)
        })
    }
}

extension EmbeddingsResponse {
    /// The reply with `model` redacted.
    func redacted(by redactor: SecretRedactor) -> EmbeddingsResponse {
        var r = self
        r.model = redactor.redact(model)
        return r
    }
}
