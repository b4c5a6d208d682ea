import AsyncHTTPClient
import BATS
import BATSServer
import BATSTestSupport
import Foundation
import GatewayHTTP
import Logging
import ModelSelection
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import SpendLedger
import Testing

/// A `bats serve` in this process for a test: a loopback OpenAI-format upstream (``OpenAIMock``), an on-disk ledger,
/// the server on a free loopback port, and an HTTP client.
struct ServerHarness: Sendable {
    let upstream: LoopbackGatewayServer
    let mock: OpenAIMock
    let ledger: SQLiteLedger
    let ledgerPath: String
    let server: BATSServer
    /// `http://127.0.0.1:PORT`.
    let baseURL: String
    let logs: LogRecorder
    /// The server's service group: a test may shut it down itself (the harness's own shutdown then does nothing more).
    let group: ServiceGroup

    /// The upstream key the server holds; it must never reach a client, a log or the ledger.
    static let upstreamKey = "sk-upstream-SECRET-0123456789abcdef"

    static func with<R: Sendable>(
        limits: BudgetLimits = .unlimited, mock options: OpenAIMock.Options = .init(), authenticator: CallerAuthenticator? = nil,
        configure: (inout BATSServer.Configuration) -> Void = { _ in },
        wrapLedger: (SQLiteLedger) -> any BudgetLedger = { $0 }, logLevel: Logger.Level = .info,
        _ body: (ServerHarness) async throws -> R
    ) async throws -> R {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ledger.sqlite").path
        let ledger = try SQLiteLedger(path: path, configuration: .init(limits: limits))
        let logs = LogRecorder()
        return try await LoopbackGatewayServer.withServer { upstream in
            let mock = OpenAIMock(options: options)
            upstream.setResponder(mock.responder)
            var gc = GatewayClient.Configuration(baseURL: upstream.baseURL, apiKey: upstreamKey)
            gc.retryPolicy = RetryPolicy(maxAttempts: 1, initialBackoff: .zero, maxBackoff: .zero)
            gc.connectTimeout = .seconds(2)
            return try await withGatewayClient(configuration: gc) { client in
                let router = BATS.Router(
                    selector: try ModelSelector(catalog: .bundled()), ledger: wrapLedger(ledger), gateway: client, configuration: .init(requestTimeout: .seconds(30)))
                var config = BATSServer.Configuration(port: 0, shutdownGrace: .seconds(5), authenticator: authenticator)
                configure(&config)
                let server = try BATSServer(router: router, reports: ledger, configuration: config, logger: logs.logger(label: "bats.serve", level: logLevel))
                let ready = AsyncStream<String>.makeStream()
                let group = server.serviceGroup(onReady: { url in ready.continuation.yield(url) })
                let running = Task { try await group.run() }
                var it = ready.stream.makeAsyncIterator()
                guard let url = await it.next() else { throw ServerError("the server did not start") }
                let h = ServerHarness(upstream: upstream, mock: mock, ledger: ledger, ledgerPath: path, server: server, baseURL: url, logs: logs, group: group)
                do {
                    let r = try await body(h)
                    await group.triggerGracefulShutdown()
                    try await running.value
                    await server.drain()
                    return r
                } catch {
                    await group.triggerGracefulShutdown()
                    _ = try? await running.value
                    await server.drain()
                    throw error
                }
            }
        }
    }

    /// One HTTP exchange with the server.
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
        var error: [String: Any]? { json?["error"] as? [String: Any] }
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    func send(_ method: HTTPMethod = .POST, _ path: String, body: String? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    func chat(model: String = "bats/simple", _ extra: String = "", headers: [(String, String)] = []) async throws -> Reply {
        try await send(.POST, "/v1/chat/completions", body: #"{"model":"\#(model)","messages":[{"role":"user","content":"Quote AAPL"}]\#(extra)}"#, headers: headers)
    }

    /// A streamed `bats/simple` chat request, for a test that reads the reply's body piece by piece.
    var streamRequest: HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"bats/simple","stream":true,"messages":[{"role":"user","content":"hi"}]}"#))
        return request
    }

    /// Reads a streamed reply to its end, starting a graceful shutdown of the server at its first chunk; returns the
    /// text received and the shutdown's task. A connection the server closes mid-body ends the text there.
    func readStartingShutdown(_ response: HTTPClientResponse) async -> (text: String, shutdown: Task<Void, Never>?) {
        var text = ""
        var shutdown: Task<Void, Never>?
        do {
            for try await piece in response.body {
                text += String(buffer: piece)
                if shutdown == nil, text.contains("data: {") {
                    let group = group
                    shutdown = Task { await group.triggerGracefulShutdown() }
                }
            }
        } catch {}
        return (text, shutdown)
    }

    /// Whether the server's port accepts a TCP connection now (a plain connect: an HTTP client would retry a refused
    /// one until its deadline).
    func acceptsConnections() async -> Bool {
        guard let port = URL(string: baseURL)?.port else { return false }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(2))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    /// Reservations still open in the ledger.
    func openReservations() throws -> Int { try ledger.entries(status: .reserved).count }
}
