import Crypto
public import Foundation

/// The secret that makes a ledger's hash chain an HMAC-SHA256 chain, so that only a holder of the key can
/// recompute it after editing the file.
///
/// Read from the environment or a key file, never from a command-line flag (flags show in `ps` and shell history).
/// The key never appears in the ledger, errors or logs: the ledger keeps only a short check value to tell a wrong key.
public struct LedgerChainKey: Sendable {
    private let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// The environment variable holding the key (at least 16 bytes of text).
    public static let environmentVariable = "BATS_LEDGER_KEY"
    /// The environment variable naming a file that holds the key.
    public static let fileEnvironmentVariable = "BATS_LEDGER_KEY_FILE"

    /// Creates a key from secret bytes.
    /// - Parameter bytes: At least 16 bytes.
    /// - Throws: ``LedgerError`` (`chainKey`) when the key is too short.
    public init(bytes: some Collection<UInt8>) throws {
        guard bytes.count >= 16 else {
            throw LedgerError(kind: .chainKey, message: "a ledger chain key must be at least 16 bytes (got \(bytes.count))")
        }
        self.bytes = Array(bytes)
    }

    /// The key from `BATS_LEDGER_KEY`, or from the file `BATS_LEDGER_KEY_FILE` names (trailing newlines dropped).
    /// - Parameter environment: The process environment.
    /// - Returns: The key, or `nil` when neither variable is set.
    /// - Throws: ``LedgerError`` (`chainKey`) for an unreadable file or a short key.
    public static func fromEnvironment(_ environment: [String: String]) throws -> LedgerChainKey? {
        if let text = environment[environmentVariable], !text.isEmpty { return try LedgerChainKey(bytes: Array(text.utf8)) }
        guard let file = environment[fileEnvironmentVariable], !file.isEmpty else { return nil }
        guard var data = FileManager.default.contents(atPath: file) else {
            throw LedgerError(kind: .chainKey, path: file, message: "cannot read the ledger chain key file named by \(fileEnvironmentVariable)")
        }
        while let last = data.last, last == 0x0A || last == 0x0D { data.removeLast() }
        return try LedgerChainKey(bytes: Array(data))
    }

    /// A short value derived from the key, stored in the ledger to tell a wrong key at open.
    package var check: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("bats-ledger-chain-key-check".utf8), using: key)
        return mac.withUnsafeBytes(ChainHasher.hexString).prefix(16).description
    }
}

/// Hashes the chain's texts: SHA-256, or HMAC-SHA256 under a ``LedgerChainKey``.
package struct ChainHasher: Sendable {
    let key: LedgerChainKey?

    package init(key: LedgerChainKey?) { self.key = key }

    static let plain = ChainHasher(key: nil)

    /// `sha256` or `hmac-sha256`, as `ledger_state.chain_mode` records it.
    package var mode: String { key == nil ? "sha256" : "hmac-sha256" }

    package func hex(_ bytes: [UInt8]) -> String {
        if let key { return HMAC<SHA256>.authenticationCode(for: bytes, using: key.key).withUnsafeBytes(Self.hexString) }
        // On the hot path (two hashes per reserve+settle): no intermediate arrays.
        return SHA256.hash(data: bytes).withUnsafeBytes(Self.hexString)
    }

    static func hexString(_ bytes: some Collection<UInt8>) -> String {
        Array(bytes).withUnsafeBytes(hexString)
    }

    static func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { d in
                for (i, b) in bytes.enumerated() {
                    out[2 * i] = d[Int(b >> 4)]
                    out[2 * i + 1] = d[Int(b & 0x0F)]
                }
            }
            return bytes.count * 2
        }
    }
}
