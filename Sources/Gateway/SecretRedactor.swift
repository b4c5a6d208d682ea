/// Removes secrets, such as the API key, from text that came from a provider or is about to be printed, logged or
/// stored.
///
/// Providers echo keys back in odd shapes, so matching is deliberately loose:
/// - **Case and separators are ignored.** Secret and text are compared on their ASCII letters and digits only,
///   lower-cased; spaces, line breaks, `-`, `_`, quotes and any other characters in between are skipped. A key
///   with a space, newline or dash inserted, upper-cased, or lower-cased still matches.
/// - **Pieces count.** For a secret with *n* letters and digits (*n* ≥ 8), any run of the text that matches a
///   piece of the secret at least `min(12, max(6, ⌈n/2⌉))` letters and digits long is replaced, from its first
///   to its last letter or digit, by ``placeholder``. So a key's first and second halves, appearing apart, are
///   both removed, while short common words are not (a piece must be that long and match the secret exactly).
/// - **Short secrets** (fewer than 8 letters and digits, but at least 4 characters) are replaced only where they
///   appear whole, ignoring case. Secrets shorter than 4 characters are ignored.
/// - **Bearer tokens.** `Bearer <token>` (any case) with a token of 8 or more characters becomes
///   `Bearer <redacted>`, whatever the token, since it can only be a credential.
///
/// ```swift
/// let redactor = SecretRedactor(secret: apiKey)
/// print(redactor.redact(providerMessage))
/// ```
public struct SecretRedactor: Sendable, Hashable {
    /// What replaces a secret: `<redacted>`.
    public static let placeholder = "<redacted>"
    /// The shortest secret, in letters and digits, that is matched piece by piece.
    public static let minimumPieceMatchedSecret = 8

    private struct Secret: Sendable, Hashable {
        /// Lower-cased ASCII letters and digits of the secret.
        var letters: [UInt8]
        /// The whole secret lower-cased (for short secrets).
        var whole: [UInt8]
        /// The shortest piece that is redacted.
        var minimumPiece: Int
    }

    private let secrets: [Secret]

    /// A redactor that removes nothing but `Bearer` tokens.
    public static let bearerTokensOnly = SecretRedactor(secrets: [])

    /// Creates a redactor for several secrets (empty and very short ones are ignored).
    /// - Parameter secrets: The secrets, such as the API key and other credentials.
    public init(secrets: [String]) {
        var list: [Secret] = []
        for s in secrets where s.utf8.count >= 4 {
            let letters = s.utf8.compactMap(Self.significant)
            let whole = s.utf8.map(Self.lowered)
            let n = letters.count
            let piece = n >= Self.minimumPieceMatchedSecret ? min(12, max(6, (n + 1) / 2)) : Int.max
            let secret = Secret(letters: letters, whole: whole, minimumPiece: piece)
            if !list.contains(secret) { list.append(secret) }
        }
        self.secrets = list
    }

    /// Creates a redactor for one secret.
    /// - Parameter secret: The secret (`nil`: only `Bearer` tokens are removed).
    public init(secret: String?) {
        self.init(secrets: secret.map { [$0] } ?? [])
    }

    /// The text with every secret, piece of a secret and `Bearer` token replaced by ``placeholder``.
    /// - Parameter text: Any text.
    /// - Returns: The redacted text (the same text when nothing matched).
    public func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var covered = [Bool](repeating: false, count: bytes.count)
        var any = false
        for secret in secrets {
            if secret.minimumPiece == Int.max {
                any = markWhole(secret.whole, in: bytes, &covered) || any
            } else {
                any = markPieces(secret, in: bytes, &covered) || any
            }
        }
        any = markBearerTokens(in: bytes, &covered) || any
        guard any else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if covered[i] {
                out += Self.placeholder.utf8
                while i < bytes.count && covered[i] { i += 1 }
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The text redacted, or `nil`.
    /// - Parameter text: Any text, or `nil`.
    /// - Returns: ``redact(_:)-(String)`` of the text, or `nil`.
    public func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }

