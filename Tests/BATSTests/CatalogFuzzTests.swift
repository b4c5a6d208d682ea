import Foundation
import ModelSelection
import Replay
import Testing

@Suite("Catalog fuzzing")
struct CatalogFuzzTests {
    static let valid: [UInt8] = {
        let url = Bundle.module.url(forResource: "catalog", withExtension: "json", subdirectory: "Resources")
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Sources/ModelSelection/Resources/catalog.json")
        return Array((try? Data(contentsOf: url)) ?? Data())
    }()

    static let tokens: [[UInt8]] = ["\"", "{", "}", "[", "]", ",", ":", "-", "0", "1e999", "null", "true", "\"-1\"", "\\u0000", "\u{FEFF}", "9999999999999999999999"]
        .map { Array($0.utf8) }

    @Test("random mutations of the bundled catalog: it loads or throws CatalogError, never crashes", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func mutations(seed: UInt64) throws {
        try #require(!Self.valid.isEmpty, "catalog.json not found")
        var random = SeededGenerator(seed: seed, stream: 0xCA7)
        var loaded = 0, rejected = 0
        for _ in 0..<400 {
            var bytes = Self.valid
            for _ in 0..<(1 + Int(random.uniform(below: 4))) {
                let at = Int(random.uniform(below: UInt64(bytes.count)))
                switch random.uniform(below: 4) {
                case 0: bytes.remove(at: at)
                case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                case 2: bytes.insert(contentsOf: Self.tokens[Int(random.uniform(below: UInt64(Self.tokens.count)))], at: at)
                default: bytes = Array(bytes.prefix(at))  // truncation
                }
                if bytes.isEmpty { bytes = [0x7B] }
            }
            do {
                _ = try ModelCatalog.decode(Data(bytes), source: "fuzz.json")
                loaded += 1
            } catch let e as CatalogError {
                #expect(e.description.contains("fuzz.json"))
                rejected += 1
            } catch {
                Issue.record("untyped error \(type(of: error)): \(error)")
            }
        }
        #expect(rejected > 0 && loaded + rejected == 400)
    }
}
