import Crypto
import Foundation
public import ModelSelection

/// One caller key: a name, the SHA-256 of its secret (never the secret), the tags its calls carry, and its own budget.
///
/// Callers of `bats serve` present the secret as a bearer token; the server finds the key by the secret's digest
/// (``CallerKeys/match(secret:)``), records the key's ``tags`` on each call and sets the call's caller key to
/// ``name``, so that the budget scope `key:NAME` (and any scope nested under it, `key:NAME/tag:agent=scanner`)
/// holds its calls. The secret itself is shown once, when the key is made (`bats keys add`), and never stored.
public struct CallerKey: Sendable, Hashable {
    /// The key's name, `[A-Za-z0-9_.-]{1,64}`: the budget scope `key:NAME` and the ledger's `caller_key`.
    public var name: String
    /// The SHA-256 of the secret's UTF-8 bytes: 32 bytes.
    public var sha256: [UInt8]
    /// Tags recorded on each call made with the key, such as `["desk": "a"]`.
    public var tags: [String: String]
    /// The key's own daily budget (the scope `key:NAME`), or `nil` for none.
    public var daily: MicroDollars?
    /// The key's own monthly budget (the scope `key:NAME`), or `nil` for none.
    public var monthly: MicroDollars?

    /// Creates a key from the digest of its secret.
    /// - Parameters:
    ///   - name: The name, `[A-Za-z0-9_.-]{1,64}` (checked by ``CallerKeys/init(_:)``).
    ///   - sha256: The SHA-256 of the secret, 32 bytes (``digest(of:)``).
    ///   - tags: Tags recorded on each call made with the key.
    ///   - daily: Its own daily budget, or `nil` for none.
    ///   - monthly: Its own monthly budget, or `nil` for none.
    public init(
        name: String, sha256: [UInt8], tags: [String: String] = [:], daily: MicroDollars? = nil, monthly: MicroDollars? = nil
    ) {
        self.name = name
        self.sha256 = sha256
        self.tags = tags
        self.daily = daily
        self.monthly = monthly
    }

    // MARK: - Secrets

    /// The prefix of every secret ``generateSecret()`` makes.
    public static let secretPrefix = "bats-"

    /// The SHA-256 of a secret.
    /// - Parameter secret: The secret as presented (its UTF-8 bytes are hashed, nothing is trimmed).
    /// - Returns: The 32-byte digest.
    public static func digest(of secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// A new random secret: `bats-` and 43 characters, the base64url (no padding) of 32 random bytes from
    /// `SystemRandomNumberGenerator`.
    /// - Returns: The secret; show it once and store only ``digest(of:)``.
    public static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacing("+", with: "-").replacing("/", with: "_").replacing("=", with: "")
        return secretPrefix + base64
    }

    /// The digest as 64 lowercase hexadecimal digits, as the keys file writes it.
    public var digestHex: String { Self.hex(sha256) }

    // MARK: - Checks

    /// Whether a name can name a caller key: 1 to 64 of `A-Z a-z 0-9 _ . -`, and not something that looks like a
    /// secret (a key pasted where its name belongs).
    /// - Parameter name: The name.
    /// - Returns: `true` when it is usable as the scope step `key:NAME`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.unicodeScalars.count)
            && name.unicodeScalars.allSatisfy { SecretDetector.isBase64URL($0) || $0 == "." }
            && !SecretDetector.looksLikeSecret(name)
    }

    /// What a valid name is, for messages.
    public static let nameRule = "1 to 64 letters, digits, '_', '.' or '-' (A-Z a-z 0-9 _ . -)"

    /// Whether a tag can be carried by a key: a non-empty key without `=` or `/`, a non-empty value without `/`
    /// (so that the tag can be a scope step `tag:KEY=VALUE`), neither with a control character nor looking like a
    /// secret.
    /// - Parameters:
    ///   - key: The tag's key.
    ///   - value: The tag's value.
    /// - Returns: `true` when the tag is usable.
    public static func isValidTag(key: String, value: String) -> Bool {
        func clean(_ s: String) -> Bool {
            !s.isEmpty && !s.contains("/") && !s.unicodeScalars.contains { $0.properties.generalCategory == .control }
                && !SecretDetector.looksLikeSecret(s)
        }
        return clean(key) && clean(value) && !key.contains("=") && !SecretDetector.isSecretKeyName(key)
    }

    /// What a valid tag is, for messages.
    public static let tagRule = "a tag is KEY=VALUE, both non-empty, without '/' (and no '=' in the key)"

    // MARK: - Hex

    /// Bytes as lowercase hexadecimal.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// 64 hexadecimal digits (either case) as 32 bytes; `nil` for anything else.
    static func digest(hex text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count == 64 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for i in stride(from: 0, to: 64, by: 2) {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
