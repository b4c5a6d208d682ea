import Foundation
@testable import SpendLedger
import Testing

@Suite("Hash chain: SHA-256 and HMAC-SHA256 (swift-crypto)")
struct ChainHashTests {
    @Test(
        "SHA-256 known answers (FIPS 180-4 examples)",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (String(repeating: "a", count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ])
    func sha256(input: String, digest: String) {
        #expect(ChainHasher.plain.hex(Array(input.utf8)) == digest)
    }

    @Test("HMAC-SHA256 known answer (RFC 4231, test case 1)")
    func hmac() throws {
        let key = try LedgerChainKey(bytes: [UInt8](repeating: 0x0b, count: 20))
        #expect(ChainHasher(key: key).hex(Array("Hi There".utf8)) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(ChainHasher(key: key).mode == "hmac-sha256" && ChainHasher.plain.mode == "sha256")
    }

    @Test("A short key is refused; a key file's trailing newline is dropped")
    func keys() throws {
        #expect { try LedgerChainKey(bytes: Array("short".utf8)) } throws: { ($0 as? LedgerError)?.kind == .chainKey }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("key")
        try Data("0123456789abcdef-secret\n".utf8).write(to: file)
        let fromFile = try #require(try LedgerChainKey.fromEnvironment([LedgerChainKey.fileEnvironmentVariable: file.path]))
        let fromEnv = try #require(try LedgerChainKey.fromEnvironment([LedgerChainKey.environmentVariable: "0123456789abcdef-secret"]))
        #expect(fromFile.check == fromEnv.check)
        #expect(try LedgerChainKey.fromEnvironment([:]) == nil)
    }

    @Test("The chain text is the documented |-separated form")
    func chainText() {
        var t = ChainText(tag: "e1")
        t.add(Int64(0))
        t.add(Int64(-1_234_567_890_123))
        t.add(Int64.max)
        t.add("é|x")
        t.add(optional: nil)
        #expect(String(decoding: t.bytes, as: UTF8.self) == "e1|0|-1234567890123|9223372036854775807|é|x|-")
        #expect(t.hex(.plain) == ChainHasher.plain.hex(Array("e1|0|-1234567890123|9223372036854775807|é|x|-".utf8)))
    }
}
