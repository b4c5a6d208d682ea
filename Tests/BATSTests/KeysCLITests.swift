import ArgumentParser
import BATSCommands
import BATSConfiguration
import Foundation
import ModelSelection
import Testing

/// `bats keys add`, `list` and `remove` through the `bats` executable.
@Suite("Command line: caller keys")
struct KeysCLITests {
    /// The secret `bats keys add` printed: its only line of standard output.
    static func secret(_ r: BATSRun.Result) throws -> String {
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "stdout: \(r.stdout)")
        let s = String(try #require(lines.first))
        #expect(s.hasPrefix("bats-") && s.count == 48, "\(s)")
        return s
    }

    @Test("keys add prints a secret once that then matches its key; the file holds only the digest, mode 0600; list never prints it")
    func addListRemove() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bats-keys.yaml").path
        let add = try await BATSRun.run(
            ["keys", "add", "desk-a", "--keys-file", path, "--tag", "desk=a", "--tag", "team=quant", "--daily-budget", "5.25", "--monthly-budget", "100"],
            in: dir)
        #expect(add.status == 0, "\(add.stderr)")
        let secret = try Self.secret(add)
        #expect(add.stderr.contains("cannot be shown again") && !add.stderr.contains(secret), "\(add.stderr)")

        let keys = try CallerKeys.load(contentsOf: path)
        let key = try #require(keys.match(secret: secret))
        #expect(key.name == "desk-a" && key.tags == ["desk": "a", "team": "quant"])
        #expect(key.daily == MicroDollars(parsing: "5.25") && key.monthly == .dollars(100))
        #expect(keys.match(secret: secret + "x") == nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(secret) && !text.contains(String(secret.dropFirst(5))) && text.contains(key.digestHex))
        #expect(try CallerKeyTests.mode(path) == 0o600)

