import BATS
@testable import BATSCommands
import BATSConfiguration
import Foundation
import ModelSelection
import Testing

/// The configuration file's councils and cascades become the router's, checked again against the catalog the
/// server prices with.
@Suite("bats serve: building councils and cascades from the file")
struct ServeEnsemblesTests {
    @Test("Every council and cascade of the file is built, with its members, aggregation, extractor, verifier and tier")
    func builds() throws {
        let file = try DeploymentConfiguration.parse(EnsembleConfigurationTests.valid, sourceName: "t.yaml")
        let catalog = try ModelCatalog.bundled()
        let councils = try ServeEnsembles.councils(file, catalog: catalog)
        #expect(councils.keys.sorted() == ["judged", "trade"])
        let trade = try #require(councils["trade"])
        #expect(trade.tier == .reasoning && trade.definition.name == "trade")
        #expect(trade.definition.members == [.model("deepseek-r1"), .model("kimi-k2"), .tier(.complex), .model("deepseek-v3")])
        #expect(trade.definition.aggregation == .firstAgreement(2) && trade.definition.minimumMembers == 2)
        #expect(trade.definition.extractor.name == "json:order.side")
        #expect(trade.definition.extractor(#"{"order": {"side": "BUY"}}"#) == "buy")
        let judged = try #require(councils["judged"]?.definition)
        #expect(judged.aggregation == .judge("claude-opus") && judged.judgeMaxOutputTokens == 64 && judged.minimumMembers == 2)
        let cascades = try ServeEnsembles.cascades(file, catalog: catalog)
        #expect(cascades.keys.sorted() == ["checked", "extract", "plain", "ticker"])
        #expect(cascades["extract"]?.definition.steps == ["deepseek-v3", "kimi-k2"])
        #expect(cascades["extract"]?.definition.verifier.check(text: #"{"side": "buy"}"#)?.accepted == true)
        #expect(cascades["extract"]?.definition.verifier.check(text: #"{"side": "up"}"#)?.accepted == false)
        #expect(cascades["ticker"]?.definition.verifier.check(text: "AAPL")?.accepted == true)
        #expect(cascades["ticker"]?.definition.verifier.check(text: "apple")?.accepted == false)
        #expect(cascades["checked"]?.definition.verifier.name == "judge:claude-opus")
        #expect(cascades["plain"]?.definition.verifier.name == "json" && cascades["plain"]?.tier == nil)
        #expect(try ServeEnsembles.councils(nil, catalog: catalog).isEmpty)
    }

    @Test("A --prices catalog without a council's or a cascade's model is refused before the server starts")
    func otherCatalog() throws {
        let file = try DeploymentConfiguration.parse(EnsembleConfigurationTests.valid, sourceName: "t.yaml")
        let bundled = try ModelCatalog.bundled()
        let smaller = try ModelCatalog(models: bundled.models.filter { $0.id != "kimi-k2" }, marginPartsPerMillion: 0)
        #expect(throws: CommandError.self) { try ServeEnsembles.councils(file, catalog: smaller) }
        #expect(throws: CommandError.self) { try ServeEnsembles.cascades(file, catalog: smaller) }
        do {
            _ = try ServeEnsembles.cascades(file, catalog: smaller)
        } catch {
            #expect("\(error)".contains("'kimi-k2'") && "\(error)".contains("cascade 'extract'"), "\(error)")
        }
    }
}
