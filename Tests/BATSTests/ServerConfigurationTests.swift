import BATSConfiguration
import Foundation
import ModelSelection
import Testing

/// The `server:` section of the deployment configuration and the caller keys it names.
@Suite("Deployment configuration: server")
struct ServerConfigurationTests {
    static let digestA = CallerKey.digest(of: "secret-a").hexString
    static let digestB = CallerKey.digest(of: "secret-b").hexString

    @Test("server: parses host, port, keys_file, inline keys, max_body_bytes and shutdown_grace")
    func parses() throws {
        let c = try DeploymentConfiguration.parse(
            """
            server:
              host: 0.0.0.0
              port: 9090
              keys_file: keys/bats-keys.yaml
              keys:
                - name: scanner
                  sha256: \(Self.digestA)
                  tags: {agent: scanner}
                  daily_budget: 1.50
              max_body_bytes: 1_048_576
              shutdown_grace: 2.5s
            """, sourceName: "s.yaml", baseDirectory: URL(fileURLWithPath: "/etc/bats", isDirectory: true))
        let s = c.server
        #expect(s.host == "0.0.0.0" && s.port == 9090 && s.maxBodyBytes == 1_048_576 && s.shutdownGrace == .milliseconds(2_500))
        #expect(s.keysFile == "/etc/bats/keys/bats-keys.yaml")
        #expect(s.keys == [CallerKey(name: "scanner", sha256: CallerKey.digest(of: "secret-a"), tags: ["agent": "scanner"], daily: .cents(150))])
    }

    @Test("Without server: every field is unset (the defaults apply) and there are no caller keys")
    func defaults() throws {
        let s = try DeploymentConfiguration.parse("ledger: l.sqlite\n").server
        #expect(s == DeploymentConfiguration.Server())
        #expect(s.host == nil && s.port == nil && s.keysFile == nil && s.keys.isEmpty && s.maxBodyBytes == nil && s.shutdownGrace == nil)
        #expect(try s.callerKeys().isEmpty)
        typealias S = DeploymentConfiguration.Server
        #expect(S.defaultHost == "127.0.0.1" && S.defaultPort == 8080 && S.defaultMaxBodyBytes == 4_194_304 && S.defaultShutdownGrace == .seconds(10))
        // An empty section is the same.
        #expect(try DeploymentConfiguration.parse("server: {}\n").server == S())
        // The bounds themselves are accepted.
        let edges = try DeploymentConfiguration.parse("server:\n  port: 0\n  max_body_bytes: 1024\n  shutdown_grace: 300s\n").server
        #expect(edges.port == 0 && edges.maxBodyBytes == 1_024 && edges.shutdownGrace == .seconds(300))
    }

    @Test(
        "Bad server values give FILE:LINE: KEY errors",
        arguments: [
            ("server:\n  port: 65536\n", 2, "server.port", "between 0 and 65535"),
            ("server:\n  port: http\n", 2, "server.port", "not a whole number"),
            ("server:\n  host: 'local host'\n", 2, "server.host", "not an address"),
            ("server:\n  host:\n", 2, "server.host", "has no value"),
            ("server:\n  max_body_bytes: 1023\n", 2, "server.max_body_bytes", "between 1024 and 67108864"),
            ("server:\n  max_body_bytes: 67108865\n", 2, "server.max_body_bytes", "between 1024 and 67108864"),
            ("server:\n  shutdown_grace: 301s\n", 2, "server.shutdown_grace", "at most"),
            ("server:\n  shutdown_grace: soon\n", 2, "server.shutdown_grace", "not a duration"),
            ("server:\n  prot: 80\n", 2, "server.prot", "did you mean 'port'?"),
            ("server:\n  keys_file: [a]\n", 2, "server.keys_file", "must be a string"),
            ("server:\n  keys:\n    - name: a\n      sha256: xyz\n", 4, "server.keys[0].sha256", "64 hexadecimal digits"),
            ("server:\n  keys:\n    - name: a\n      sha256: \(digestA)\n    - name: a\n      sha256: \(digestB)\n", 5, "server.keys[1].name",
             "configured twice (first at line 3)"),
            ("server:\n  keys:\n    - name: desk-a\n      sha256: \(digestA)\n      daily_budget: 5\nbudget:\n  scopes:\n    - {name: key:desk-a, daily: 4}\n",
             3, "server.keys[0].name", "scope key:desk-a in budget.scopes too"),
            ("server:\n  api_key: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n", 2, "server.api_key", "must not be written"),
            ("server:\n  keys:\n    - name: a\n      secret: sk-live-4f9aQ2xT7bLm3ZpR8sVc1\n      sha256: \(digestA)\n", 4, "server.keys[0].secret", "only its SHA-256"),
        ])
    func badValues(yaml: String, line: Int, key: String, says: String) throws {
        let errors = configurationErrors(yaml, file: "bad.yaml")
        let e = try #require(errors.first, "no error for \(yaml)")
        #expect(e.line == line && e.key == key && e.message.contains(says), "\(errors)")
        #expect(e.description.hasPrefix("bad.yaml:\(line): \(key): "), "\(e)")
        #expect(!e.description.contains("4f9aQ2xT7bLm3ZpR8sVc1"))
    }

