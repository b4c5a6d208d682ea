import BATS
import BATSTestSupport
import Foundation
import Gateway
import GatewayHTTP
import ModelSelection
import SpendLedger
import Testing

/// A loopback upstream that answers each gateway model id with its own scripted reply.
struct CouncilUpstream {
    /// How one model answers.
    enum Reply: Sendable {
        case text(String, completionTokens: Int = 20)
        case failing
        case gated(ScriptedResponse.Gate, String)
    }

    static func responder(_ replies: @escaping @Sendable (String, String) -> Reply?) -> @Sendable (LoopbackGatewayServer.RecordedRequest) -> ScriptedResponse? {
        { request in
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
            let model = body["model"] as? String ?? ""
            let messages = body["messages"] as? [[String: Any]] ?? []
            let prompt = messages.compactMap { $0["content"] as? String }.joined(separator: "\n")
            switch replies(model, prompt) {
            case .text(let t, let tokens)?: return .json(chat(model, t, tokens))
            case .gated(let gate, let t)?:
                var r = ScriptedResponse.json(chat(model, t, 20))
                r.gateBeforeHead = gate
                return r
            case .failing?: return .error(status: 503, message: "model \(model) is overloaded", type: "server_error")
            case nil: return .error(status: 404, message: "no script for \(model)")
            }
        }
    }

    static func chat(_ model: String, _ text: String, _ tokens: Int) -> String {
        let content = String(data: try! JSONSerialization.data(withJSONObject: [text], options: [.fragmentsAllowed]), encoding: .utf8)!.dropFirst().dropLast()
        return #"{"id":"c1","object":"chat.completion","created":1,"model":"\#(model)","choices":[{"index":0,"message":{"role":"assistant","content":\#(content)},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":\#(tokens),"total_tokens":\#(100 + tokens)}}"#
    }
}

enum CouncilFixture {
    static let catalog = LedgerFixture.catalog
    static let selector = LedgerFixture.selector

    static func gw(_ m: ModelID) -> String { catalog.model(m)!.gatewayID }

    static func task(_ tier: Complexity = .reasoning, id: String = "trade-1") -> RoutedTask {
        RoutedTask(
            complexity: tier, request: ChatRequest(messages: [.user("Buy, sell or hold AAPL? Answer A, B or C.")]), inputTokens: 1_000,
            maxOutputTokens: 500, tags: ["agent": "trader"], requestID: id)
    }

    static func ledger(daily: MicroDollars? = nil) throws -> SQLiteLedger {
        try SQLiteLedger.inMemory(configuration: .init(limits: BudgetLimits(daily: daily, monthly: nil)))
    }

    /// Every entry of the group, by its role tag.
    static func entries(_ ledger: SQLiteLedger, group: String) throws -> [String: [LedgerEntry]] {
        Dictionary(grouping: try ledger.entries().filter { $0.tags[GroupTag.group] == group }, by: { $0.tags[GroupTag.role] ?? "" })
    }

    static func openCount(_ ledger: SQLiteLedger) throws -> Int { try ledger.entries(status: .reserved).count }
}
