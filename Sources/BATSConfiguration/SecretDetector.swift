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

    /// What a message says when a caller key's secret is written into a keys file or `server.keys`.
    static let callerKeyAdvice =
        "a caller key's secret must not be stored: give only its SHA-256 as sha256 (64 hex digits; "
        + "bats keys add writes it)"

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
        if isCallerKeySecret(v) { return true }
        guard !v.contains(where: \.isWhitespace), !v.contains("://") else { return false }
        // Names, ids and paths are short words joined by '-', '_', '/' or '.'; a key has a long random run.
        let runs = v.split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        return runs.contains { run in
            let digits = run.contains(where: \.isNumber), letters = run.contains(where: \.isLetter)
            let mixedCase = run.contains(where: \.isUppercase) && run.contains(where: \.isLowercase)
            return digits && letters && (run.count >= 20 || (run.count >= 16 && mixedCase))
        }
    }

    /// Whether a value is a caller key's secret as `bats keys add` makes them: `bats-` and at least 40 base64url
    /// characters (`CallerKey.generateSecret()` gives 43), so that a path such as `bats-keys.yaml` is not one.
    static func isCallerKeySecret(_ value: Substring) -> Bool {
        guard value.hasPrefix("bats-") else { return false }
        let rest = value.dropFirst(5).unicodeScalars
        return rest.count >= 40 && rest.allSatisfy(isBase64URL)
    }

    /// Whether a value is a caller key's secret, as for a substring.
    static func isCallerKeySecret(_ value: String) -> Bool { isCallerKeySecret(Substring(value)) }

    /// Whether a character is in the base64url alphabet.
    static func isBase64URL(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "_"
    }

    /// The 1-based numbers of the lines of a text that hold a caller key's secret anywhere, comments included.
    static func callerKeySecretLines(in text: String) -> [Int] {
        var out: [Int] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line[...]
            while let r = rest.range(of: "bats-") {
                let start = r.lowerBound
                let word = rest[start...].prefix { $0 == "-" || $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
                // Only where a secret can start: not inside a longer word.
                let boundary = start == line.startIndex || !isBase64URL(line.unicodeScalars[line.unicodeScalars.index(before: start)])
                if boundary, isCallerKeySecret(word) {
                    out.append(n + 1)
                    break
                }
                rest = rest[r.upperBound...]
            }
        }
        return out
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
