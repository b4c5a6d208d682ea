import Foundation
import Yams

extension DeploymentParser {
    // MARK: - Gateway

    /// The keys of `gateway`.
    static let gatewayKeys = ["base_url", "api_key_env"]

    /// `gateway`: the base URL and the name of the variable that holds the key. A key written in the section, under
    /// any name, is an error that never shows the key.
    mutating func gateway(_ node: Node?) -> DeploymentConfiguration.Gateway? {
        guard let node else { return .init() }
        guard let t = reader.table(node, at: "gateway", keys: Self.gatewayKeys) else { return nil }
        let before = reader.errors.count
        var g = DeploymentConfiguration.Gateway()
        if let v = t["base_url"], let text = reader.string(v, at: t.path("base_url")) {
            g.baseURL = url(v, text, at: t.path("base_url"), what: "the gateway's base URL such as https://api.router.tetrate.ai/v1")?
                .absoluteString
        }
        if let v = t["api_key_env"], let name = reader.string(v, at: t.path("api_key_env")) {
            if SecretDetector.looksLikeSecret(name) {
                secret(
                    v, t.path("api_key_env"),
                    "api_key_env holds the NAME of the environment variable that has the key (such as TARS_API_KEY), "
                        + "and this value looks like a key itself: move the key into the environment")
            } else if !Self.isVariableName(name) {
                reader.invalid(
                    v, t.path("api_key_env"),
                    "must be the name of an environment variable, such as TARS_API_KEY (letters, digits and _, not starting with a digit)")
            } else {
                g.apiKeyVariable = name
            }
        }
        return reader.errors.count == before ? g : nil
    }

    /// Whether a string is a portable environment variable name.
    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.first, first == "_" || (first.isASCII && first.isLetter) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    /// Records a secret written inline.
    mutating func secret(_ node: Node, _ key: String, _ message: String) {
        let p = NodeReader.position(of: node)
        reader.add(.inlineSecret(file: reader.file, line: p.line, column: p.column, key: key, message: message))
    }

    /// An `http` or `https` URL with a host and no credentials in it.
    mutating func url(_ node: Node, _ text: String, at path: String, what: String) -> URL? {
        guard let c = URLComponents(string: text), let scheme = c.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = c.host, !host.isEmpty, let url = c.url
        else {
            reader.invalid(node, path, "must be an http or https URL: \(what)")
            return nil
        }
        let secretQuery = c.queryItems?.contains {
            SecretDetector.isSecretKeyName($0.name) || SecretDetector.looksLikeSecret($0.value ?? "")
        } ?? false
        if c.user != nil || c.password != nil || secretQuery {
            secret(node, path, "the URL carries credentials; " + SecretDetector.advice)
            return nil
        }
        return url
    }

    // MARK: - Ledger

    /// `ledger`: the SQLite file (`ledger: spend.sqlite` or `ledger.path`), relative to the configuration's directory,
    /// or a PostgreSQL ledger (`ledger.url: postgres://user@host:port/db`, its password from the environment).
    mutating func ledger(_ node: Node?) -> DeploymentConfiguration.Ledger? {
        guard let node else { return .init() }
        if case .scalar = node {
            return reader.string(node, at: "ledger").map { .init(path: resolve($0)) }
        }
        guard let t = reader.table(node, at: "ledger", keys: ["path", "url"]) else { return nil }
        if let v = t["url"] {
            if t["path"] != nil {
                reader.invalid(v, t.path("url"), "give ledger.path (an SQLite file) or ledger.url (PostgreSQL), not both")
                return nil
            }
            guard let url = reader.string(v, at: t.path("url")) else { return nil }
            let lower = url.lowercased()
            guard lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") else {
                reader.invalid(v, t.path("url"), "a ledger URL starts with postgres:// or postgresql://")
                return nil
            }
            if URLComponents(string: url)?.password != nil {
                reader.invalid(v, t.path("url"), "a password does not belong in the configuration file: set BATS_LEDGER_PASSWORD or a password file")
                return nil
            }
            return .init(url: url)
        }
        guard let v = t["path"] else { return .init() }
        return reader.string(v, at: t.path("path")).map { .init(path: resolve($0)) }
    }

    // MARK: - Alerts

    /// The keys of `alerts.webhook`.
    static let webhookKeys = ["url", "timeout", "max_attempts", "backoff", "max_backoff"]

    /// `alerts`: the webhook alerts are posted to.
    mutating func alerts(_ node: Node?) -> DeploymentConfiguration.Alerts? {
        guard let node else { return .init() }
        guard let t = reader.table(node, at: "alerts", keys: ["webhook"]) else { return nil }
        guard let w = t["webhook"] else { return .init() }
        guard let h = reader.table(w, at: t.path("webhook"), keys: Self.webhookKeys) else { return nil }
        let before = reader.errors.count
        guard let u = h["url"] else {
            reader.missing("url", in: h, "a webhook needs a url")
            return nil
        }
        let url = reader.string(u, at: h.path("url")).flatMap { self.url(u, $0, at: h.path("url"), what: "the endpoint alerts are posted to") }
        var hook = url.map { DeploymentConfiguration.Alerts.Webhook(url: $0) }
        if let v = h["timeout"], let d = reader.duration(v, at: h.path("timeout"), max: .seconds(300)) { hook?.timeout = d }
        if let v = h["max_attempts"], let n = reader.int(v, at: h.path("max_attempts"), in: 1...100) { hook?.maxAttempts = n }
        if let v = h["backoff"], let d = reader.duration(v, at: h.path("backoff"), max: .seconds(3_600)) { hook?.backoff = d }
        if let v = h["max_backoff"], let d = reader.duration(v, at: h.path("max_backoff"), max: .seconds(86_400)) { hook?.maxBackoff = d }
        if let hook, hook.maxBackoff < hook.backoff, let v = h["max_backoff"] ?? h["backoff"] {
            reader.invalid(v, h.path(h.has("max_backoff") ? "max_backoff" : "backoff"), "max_backoff must not be shorter than backoff")
        }
        guard reader.errors.count == before, let hook else { return nil }
        return .init(webhook: hook)
    }
}