    /// Whether ``redact(_:)-(String)`` would change the text.
    /// - Parameter text: Any text.
    /// - Returns: `true` when the text holds a secret, a piece of one or a `Bearer` token.
    public func containsSecret(_ text: String) -> Bool {
        redact(text) != text
    }

    // MARK: - Matching

    /// The lower-cased byte when it is an ASCII letter or digit, else `nil`.
    private static func significant(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): b
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): b + 32
        default: nil
        }
    }

    private static func lowered(_ b: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b + 32 : b
    }

    /// Marks whole, case-insensitive occurrences of a short secret.
    private func markWhole(_ whole: [UInt8], in bytes: [UInt8], _ covered: inout [Bool]) -> Bool {
        guard !whole.isEmpty, bytes.count >= whole.count else { return false }
        var found = false
        var i = 0
        while i + whole.count <= bytes.count {
            var j = 0
            while j < whole.count && Self.lowered(bytes[i + j]) == whole[j] { j += 1 }
            if j == whole.count {
                for k in i..<(i + whole.count) { covered[k] = true }
                found = true
                i += whole.count
            } else {
                i += 1
            }
        }
        return found
    }

    /// Marks every run of the text's letters and digits that matches a long enough piece of the secret
    /// (longest common substrings ending at each position, over letters and digits only).
    private func markPieces(_ secret: Secret, in bytes: [UInt8], _ covered: inout [Bool]) -> Bool {
        // Positions (in `bytes`) of the text's letters and digits, and those letters lower-cased.
        var positions: [Int] = []
        var letters: [UInt8] = []
        for (i, b) in bytes.enumerated() {
            if let s = Self.significant(b) {
                positions.append(i)
                letters.append(s)
            }
        }
        let key = secret.letters
        guard letters.count >= secret.minimumPiece, !key.isEmpty else { return false }
        var previous = [Int](repeating: 0, count: key.count + 1)
        var current = previous
        var found = false
        for t in 0..<letters.count {
            var longest = 0
            for k in 0..<key.count {
                let run = letters[t] == key[k] ? previous[k] + 1 : 0
                current[k + 1] = run
                if run > longest { longest = run }
            }
            if longest >= secret.minimumPiece {
                for p in positions[t - longest + 1]...positions[t] { covered[p] = true }
                found = true
            }
            swap(&previous, &current)
        }
        return found
    }

    /// Marks the token after `Bearer` plus whitespace, when it is 8 or more non-space characters long.
    private func markBearerTokens(in bytes: [UInt8], _ covered: inout [Bool]) -> Bool {
        let word = Array("bearer".utf8)
        let placeholder = Array(Self.placeholder.utf8)
        var found = false
        var i = 0
        while i + word.count < bytes.count {
            var j = 0
            while j < word.count && Self.lowered(bytes[i + j]) == word[j] { j += 1 }
            guard j == word.count, i == 0 || Self.significant(bytes[i - 1]) == nil else {
                i += 1
                continue
            }
            var start = i + word.count
            guard start < bytes.count, Self.isSpace(bytes[start]) else {
                i += 1
                continue
            }
            while start < bytes.count && Self.isSpace(bytes[start]) { start += 1 }
            var end = start
            while end < bytes.count && !Self.isSpace(bytes[end]) && !Self.isTokenEnd(bytes[end]) { end += 1 }
            let isPlaceholder = end - start >= placeholder.count && Array(bytes[start..<(start + placeholder.count)]) == placeholder
            if end - start >= 8 && !isPlaceholder && !covered[start..<end].allSatisfy({ $0 }) {
                for k in start..<end { covered[k] = true }
                found = true
            }
            i = max(end, i + 1)
        }
        return found
    }

    private static func isSpace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
    }

    /// Characters that end a token inside JSON or HTML text: quotes, `<`, `,`.
    private static func isTokenEnd(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "<") || b == UInt8(ascii: ",")
    }
}
