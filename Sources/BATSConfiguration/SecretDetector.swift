import Foundation
import Yams

/// Tells keys and values that look like secrets (API keys, bearer tokens) from names, so that a key written into the
/// configuration file is refused and never echoed in a message.
///
/// It errs on the side of refusing: a false alarm costs a rename, a missed key lands in version control.
enum SecretDetector {
    /// What a message says when a secret is written inline.
    static let advice =
        "a secret must not be written in the configuration file: put the key in an environment variable and name that "
        + "variable with gateway.api_key_env (for example api_key_env: TARS_API_KEY)"

    /// Key names that only hold secrets.
    static func isSecretKeyName(_ name: String) -> Bool {
        let n = name.lowercased().replacing("-", with: "_")
        if ["key", "auth"].contains(n) { return true }
        return ["api_key", "apikey", "secret", "token", "password", "passwd", "authorization", "bearer", "credential"]
            .contains { n.contains($0) }
    }

    /// Known prefixes of API keys and tokens.
    private static let prefixes = ["sk-", "sk_", "pk-", "rk-", "tars-", "tetrate-", "bearer ", "ghp_", "gho_", "xoxb-", "xoxp-", "akia"]

    /// Whether a value looks like an API key or token rather than a name, a number or a URL.
    static func looksLikeSecret(_ value: String) -> Bool {
        let v = value.trimmingCharacters(in: .whitespaces)
        let lower = v.lowercased()
        if prefixes.contains(where: { lower.hasPrefix($0) && v.count > $0.count + 8 }) { return true }
        guard !v.contains(where: \.isWhitespace), !v.contains("://") else { return false }
        // Names, ids and paths are short words joined by '-', '_', '/' or '.'; a key has a long random run.
        let runs = v.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return runs.contains { run in
            let digits = run.contains(where: \.isNumber), letters = run.contains(where: \.isLetter)
            let mixedCase = run.contains(where: \.isUppercase) && run.contains(where: \.isLowercase)
            return digits && letters && (run.count >= 20 || (run.count >= 16 && mixedCase))
        }
    }

    /// Whether a YAML value, or anything inside it, is a secret: a secret-named key or a secret-looking scalar.
    static func containsSecret(_ node: Node) -> Bool {
        switch node {
        case .scalar(let s): looksLikeSecret(s.string)
        case .sequence(let seq): seq.contains { containsSecret($0) }
        case .mapping(let m): m.contains { k, v in (k.scalar.map { isSecretKeyName($0.string) } ?? false) || containsSecret(v) }
        case .alias: false
        }
    }
}