    @Test("keys_file is relative to the configuration file's directory; callerKeys() merges the inline keys and the file's")
    func keysFileRelative() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let etc = dir.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try CallerKeys([CallerKey(name: "desk-a", sha256: CallerKey.digest(of: "secret-b"), tags: ["desk": "a"], monthly: .dollars(100))])
            .write(to: etc.appendingPathComponent("bats-keys.yaml").path)
        let config = etc.appendingPathComponent("bats.yaml")
        try Data("server:\n  keys_file: bats-keys.yaml\n  keys:\n    - {name: scanner, sha256: \(Self.digestA)}\n".utf8).write(to: config)
        // Loaded from elsewhere: the current directory does not matter.
        let c = try DeploymentConfiguration.load(contentsOf: config)
        #expect(c.server.keysFile == etc.appendingPathComponent("bats-keys.yaml").standardizedFileURL.path)
        let keys = try c.server.callerKeys()
        #expect(keys.keys.map(\.name) == ["scanner", "desk-a"])
        #expect(keys.match(secret: "secret-b")?.tags == ["desk": "a"] && keys.match(secret: "secret-a")?.name == "scanner")
        #expect(keys.scopes.map(\.name) == ["key:desk-a"])
    }

    @Test("A name or a digest both inline and in the keys file is rejected, naming both places; a missing keys file is an error")
    func duplicatesAcrossFiles() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let keysFile = dir.appendingPathComponent("bats-keys.yaml").path
        try Data("keys:\n  - name: other\n    sha256: \(Self.digestB)\n  - name: scanner\n    sha256: \(CallerKey.digest(of: "c").hexString)\n".utf8)
            .write(to: URL(fileURLWithPath: keysFile))
        let config = dir.appendingPathComponent("bats.yaml")
        try Data("server:\n  keys_file: bats-keys.yaml\n  keys:\n    - name: scanner\n      sha256: \(Self.digestA)\n".utf8).write(to: config)
        let c = try DeploymentConfiguration.load(contentsOf: config, sourceName: "bats.yaml")
        #expect {
            try c.server.callerKeys()
        } throws: { e in
            let errors = (e as? ConfigurationError.List)?.errors ?? []
            return errors.count == 1 && errors[0].file == keysFile && errors[0].line == 4 && errors[0].key == "keys[1].name"
                && errors[0].message.contains("configured twice (first at bats.yaml:4)")
        }
        // One secret for two keys, across the files.
        try Data("keys:\n  - name: other\n    sha256: \(Self.digestA)\n".utf8).write(to: URL(fileURLWithPath: keysFile))
        #expect {
            try c.server.callerKeys()
        } throws: { e in
            (e as? ConfigurationError.List)?.errors.first.map { $0.line == 2 && $0.message.contains("same digest as scanner (at bats.yaml:4)") } ?? false
        }
        try FileManager.default.removeItem(atPath: keysFile)
        #expect {
            try c.server.callerKeys()
        } throws: { e in
            (e as? ConfigurationError.List)?.errors.first.map { $0.isUnreadable && $0.file == keysFile } ?? false
        }
    }

    @Test("The shipped example's server section loads")
    func example() throws {
        let s = try DeploymentConfiguration.load(contentsOf: RepositoryFiles.example).server
        #expect(s.host == "127.0.0.1" && s.port == 8080 && s.maxBodyBytes == 4_194_304 && s.shutdownGrace == .seconds(10))
        #expect(s.keysFile == RepositoryFiles.root.appendingPathComponent("docs/bats-keys.yaml").path)
        let scanner = try #require(s.keys.first)
        #expect(s.keys.count == 1 && scanner.name == "scanner" && scanner.tags == ["agent": "scanner"] && scanner.daily == .cents(150))
    }
}
