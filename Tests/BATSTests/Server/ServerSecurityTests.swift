import BATSServer
import BATSTestSupport
import Foundation
import SpendLedger
import Synchronization
import Testing

/// No key, neither a caller's nor the upstream's, appears in any log, header, error, metric or ledger of the server,
/// even when the provider echoes the upstream key back.
@Suite("bats serve: secrets")
struct ServerSecurityTests {
    static let callerSecret = "bats-caller-SECRET-9f8e7d6c5b4a39281706"
    static let wrongSecret = "bats-wrong-SECRET-0011223344556677889900"

    @Test("Caller and upstream keys appear in no reply, header, log line, metric, budget, dashboard or ledger byte; callers' keys never go upstream")
    func noKeyAnywhere() async throws {
        let upstreamKey = ServerHarness.upstreamKey
        let echoes = Atomic<Int>(0)
        let authenticator: CallerAuthenticator = { $0 == Self.callerSecret ? Caller(name: "desk-a", tags: ["desk": "a"]) : nil }
        var texts: [String] = []
        try await ServerHarness.with(limits: .init(daily: try .init(dollars: 1), monthly: nil), authenticator: authenticator, logLevel: .trace) { h in
            let mock = h.mock
            h.upstream.setResponder { request in
                // The first chat call's upstream answers 401 echoing the key it was sent, in the body and a header;
                // the second reply names the key as its model; the rest are ordinary.
                guard request.path.hasSuffix("/chat/completions") else { return mock.responder(request) }
                let sent = request.header("Authorization") ?? ""
                switch echoes.add(1, ordering: .relaxed).oldValue {
                case 0:
                    return .error(status: 401, message: "Incorrect API key provided: \(sent) (\(upstreamKey.uppercased()))", code: "invalid_api_key",
                        headers: [("x-request-id", upstreamKey)])
                case 1:
                    return .json(
                        #"{"id":"\#(upstreamKey)","object":"chat.completion","model":"\#(upstreamKey)","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
                        headers: [("x-request-id", "Bearer \(upstreamKey)")])
                default:
                    return mock.responder(request)
                }
            }
            let auth = [("Authorization", "Bearer \(Self.callerSecret)")]
            let echoed = try await h.chat(headers: auth)
            #expect(echoed.status == 401 && echoed.error?["type"] != nil, "the upstream's status is kept: \(echoed.body)")
            let named = try await h.chat(headers: auth)
            #expect(named.status == 200, "\(named.body)")
            let streamed = try await h.chat(model: "bats/medium", #","stream":true"#, headers: auth)
            let wrong = try await h.chat(headers: [("Authorization", "Bearer \(Self.wrongSecret)")])
            #expect(wrong.status == 401)
            let missing = try await h.chat()
            #expect(missing.status == 401)
            let embedded = try await h.send(.POST, "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"x"}"#, headers: auth)
            #expect(embedded.status == 200)
            for reply in [echoed, named, streamed, wrong, missing, embedded] {
                texts.append(reply.body)
                texts.append(reply.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"))
            }
            for path in ["/metrics", "/v1/bats/budget", "/dashboard", "/dashboard/chart.svg", "/v1/models", "/health"] {
                texts.append(try await h.send(.GET, path, headers: auth).body)
            }
            for request in h.upstream.requests {
                #expect(request.header("Authorization") == "Bearer \(upstreamKey)", "the server's own key goes upstream")
                let all = request.headerList.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + String(decoding: request.body, as: UTF8.self)
                #expect(!keyLeaks(in: all, key: Self.callerSecret), "a caller's key went upstream: \(all)")
            }
            texts.append(h.logs.text)
            #expect(!h.logs.entries.isEmpty)
            for suffix in ["", "-wal", "-shm"] {
                if let data = FileManager.default.contents(atPath: h.ledgerPath + suffix) { texts.append(String(decoding: data, as: UTF8.self)) }
            }
        }
        for text in texts {
            for key in [upstreamKey, Self.callerSecret, Self.wrongSecret] {
                #expect(!keyLeaks(in: text, key: key), "a key leaked: \(text.prefix(2_000))")
            }
        }
    }
}
