import Foundation
import Gateway
import Testing

@Suite("SSE parser")
struct SSEParserTests {
    static func parseAll(_ text: String) -> ([SSEEvent], Bool) {
        var p = SSEParser()
        let events = p.parse(text)
        return (events, p.finish())
    }

    /// Parses `bytes` fed in pieces cut at `cuts`.
    static func parse(_ bytes: [UInt8], cuts: [Int]) -> ([SSEEvent], Bool) {
        var p = SSEParser()
        var events: [SSEEvent] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            events += p.parse(bytes[start..<cut])
            start = cut
        }
        return (events, p.finish())
    }

    @Test func basicEventsAndDone() {
        let (events, cut) = Self.parseAll("data: hello\n\ndata: [DONE]\n\n")
        #expect(events == [SSEEvent(data: "hello"), SSEEvent(data: "[DONE]")])
        #expect(events.last?.isDone == true)
        #expect(!cut)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEndings(_ eol: String) {
        let text = "event: add\(eol)data: a\(eol)data: b\(eol)id: 7\(eol)\(eol)data: c\(eol)\(eol)"
        let (events, cut) = Self.parseAll(text)
        #expect(events == [SSEEvent(type: "add", data: "a\nb", lastEventID: "7"), SSEEvent(data: "c", lastEventID: "7")])
        #expect(!cut)
    }

    @Test func crlfSplitBetweenChunks() {
        var p = SSEParser()
        var events = p.parse("data: x\r")
        events += p.parse("\n\r")
        events += p.parse("\ndata: y\r\n\r\n")
        #expect(events == [SSEEvent(data: "x"), SSEEvent(data: "y")])
    }

    @Test func commentsAndKeepAlivesAreIgnored() {
        let (events, _) = Self.parseAll(": ping\n\n:\n\ndata: a\n: inside\ndata: b\n\n")
        #expect(events == [SSEEvent(data: "a\nb")])
    }

    @Test func fieldRules() {
        // No space after the colon; only one space removed; a field with no colon; unknown fields ignored.
        let (events, _) = Self.parseAll("data:x\n\ndata:  two\n\ndata\n\nfoo: bar\ndata: z\n\n")
        #expect(events.map(\.data) == ["x", " two", "", "z"])
    }

    @Test func eventTypeResetsButIdCarriesOver() {
        let (events, _) = Self.parseAll("id: 1\nevent: custom\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: a\u{0}b\ndata: d\n\n")
        #expect(events[0] == SSEEvent(type: "custom", data: "a", lastEventID: "1"))
        #expect(events[1] == SSEEvent(type: "message", data: "b", lastEventID: "1"))
        #expect(events[2].lastEventID == "")  // `id` with no value sets an empty id
        #expect(events[3].lastEventID == "")  // an id containing NUL is ignored
    }

    @Test func eventWithoutDataIsNotDispatched() {
        let (events, cut) = Self.parseAll("event: lonely\n\nid: 3\n\ndata: real\n\n")
        #expect(events == [SSEEvent(data: "real", lastEventID: "3")])
        #expect(!cut)
    }

    @Test func retryField() {
        var p = SSEParser()
        _ = p.parse("retry: 1500\n\nretry: 12x\n\n")
        #expect(p.reconnectionTime == 1500)
    }

    @Test func unfinishedEventAtEOFIsNotDispatched() {
        var p = SSEParser()
        #expect(p.parse("data: complete\n\ndata: partial\n") == [SSEEvent(data: "complete")])
        #expect(p.hasPendingEvent)
        #expect(p.finish() == true)
        var q = SSEParser()
        #expect(q.parse("data: complete\n\ndata: no newl").count == 1)
        #expect(q.finish() == true)
    }

    @Test func byteOrderMarkIsSkippedEvenWhenSplit() {
        var p = SSEParser()
        var events = p.parse([0xEF] as [UInt8])
        events += p.parse([0xBB, 0xBF] + Array("data: x\n\n".utf8))
        #expect(events == [SSEEvent(data: "x")])
    }

    @Test func multiByteCharactersSplitAcrossChunksStayWhole() {
        let text = "data: é🌍你\n\n"
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            let (events, _) = Self.parse(bytes, cuts: [cut])
            #expect(events == [SSEEvent(data: "é🌍你")], "cut at \(cut)")
        }
    }

    @Test(arguments: ["chat_stream.sse", "chat_stream_reasoning.sse", "chat_stream_tools.sse"])
    func fixtureSplitAtEveryByteBoundaryGivesTheSameEvents(_ name: String) throws {
        let bytes = try GatewayFixture.bytes(name)
        let (reference, referenceCut) = Self.parse(bytes, cuts: [])
        #expect(reference.last?.isDone == true)
        #expect(!referenceCut)
        for cut in 1..<bytes.count {
            let (events, wasCut) = Self.parse(bytes, cuts: [cut])
            #expect(events == reference, "split at byte \(cut)")
            #expect(!wasCut)
        }
        // And one byte at a time.
        let (single, _) = Self.parse(bytes, cuts: Array(1..<bytes.count))
        #expect(single == reference)
    }

    @Test(arguments: [1, 2, 3, 42, 2024])
    func propertyArbitraryChunkingGivesIdenticalEvents(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        // A random but valid stream: mixed line endings, comments, multi-line data, ids, non-ASCII text.
        let eols = ["\n", "\r\n", "\r"]
        var text = ""
        for i in 0..<60 {
            let eol = eols.randomElement(using: &rng)!
            if Bool.random(using: &rng) { text += ": keep-alive\(eol)" }
            if i % 7 == 0 { text += "id: \(i)\(eol)" }
            if i % 5 == 0 { text += "event: e\(i)\(eol)" }
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                text += "data: {\"i\":\(i),\"t\":\"héllo 🌍 \(Int.random(in: 0...999, using: &rng))\"}\(eol)"
            }
            text += eol
        }
        let bytes = Array(text.utf8)
        let (reference, _) = Self.parse(bytes, cuts: [])
        #expect(reference.count == 60)
        for _ in 0..<200 {
            let cuts = (0..<Int.random(in: 1...40, using: &rng)).map { _ in Int.random(in: 0...bytes.count, using: &rng) }.sorted()
            let (events, cut) = Self.parse(bytes, cuts: cuts)
            #expect(events == reference)
            #expect(!cut)
        }
    }

    @Test(arguments: [7, 99, 12345])
    func propertyRandomBytesNeverCrashOrHang(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let alphabet: [UInt8] = Array("data: event:id:retry:\n\r :[DONE]{}".utf8) + [0, 0xEF, 0xBB, 0xBF, 0xC3, 0xA9, 0xFF, 0xF0, 0x9F]
        for _ in 0..<300 {
            var p = SSEParser()
            let bytes = (0..<Int.random(in: 0...512, using: &rng)).map { _ in
                Bool.random(using: &rng) ? alphabet.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            var start = 0
            var total = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &rng))
                total += p.parse(bytes[start..<end]).count
                start = end
            }
            _ = p.finish()
            #expect(total <= bytes.count)
        }
    }

    @Test func fixturesInTheBundleMatchTheRepositoryCopies() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = repo.appendingPathComponent("Fixtures/gateway")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.count >= 10)
        for name in names {
            let original = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            #expect(try GatewayFixture.text(name) == original, "Resources/gateway/\(name) differs from Fixtures/gateway")
        }
    }
}
