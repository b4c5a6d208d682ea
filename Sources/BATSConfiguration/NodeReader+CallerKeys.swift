import ModelSelection
import Yams

extension NodeReader {
    /// The fields of one caller key entry, in a keys file's `keys` and in `server.keys`.
    static let callerKeyFields = ["name", "sha256", "tags", "daily_budget", "monthly_budget"]

    /// A list of caller key entries, each checked on its own; names and digests given twice are left to
    /// ``CallerKeys/problems(_:)``. `nil` after a problem.
    mutating func callerKeys(_ node: Node, at path: String) -> [CallerKeys.Entry]? {
        guard let items = sequence(node, at: path) else { return nil }
        var out: [CallerKeys.Entry] = []
        var ok = true
        for (i, item) in items.enumerated() {
            if let entry = callerKey(item, at: "\(path)[\(i)]") { out.append(entry) } else { ok = false }
        }
        return ok ? out : nil
    }

    /// One caller key entry: `name`, `sha256`, and optionally `tags`, `daily_budget`, `monthly_budget`.
    ///
    /// A secret in it (a `secret:` or `key:` field, or any value that looks like a key) is an error that never
    /// shows the value.
    mutating func callerKey(_ node: Node, at path: String) -> CallerKeys.Entry? {
        let advice = SecretDetector.callerKeyAdvice
        guard let t = table(node, at: path, keys: Self.callerKeyFields, secretAdvice: advice) else { return nil }
        let before = errors.count
        var name: String?
        if let v = t["name"], let text = string(v, at: t.path("name")) {
            if SecretDetector.looksLikeSecret(text) {
                secret(v, t.path("name"), "the name looks like a secret; " + advice)
            } else if !CallerKey.isValidName(text) {
                invalid(v, t.path("name"), "\(Self.shown(text)) is not a caller key name: use \(CallerKey.nameRule)")
            } else {
                name = text
            }
        } else if !t.has("name") {
            missing("name", in: t, "a caller key needs a name (its budget scope is key:NAME)")
        }
        var digest: [UInt8]?
        if let v = t["sha256"], let text = scalar(v, at: t.path("sha256"), expected: "the secret's SHA-256 in 64 hex digits") {
            digest = self.digest(v, text, at: t.path("sha256"))
        } else if !t.has("sha256") {
            missing("sha256", in: t, "a caller key needs sha256, the SHA-256 of its secret (bats keys add writes it)")
        }
        var tags: [String: String] = [:]
        if let v = t["tags"] { tags = self.tags(v, at: t.path("tags")) ?? [:] }
        var daily: MicroDollars?, monthly: MicroDollars?
        if let v = t["daily_budget"] { daily = limit(v, at: t.path("daily_budget")) }
        if let v = t["monthly_budget"] { monthly = limit(v, at: t.path("monthly_budget")) }
        guard errors.count == before, let name, let digest else { return nil }
        let at = Self.position(of: t["name"] ?? node)
        return CallerKeys.Entry(
            key: CallerKey(name: name, sha256: digest, tags: tags, daily: daily, monthly: monthly), file: file, path: path,
            line: at.line, column: at.column)
    }

    /// The digest from 64 hex digits; a value that looks like the secret itself is an error that does not show it.
    private mutating func digest(_ node: Node, _ text: String, at path: String) -> [UInt8]? {
        guard let d = CallerKey.digest(hex: text) else {
            if SecretDetector.looksLikeSecret(text) || text.hasPrefix(CallerKey.secretPrefix) {
                secret(node, path, "sha256 holds the SHA-256 of the secret, and this value looks like the secret itself; "
                    + SecretDetector.callerKeyAdvice)
            } else {
                // Never shown: a mangled digest may be a secret that the detector does not recognise.
                invalid(node, path, "must be the secret's SHA-256 in 64 hexadecimal digits (bats keys add writes it)")
            }
            return nil
        }
        guard d != CallerKey.digest(of: "") else {
            invalid(node, path, "this is the SHA-256 of an empty secret")
            return nil
        }
        return d
    }

    /// A table of tags, `{desk: a}`: each a usable tag (``CallerKey/isValidTag(key:value:)``) that does not look like
    /// a secret.
    private mutating func tags(_ node: Node, at path: String) -> [String: String]? {
        guard let t = table(node, at: path, keys: nil) else { return nil }
        var out: [String: String] = [:]
        var ok = true
        for e in t.entries {
            let at = t.path(e.key)
            guard let value = scalar(e.value, at: at, expected: "a tag value") else { ok = false; continue }
            if SecretDetector.isSecretKeyName(e.key) || SecretDetector.looksLikeSecret(e.key) || SecretDetector.looksLikeSecret(value) {
                secret(e.keyNode, at, "a tag must not hold a secret; " + SecretDetector.callerKeyAdvice)
                ok = false
            } else if !CallerKey.isValidTag(key: e.key, value: value) {
                invalid(e.value, at, "\(CallerKey.tagRule)")
                ok = false
            } else {
                out[e.key] = value
            }
        }
        return ok ? out : nil
    }

    /// Records a secret written where it must not be.
    mutating func secret(_ node: Node, _ key: String, _ message: String) {
        let p = Self.position(of: node)
        add(.inlineSecret(file: file, line: p.line, column: p.column, key: key, message: message))
    }
}
