import BATS
import Testing

@Suite("Answer extractors")
struct AnswerExtractorTests {
    @Test("Built-ins normalize numbers, letters, JSON fields and text")
    func builtIns() {
        #expect(AnswerExtractor.finalNumber("so 9 * $2 = $18.\n#### 1,250.00") == "1250")
        #expect(AnswerExtractor.finalNumber("it falls by -3.50 points") == "-3.5")
        #expect(AnswerExtractor.finalNumber("no digits here") == nil)
        #expect(AnswerExtractor.choiceLetter("A is tempting, but the answer is (b).") == "B")
        #expect(AnswerExtractor.choiceLetter("Apples and bananas") == nil)
        let reply = "Decision:\n```json\n{\"order\": {\"side\": \" BUY \", \"qty\": 10, \"limit\": 2.0, \"hedge\": false}}\n```"
        #expect(AnswerExtractor.jsonField("order.side")(reply) == "buy")
        #expect(AnswerExtractor.jsonField("order.qty")(reply) == "10")
        #expect(AnswerExtractor.jsonField("order.limit")(reply) == "2")
        #expect(AnswerExtractor.jsonField("order.hedge")(reply) == "false")
        #expect(AnswerExtractor.jsonField("order.missing")(reply) == nil)
        #expect(AnswerExtractor.text("  Hold \n the   LINE ") == "hold the line")
        #expect(AnswerExtractor.named("json:order.side")?.name == "json:order.side" && AnswerExtractor.named("vote") == nil)
    }
}
