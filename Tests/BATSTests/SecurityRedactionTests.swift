import Foundation
import Gateway
import Testing

/// The one redactor every piece of provider text goes through.
@Suite("Security: the secret redactor")
struct SecurityRedactionTests {
    static let key = fakeAPIKey  // "sk-test-FAKE-KEY-1234567890abcdef": 29 letters and digits
    static let redactor = SecretRedactor(secret: key)

    static let leaking: [String] = [
        key,
        "Incorrect API key provided: \(key).",
        key.uppercased(),
        "key=\(key.lowercased())&x=1",
        "Authorization: Bearer \(key)",
        "authorization: BEARER \(key.uppercased())",
        "first half \(key.prefix(16)) second half \(key.dropFirst(16))",
        "\(key.dropFirst(16)) came before \(key.prefix(16))",
        "\(key.prefix(10)) \(key.dropFirst(10))",
        "\(key.prefix(10))\n\(key.dropFirst(10))",
        "\(key.prefix(10))-\(key.dropFirst(10).prefix(10))-\(key.dropFirst(20))",
        "\(key.prefix(10))\r\n\t \(key.dropFirst(10))",
        String(key.dropFirst(3).prefix(16)),
        "\"\(key)\"",
        "<p>\(key)</p>",
        String(repeating: "x", count: 3000) + key + String(repeating: "y", count: 3000),
    ]

    @Test(arguments: leaking)
    func keyAndItsPiecesAreRedacted(_ text: String) {
        let out = Self.redactor.redact(text)
        #expect(!keyLeaks(in: out), "\(out)")
        #expect(out.contains(SecretRedactor.placeholder))
        #expect(Self.redactor.containsSecret(text))
        #expect(!Self.redactor.containsSecret(out))
    }

    static let innocent: [String] = [
        "Rate limit reached for requests", "gpt-4o-mini", "model deepseek-chat is overloaded", "sk-test", "test", "key", "1234",
        "The bearer of bad news", "error 1234567 at abcdef", "", "Bonjour, 世界 🌍",
    ]

    @Test(arguments: innocent)
    func ordinaryTextIsKept(_ text: String) {
        #expect(Self.redactor.redact(text) == text)
        #expect(!Self.redactor.containsSecret(text))
    }

    @Test func surroundingTextIsKept() {
        #expect(Self.redactor.redact("Incorrect API key provided: \(Self.key). Find it at …") == "Incorrect API key provided: <redacted>. Find it at …")
        #expect(Self.redactor.redact("Bearer \(Self.key)") == "Bearer <redacted>")
        #expect(Self.redactor.redact("a \(Self.key.prefix(16)) b \(Self.key.dropFirst(16)) c") == "a <redacted> b -<redacted> c")
    }

    @Test func anyBearerTokenIsRedacted() {
        let other = SecretRedactor(secret: nil)
        #expect(other.redact("Authorization: Bearer abcdefgh12345678 refused") == "Authorization: Bearer <redacted> refused")
        #expect(other.redact("bearer of bad news") == "bearer of bad news")
    }

    @Test func shortKeysAreRedactedOnlyWhole() {
        let short = SecretRedactor(secret: "Ab12xy")
        #expect(short.redact("key ab12XY here") == "key <redacted> here")
        #expect(short.redact("ab12 xy") == "ab12 xy")
        #expect(SecretRedactor(secret: "ab").redact("about a b") == "about a b")
        let medium = SecretRedactor(secret: "Qx7Rt2Lm9Pz4")  // 12 letters and digits: pieces of 6 or more
        #expect(medium.redact("halves Qx7Rt2 and Lm9Pz4") == "halves <redacted> and <redacted>")
        #expect(medium.redact("Qx7R") == "Qx7R")
    }

    @Test func severalSecrets() {
        let r = SecretRedactor(secrets: [Self.key, "another-secret-value-42", ""])
        #expect(r.redact("\(Self.key) and ANOTHER-SECRET-VALUE-42") == "<redacted> and <redacted>")
        #expect(r.redact(nil) == nil)
    }
}
