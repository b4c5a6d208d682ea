import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on `127.0.0.1` (port 0) that speaks the OpenAI wire format from scripted responses,
/// for gateway tests: it records each request it receives and answers from a queue of ``ScriptedResponse``s.
///
/// ```swift
/// try await LoopbackGatewayServer.withServer { server in
///     server.enqueue(.json(fixture), path: "/chat/completions")
///     // point a client at server.baseURL …
///     #expect(server.requests.first?.path == "/v1/chat/completions")
/// }
/// ```
///
/// - Important: Shut it down with ``shutdown()`` (or use ``withServer(_:)``), which also closes open connections.
public final class LoopbackGatewayServer: Sendable {
    /// A request the server received.
    public struct RecordedRequest: Sendable {
        /// `GET`, `POST`, …
        public var method: String
        /// The path and query, such as `/v1/chat/completions`.
        public var path: String
        /// The headers, in order, as received.
        public var headerList: [(String, String)]
        /// The body.
        public var body: [UInt8]

        /// The first value of a header (case-insensitive name).
        /// - Parameter name: The header name.
        /// - Returns: The value, or `nil`.
        public func header(_ name: String) -> String? {
            headerList.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        /// The body as UTF-8 text.
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    struct State: Sendable {
        var queue: [(path: String?, response: ScriptedResponse)] = []
        var fallbacks: [(path: String?, response: ScriptedResponse)] = []
        var responder: (@Sendable (RecordedRequest) -> ScriptedResponse?)?
        var keepsRequests = true
        var requests: [RecordedRequest] = []
        var children: [ObjectIdentifier: any Channel] = [:]
        var opened = 0
        var closed = 0
    }

    let state = WaitableState(State())
    private let serverChannel: any Channel

    /// The port the server listens on.
    public let port: Int

    /// The base URL to configure a client with: `http://127.0.0.1:PORT/v1`.
    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(serverChannel: any Channel, port: Int) {
        self.serverChannel = serverChannel
        self.port = port
    }

    /// Starts a server on `127.0.0.1`, port 0 (a free port).
    /// - Returns: The running server.
    /// - Throws: When binding fails.
    public static func start() async throws -> LoopbackGatewayServer {
        let box = Mutex<LoopbackGatewayServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let server = box.withLock({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ScriptedHTTPHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = LoopbackGatewayServer(serverChannel: channel, port: channel.localAddress?.port ?? 0)
        box.withLock { $0 = server }
        return server
    }

    /// Starts a server, runs `body`, and shuts the server down afterwards, whether `body` throws or not.
    /// - Parameter body: The test.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` or starting the server throws.
    public static func withServer<R>(
        isolation: isolated (any Actor)? = #isolation, _ body: (LoopbackGatewayServer) async throws -> R
    ) async throws -> R {
        let server = try await start()
        do {
            let r = try await body(server)
            try await server.shutdown()
            return r
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    /// Stops listening and closes every open connection.
    /// - Throws: When closing the listening socket fails.
    public func shutdown() async throws {
        let children = state.withLock { Array($0.children.values) }
        for child in children { try? await child.close() }
        try await serverChannel.close()
    }

    // MARK: - Scripting

    /// Queues a response for the next request whose path ends with `path` (any request when `nil`).
    /// - Parameters:
    ///   - response: The response.
    ///   - path: A path suffix such as `/chat/completions`.
    public func enqueue(_ response: ScriptedResponse, path: String? = nil) {
        state.withLock { $0.queue.append((path, response)) }
    }

    /// Queues several responses, in order.
    /// - Parameters:
    ///   - responses: The responses.
    ///   - path: A path suffix.
    public func enqueue(_ responses: [ScriptedResponse], path: String? = nil) {
        for r in responses { enqueue(r, path: path) }
    }

    /// Sets the response used for matching requests once the queue has nothing for them.
    /// - Parameters:
    ///   - response: The response.
    ///   - path: A path suffix (`nil`: any).
    public func setFallback(_ response: ScriptedResponse, path: String? = nil) {
        state.withLock { $0.fallbacks.insert((path, response), at: 0) }
    }

    /// Sets a function that answers requests from their content (before the queue and the fallbacks; `nil` from it
    /// falls through to them), such as ``OpenAIMock/responder``.
    /// - Parameters:
    ///   - responder: The function.
    ///   - keepingRequests: Whether ``requests`` keeps every request (off for long load tests).
    public func setResponder(keepingRequests: Bool = true, _ responder: @escaping @Sendable (RecordedRequest) -> ScriptedResponse?) {
        state.withLock {
            $0.responder = responder
            $0.keepsRequests = keepingRequests
        }
    }

    /// Every request received, in order.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// How many connections were accepted.
    public var connectionsOpened: Int { state.withLock { $0.opened } }
    /// How many accepted connections have closed (either side).
    public var connectionsClosed: Int { state.withLock { $0.closed } }

    // MARK: - Waiting

    /// Suspends until the server has received at least `count` requests (a handshake: no polling, no sleep).
    /// - Parameter count: How many requests.
    /// - Important: Returns early when the waiting task is cancelled (a test's time limit, for one).
    public func waitForRequests(_ count: Int) async {
        await state.wait { $0.requests.count >= count }
    }

    /// Suspends until at least `count` accepted connections have closed.
    /// - Parameter count: How many connections.
    /// - Important: Returns early when the waiting task is cancelled.
    public func waitForClosedConnections(_ count: Int) async {
        await state.wait { $0.closed >= count }
    }

    func respond(to request: RecordedRequest) -> ScriptedResponse {
        let responder = state.withLock { s in
            if s.keepsRequests { s.requests.append(request) }
            return s.responder
        }
        if let r = responder?(request) { return r }
        return state.withLock { s in
            let path = request.path.split(separator: "?").first.map(String.init) ?? request.path
            if let i = s.queue.firstIndex(where: { $0.path.map { path.hasSuffix($0) } ?? true }) {
                return s.queue.remove(at: i).response
            }
            if let f = s.fallbacks.first(where: { $0.path.map { path.hasSuffix($0) } ?? true }) { return f.response }
            return .error(status: 404, message: "no scripted response for \(request.method) \(path)", type: "test_server")
        }
    }
}

// MARK: - Channel handler

/// Reads one request at a time and plays back the scripted response, on the channel's event loop.
final class ScriptedHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: LoopbackGatewayServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(server: LoopbackGatewayServer) { self.server = server }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        server.state.withLock {
            $0.opened += 1
            $0.children[ObjectIdentifier(channel)] = channel
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        server.state.withLock {
            $0.closed += 1
            $0.children[id] = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let h = head else { return }
            head = nil
            let request = LoopbackGatewayServer.RecordedRequest(
                method: h.method.rawValue, path: h.uri, headerList: h.headers.map { ($0.name, $0.value) }, body: body
            )
            let response = server.respond(to: request)
            if response.hangUp {
                context.close(promise: nil)
                return
            }
            let loop = context.eventLoop.assumeIsolated()
            if let delay = response.delayBeforeHead {
                loop.scheduleTask(in: TimeAmount(delay)) { self.waitForHeadGate(response, context: context) }
            } else {
                waitForHeadGate(response, context: context)
            }
        }
    }

    private func waitForHeadGate(_ response: ScriptedResponse, context: ChannelHandlerContext) {
        guard let gate = response.gateBeforeHead else { return writeHead(response, context: context) }
        onLoop(when: gate, context: context) { handler, context in handler.writeHead(response, context: context) }
    }

    /// Runs `body` on the channel's event loop once `gate` opens.
    private func onLoop(
        when gate: ScriptedResponse.Gate, context: ChannelHandlerContext,
        _ body: @escaping (ScriptedHTTPHandler, ChannelHandlerContext) -> Void
    ) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context, body), eventLoop: loop)
        gate.whenOpen {
            loop.execute {
                let (handler, context, body) = bound.value
                body(handler, context)
            }
        }
    }

    private func writeHead(_ response: ScriptedResponse, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders(response.headers)
        if let n = response.contentLength { headers.replaceOrAdd(name: "Content-Length", value: String(n)) }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        runSteps(response.steps[...], context: context)
    }

    private func runSteps(_ steps: ArraySlice<ScriptedResponse.Step>, context: ChannelHandlerContext) {
        var steps = steps
        while let step = steps.popFirst() {
            guard context.channel.isActive else { return }
            switch step {
            case .write(let bytes):
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: bytes)))), promise: nil)
            case .close:
                context.close(promise: nil)
                return
            case .pause(let d):
                let rest = steps
                context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(d)) { self.runSteps(rest, context: context) }
                return
            case .wait(let gate):
                let rest = steps
                onLoop(when: gate, context: context) { handler, context in handler.runSteps(rest, context: context) }
                return
            case .hold:
                return
            }
        }
        guard context.channel.isActive else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