        // A second key is appended; the first still matches; the same name again is refused and changes nothing.
        let second = try await BATSRun.run(["keys", "add", "scanner", "--keys-file", path], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        let secret2 = try Self.secret(second)
        #expect(secret2 != secret)
        let again = try await BATSRun.run(["keys", "add", "desk-a", "--keys-file", path], in: dir)
        #expect(again.status == 1 && !again.crashed && again.stdout.isEmpty, "\(again.stderr)")
        #expect(again.errorLines.count == 1 && again.stderr.contains("caller key desk-a is already in"), "\(again.stderr)")
        let both = try CallerKeys.load(contentsOf: path)
        #expect(both.keys.map(\.name) == ["desk-a", "scanner"] && both.match(secret: secret)?.name == "desk-a" && both.match(secret: secret2)?.name == "scanner")

        let table = try await BATSRun.run(["keys", "list", "--keys-file", path], in: dir)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("desk-a") && table.stdout.contains(String(key.digestHex.prefix(8))) && table.stdout.contains("desk=a,team=quant"))
        #expect(table.stdout.contains("$5.25") && table.stdout.contains("$100.00"))
        #expect(!table.stdout.contains(String(key.digestHex.prefix(9))), "more than 8 hex digits shown")
        let json = try await BATSRun.run(["keys", "list", "--keys-file", path, "--format", "json"], in: dir)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["desk-a", "scanner"])
        #expect(rows[0]["sha256_prefix"] as? String == String(key.digestHex.prefix(8)))
        #expect((rows[0]["daily_budget_usd"] as? NSNumber)?.decimalValue == Decimal(string: "5.25") && rows[1]["daily_budget_usd"] is NSNull)
        #expect((rows[0]["tags"] as? [String: String]) == ["desk": "a", "team": "quant"])
        for out in [table.stdout, table.stderr, json.stdout, json.stderr] {
            #expect(!out.contains(secret) && !out.contains(secret2) && !out.contains(key.digestHex))
        }

        let remove = try await BATSRun.run(["keys", "remove", "desk-a", "--keys-file", path], in: dir)
        #expect(remove.status == 0, "\(remove.stderr)")
        let left = try CallerKeys.load(contentsOf: path)
        #expect(left.keys.map(\.name) == ["scanner"] && left.match(secret: secret) == nil && left.match(secret: secret2) != nil)
        #expect(try CallerKeyTests.mode(path) == 0o600)
        let gone = try await BATSRun.run(["keys", "remove", "desk-a", "--keys-file", path], in: dir)
        #expect(gone.status == 1 && gone.errorLines == ["Error: no caller key desk-a in '\(path)'"], "\(gone.stderr)")
    }

    @Test("--keys-file defaults to server.keys_file of --config (relative to the configuration file), and BATS_CONFIG")
    func keysFileFromConfig() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let etc = dir.appendingPathComponent("etc"), elsewhere = dir.appendingPathComponent("elsewhere")
        for d in [etc, elsewhere] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        let digest = CallerKey.digest(of: "inline-secret").hexString
        let config = try ConfigCLITests.write(
            "server:\n  keys_file: bats-keys.yaml\n  keys:\n    - {name: scanner, sha256: \(digest)}\n", "bats.yaml", in: etc)
        let add = try await BATSRun.run(["keys", "add", "desk-b", "--config", config], in: elsewhere)
        #expect(add.status == 0, "\(add.stderr)")
        let secret = try Self.secret(add)
        let keysFile = etc.appendingPathComponent("bats-keys.yaml").path
        #expect(FileManager.default.fileExists(atPath: keysFile))
        #expect(!FileManager.default.fileExists(atPath: elsewhere.appendingPathComponent("bats-keys.yaml").path))
        // The server sees both: the inline key and the one just added.
        let keys = try DeploymentConfiguration.load(contentsOf: URL(fileURLWithPath: config)).server.callerKeys()
        #expect(keys.keys.map(\.name) == ["scanner", "desk-b"] && keys.match(secret: secret)?.name == "desk-b")
        // A name configured inline is refused.
        let inline = try await BATSRun.run(["keys", "add", "scanner", "--config", config], in: elsewhere)
        #expect(inline.status == 1 && inline.stderr.contains("already configured inline"), "\(inline.stderr)")

        let viaEnv = try await BATSRun.run(["keys", "list"], in: elsewhere, environment: ["BATS_CONFIG": config])
        #expect(viaEnv.status == 0 && viaEnv.stdout.contains("desk-b"), "\(viaEnv.stderr)")
        // config check reads the keys file and counts both keys.
        let check = try await BATSRun.run(["config", "check", config], in: elsewhere)
        #expect(check.status == 0 && check.stdout.contains("server: 127.0.0.1:8080, 2 caller keys (1 inline, keys file"), "\(check.stdout)")
        // ... and reports a broken one, FILE:LINE, exit 1.
        try Data("keys:\n  - name: desk-b\n    sha256: nothex\n".utf8).write(to: URL(fileURLWithPath: keysFile))
        let broken = try await BATSRun.run(["config", "check", config], in: elsewhere)
        #expect(broken.status == 1 && broken.stderr.contains("\(keysFile):3: keys[0].sha256:"), "\(broken.stderr)")
    }

    @Test(
        "Bad input is one line on standard error with a nonzero status, never a trap",
        arguments: [
            (["keys", "add", "desk-a"], Int32(64), "give --keys-file FILE"),
            (["keys", "list"], 64, "give --keys-file FILE"),
            (["keys", "add", "desk a", "--keys-file", "k.yaml"], 64, "NAME must be"),
            (["keys", "add", "bats-Q2xT7bLm3ZpR8sVc1e6YqW0uNdHkJfGa9sTyXbC4vE1", "--keys-file", "k.yaml"], 64, "not look like a secret"),
            (["keys", "add", "desk-a", "--keys-file", "k.yaml", "--tag", "desk"], 64, "must be KEY=VALUE"),
            (["keys", "add", "desk-a", "--keys-file", "k.yaml", "--tag", "a=b", "--tag", "a=c"], 64, "--tag a is given twice"),
            (["keys", "add", "desk-a", "--keys-file", "k.yaml", "--daily-budget=-1"], 64, "must not be negative"),
            (["keys", "list", "--keys-file", "missing.yaml"], 1, "no keys file at 'missing.yaml'"),
            (["keys", "remove", "desk-a", "--keys-file", "missing.yaml"], 1, "no keys file at 'missing.yaml'"),
            (["keys", "list", "--keys-file", "broken.yaml"], 1, "broken.yaml:2: keys[0]: must be a table"),
            (["keys", "add", "desk-a", "--keys-file", "broken.yaml"], 1, "broken.yaml:2: keys[0]: must be a table"),
            (["keys", "add", "desk-a", "--keys-file", "."], 1, "is a directory"),
        ])
    func badInput(arguments: [String], status: Int32, says: String) async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try ConfigCLITests.write("keys:\n  - just-a-name\n", "broken.yaml", in: dir)
        let r = try await BATSRun.run(arguments, in: dir)
        #expect(r.status == status && !r.crashed && r.stdout.isEmpty, "\(r.status) \(r.stderr)")
        #expect(r.errorLines.first?.contains(says) == true, "\(r.stderr)")
        if status == 1 { #expect(r.errorLines.count == 1, "\(r.stderr)") }
        #expect(!r.stderr.contains("Q2xT7bLm3ZpR8sVc1e6Y"))
        // Nothing was written by a refused add.
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("k.yaml").path))
    }

    @Test("keys subcommands parse their flags")
    func parsing() throws {
        _ = try BATSCommand.parseAsRoot(["keys", "add", "desk-a", "--keys-file", "k.yaml", "--tag", "desk=a", "--daily-budget", "0"])
        _ = try BATSCommand.parseAsRoot(["keys", "list", "--keys-file", "k.yaml", "--format", "json"])
        _ = try BATSCommand.parseAsRoot(["keys", "remove", "desk-a", "--keys-file", "k.yaml"])
        #expect {
            _ = try BATSCommand.parseAsRoot(["keys", "list", "--keys-file", "k.yaml", "--format", "csv"])
        } throws: { BATSCommand.message(for: $0).contains("--format must be table or json") }
    }
}
