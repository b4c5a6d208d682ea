import BATSConfiguration
import Foundation
import ModelSelection
import SpendLedger
import Testing

/// Caller keys: digests, matching, the checks on a set of keys, and the keys file.
@Suite("Caller keys")
struct CallerKeyTests {
    /// A key for `secret`.
    static func key(_ name: String, _ secret: String, tags: [String: String] = [:], daily: MicroDollars? = nil, monthly: MicroDollars? = nil) -> CallerKey {
        CallerKey(name: name, sha256: CallerKey.digest(of: secret), tags: tags, daily: daily, monthly: monthly)
    }

    /// The problems of a keys file's text, written to `name` in a fresh directory.
    static func loadErrors(_ text: String, name: String = "keys.yaml") throws -> (path: String, errors: [ConfigurationError]) {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try CallerKeys.load(contentsOf: path)
            return (path, [])
        } catch {
            return (path, error.errors)
        }
    }

    /// The permission bits of a file.
    static func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    /// A secret as generate makes them, fixed for the tests.
    static let secret = "bats-Q2xT7bLm3ZpR8sVc1e6YqW0uNdHkJfGa9sTyXbC4vE1"

    // MARK: - Digest and match

    @Test("The digest is the SHA-256 of the UTF-8 secret (FIPS 180-4 'abc')")
    func digest() {
        #expect(CallerKey.digest(of: "abc") == Array(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(CallerKey(name: "a", sha256: CallerKey.digest(of: "abc")).digestHex.hasPrefix("ba7816bf"))
        #expect(CallerKey.digest(of: "abc").count == 32 && CallerKey.digest(of: "abc ") != CallerKey.digest(of: "abc"))
    }

    @Test("A generated secret is bats- and 43 base64url characters, different every time, and detected as a secret")
    func generate() throws {
        let secrets = (0..<50).map { _ in CallerKey.generateSecret() }
        #expect(Set(secrets).count == 50)
        for s in secrets {
            #expect(s.hasPrefix("bats-") && s.count == 48, "\(s)")
            #expect(s.dropFirst(5).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "\(s)")
            // A generated secret cannot become a key's name.
            #expect(!CallerKey.isValidName(s))
        }
        // 32 random bytes: the base64url decodes back to 32 bytes.
        var b64 = String(secrets[0].dropFirst(5)).replacing("-", with: "+").replacing("_", with: "/")
        b64 += "="
        #expect(Data(base64Encoded: b64)?.count == 32)
    }

    @Test("The right secret matches its key; a wrong, near or empty secret matches none")
    func match() throws {
        let keys = try CallerKeys([Self.key("desk-a", "first-secret"), Self.key("desk-b", Self.secret, tags: ["desk": "b"]), Self.key("scanner", "third")])
        #expect(keys.match(secret: Self.secret)?.name == "desk-b")
        #expect(keys.match(secret: Self.secret)?.tags == ["desk": "b"])
        #expect(keys.match(secret: "first-secret")?.name == "desk-a")
        #expect(keys.match(secret: "third")?.name == "scanner")
        #expect(keys.match(secret: String(Self.secret.dropLast())) == nil)
        #expect(keys.match(secret: Self.secret + " ") == nil)
        #expect(keys.match(secret: "wrong") == nil)
        #expect(keys.match(secret: "") == nil)
        #expect(try CallerKeys([]).match(secret: Self.secret) == nil && (try CallerKeys([])).isEmpty && !keys.isEmpty)
        // Digests one bit off the secret's, in the first, a middle or the last byte, match nothing: every byte counts.
        for i in [0, 17, 31] {
            var near = CallerKey.digest(of: Self.secret)
            near[i] ^= 0x01
            #expect(try CallerKeys([CallerKey(name: "near", sha256: near)]).match(secret: Self.secret) == nil, "byte \(i)")
        }
    }

    @Test("Two keys with one digest, or with one name, are rejected")
    func duplicates() throws {
        #expect {
            try CallerKeys([Self.key("desk-a", Self.secret), Self.key("desk-b", Self.secret)])
        } throws: { e in
            (e as? ConfigurationError).map { $0.key == "keys[1].sha256" && $0.message.contains("same digest as desk-a") } ?? false
        }
        #expect {
            try CallerKeys([Self.key("desk-a", "one"), Self.key("desk-a", "two")])
        } throws: { e in
            (e as? ConfigurationError).map { $0.key == "keys[1].name" && $0.message.contains("configured twice") } ?? false
        }
    }

    @Test(
        "A key with a bad name, digest, tag or budget is rejected",
        arguments: [
            CallerKey(name: "", sha256: CallerKey.digest(of: "s")),
            CallerKey(name: "desk a", sha256: CallerKey.digest(of: "s")),
            CallerKey(name: String(repeating: "a", count: 65), sha256: CallerKey.digest(of: "s")),
            CallerKey(name: "key:desk", sha256: CallerKey.digest(of: "s")),
            CallerKey(name: "desk-a", sha256: Array(repeating: 1, count: 31)),
            CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "")),
            CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "s"), tags: ["desk": "a/b"]),
            CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "s"), tags: ["a=b": "c"]),
            CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "s"), tags: ["desk": ""]),
            CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "s"), daily: .dollars(-1)),
        ])
    func invalid(key: CallerKey) {
        #expect(throws: ConfigurationError.self) { try CallerKeys([key]) }
    }

    @Test("Each key with a budget is a scope key:NAME with its limits; a key without one has no scope")
    func scopes() throws {
        let keys = try CallerKeys([
            Self.key("desk-a", "a", daily: .dollars(5), monthly: .dollars(100)), Self.key("free", "b"),
            Self.key("scanner", "c", monthly: MicroDollars(parsing: "1.50")),
        ])
        #expect(keys.scopes.map(\.name) == ["key:desk-a", "key:scanner"])
        #expect(keys.scopes[0].path == [.callerKey("desk-a")] && keys.scopes[0].daily == .dollars(5) && keys.scopes[0].monthly == .dollars(100))
        #expect(keys.scopes[1].daily == nil && keys.scopes[1].monthly == .cents(150))
        #expect(keys.scopes[0].contains(ScopedCall(callerKey: "desk-a")) && !keys.scopes[0].contains(ScopedCall(callerKey: "free")))
        // The ledger accepts them as scopes.
        try BudgetLimits(daily: .dollars(50), monthly: nil, scopes: keys.scopes).validate()
    }

    // MARK: - The keys file

    @Test("A keys file round-trips: names, digests, odd tags and exact budgets; the file is 0600 and holds no secret")
    func roundTrip() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("keys.yaml").path
        let original = try CallerKeys([
            Self.key("desk-a", Self.secret, tags: ["desk": "a"], daily: MicroDollars(parsing: "5.00"), monthly: .dollars(100)),
            Self.key("odd.name_2", "x", tags: ["team": "r&d: \"quant\" #1", "null": "null", "ünï": "côde tab", "-lead": "yes"],
                     daily: MicroDollars(parsing: "0.000001")),
            Self.key("free", "y"),
        ])
        // An existing file with looser permissions is replaced by one with 0600.
        try Data("keys: []\n".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try original.write(to: path)
        #expect(try Self.mode(path) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# bats caller keys: secrets are stored as SHA-256 only\nkeys:\n  - name: desk-a\n"))
        #expect(text.contains("    sha256: \(CallerKey.digest(of: Self.secret).hexString)\n    tags: {desk: a}\n    daily_budget: 5.00\n    monthly_budget: 100.00\n"))
        #expect(!text.contains(Self.secret))
        let loaded = try CallerKeys.load(contentsOf: path)
        #expect(loaded.keys == original.keys)
        #expect(loaded.match(secret: Self.secret)?.name == "desk-a")
        #expect(loaded.keys[1].daily == MicroDollars(micros: 1))

        // No keys at all round-trips too, and a new file is created 0600 whatever the umask.
        let empty = dir.appendingPathComponent("new.yaml").path
        try CallerKeys([]).write(to: empty)
        #expect(try Self.mode(empty) == 0o600 && (try CallerKeys.load(contentsOf: empty)).isEmpty)
    }

    @Test(
        "A malformed keys file gives errors that name the file, the line and the key",
        arguments: [
            ("keys:\n  - name: desk-a\n    sha256: 12ab\n", 3, "keys[0].sha256", "64 hexadecimal digits"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    daily_budget: lots\n", 4, "keys[0].daily_budget", "not a dollar amount"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    monthly_budget: -1\n", 4, "keys[0].monthly_budget", "must not be negative"),
            ("keys:\n  - name: desk a\n    sha256: \(String(repeating: "a", count: 64))\n", 2, "keys[0].name", "not a caller key name"),
            ("keys:\n  - sha256: \(String(repeating: "a", count: 64))\n", 2, "keys[0].name", "needs a name"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    tag: {desk: a}\n", 4, "keys[0].tag", "did you mean 'tags'?"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    tags: [a]\n", 4, "keys[0].tags", "must be a table"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n  - name: desk-a\n    sha256: \(String(repeating: "b", count: 64))\n", 4, "keys[1].name", "configured twice (first at line 2)"),
            ("keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n  - name: desk-b\n    sha256: \(String(repeating: "A", count: 64))\n", 4, "keys[1].sha256", "same digest as desk-a (at line 2)"),
            // libYAML reports an unclosed quote where the text ends.
            ("keys:\n  - name: desk-a\n    sha256: 'unclosed\n", 4, "", "not valid YAML"),
            ("kyes: []\n", 1, "kyes", "did you mean 'keys'?"),
        ])
    func malformed(text: String, line: Int, key: String, says: String) throws {
        let (path, errors) = try Self.loadErrors(text)
        let e = try #require(errors.first, "no error for \(text)")
        #expect(errors.count == 1, "\(errors)")
        #expect(e.file == path && e.line == line && e.key == key, "\(e)")
        #expect(e.message.contains(says), "\(e)")
        #expect(e.description.hasPrefix("\(path):\(line): "), "\(e)")
    }

    @Test(
        "A plaintext secret in a keys file is rejected and never echoed",
        arguments: [
            "keys:\n  - name: desk-a\n    secret: \(Self.secret)\n",
            "keys:\n  - name: desk-a\n    key: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n",
            "keys:\n  - name: desk-a\n    sha256: \(Self.secret)\n",
            "keys:\n  - name: \(Self.secret)\n    sha256: \(String(repeating: "a", count: 64))\n",
            "keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    tags: {desk: \(Self.secret)}\n",
            "keys:\n  - name: desk-a\n    sha256: \(String(repeating: "a", count: 64))\n    tags: {token: sk-live-4f9aQ2xT7bLm3ZpR8sVc1}\n",
            "keys:\n  - name: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n    sha256: \(String(repeating: "a", count: 64))\n",
            "keys:\n  - name: desk-a\n    sha256: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n",
            "# desk-a's secret is \(Self.secret)\nkeys: []\n",
            "keys:\n  - \(Self.secret)\n",
        ])
    func plaintextSecret(text: String) throws {
        let (_, errors) = try Self.loadErrors(text)
        #expect(!errors.isEmpty, "accepted: \(text)")
        for e in errors {
            #expect(!e.description.contains("4f9aQ2xT7bLm3ZpR8sVc1") && !e.description.contains("Q2xT7bLm3ZpR8sVc1e6Y"), "\(e)")
        }
        #expect(errors.contains { $0.isInlineSecret } || errors.contains { $0.isWrongType }, "\(errors)")
    }

    @Test("An empty keys file, or one of comments only, has no keys; a missing one is unreadable")
    func emptyAndMissing() throws {
        #expect(try Self.loadErrors("").errors.isEmpty)
        #expect(try Self.loadErrors("# nothing\n").errors.isEmpty)
        #expect {
            try CallerKeys.load(contentsOf: "/nonexistent/keys.yaml")
        } throws: { e in
            (e as? ConfigurationError.List)?.errors.first.map { $0.isUnreadable && $0.description.contains("/nonexistent/keys.yaml:1: cannot read the keys file") } ?? false
        }
    }
}

// MARK: - Helpers

extension Array where Element == UInt8 {
    /// Bytes from hexadecimal text (test fixtures only).
    init(hex: String) {
        let chars = Array(hex.utf8)
        self = stride(from: 0, to: chars.count, by: 2).map { UInt8(String(decoding: chars[$0..<$0 + 2], as: UTF8.self), radix: 16) ?? 0 }
    }

    /// Lowercase hexadecimal.
    var hexString: String { map { String(format: "%02x", $0) }.joined() }
}
