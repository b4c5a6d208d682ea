import Foundation
import Gateway

/// JSON encoding for replies: sorted keys and unescaped slashes, so bodies are stable and readable.
enum WireJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every value encoded here is made of strings, integers, finite numbers and containers; a failure is a bug,
        // answered with a fixed error body rather than a trap.
        return (try? Array(e.encode(value))) ?? Array(#"{"error":{"message":"the reply could not be encoded","type":"server_error"}}"#.utf8)
    }
}
