public import BATS
import Foundation
public import Hummingbird
public import Logging
import NIOCore
public import ServiceLifecycle
public import UnixSignals

/// `bats serve`: an OpenAI-compatible HTTP server that routes every call through a ``BATS/Router`` (budget,
/// CRITICAL pinning, fallbacks) and forwards it to the router's gateway.
///
/// ```swift
/// let server = try BATSServer(router: router, reports: ledger, configuration: .init(port: 8080), logger: logger)
/// try await server.run { url in print("listening on \(url)") }   // until SIGTERM or SIGINT
/// ```
///
/// Endpoints: `POST /v1/chat/completions` (JSON and SSE), `POST /v1/embeddings`, `POST /v1/images/generations`,
/// `GET /v1/models`, `GET /v1/bats/budget`, `GET /health`, `GET /metrics`, `GET /dashboard`. See `docs/serve.md`.
/// Chat calls may also name a council or a cascade of ``Configuration/councils`` and ``Configuration/cascades``
/// (`bats/council/<name>`, `bats/cascade/<name>`).
///
/// - Safe by default: it binds to loopback unless caller keys are configured (``Configuration/authenticator``).
/// - Shutdown: on SIGTERM or SIGINT it stops accepting, lets calls in flight finish for
///   ``Configuration/shutdownGrace``, then cancels the rest; a cancelled call releases its reservation, or settles
///   what a stream received. ``run(services:signals:onReady:)`` returns once every call has ended.
public struct BATSServer: Sendable {
    /// How the server listens and whom it serves.
    public struct Configuration: Sendable {
        /// The address to bind (`127.0.0.1` by default).
        public var host: String
        /// The port (8080 by default; 0 for a free one).
        public var port: Int
        /// The largest request body accepted (4 MiB by default); a larger one gets 413.
        public var maxBodyBytes: Int
        /// How long calls in flight may run after a shutdown signal before they are cancelled.
        public var shutdownGrace: Duration
        /// Looks up caller keys; `nil` when none are configured: then every request is served without a key, and the
        /// server binds to loopback only.
        public var authenticator: CallerAuthenticator?
        /// How often the dashboard refreshes itself.
        public var dashboardRefresh: Duration
        /// How many recent refusals and downgrades the budget JSON and the dashboard show.
        public var recentDecisions: Int
        /// The councils served as `bats/council/<name>`, by name (see `docs/serve.md`).
        public var councils: [String: Ensemble<Council>]
        /// The cascades served as `bats/cascade/<name>`, by name.
        public var cascades: [String: Ensemble<Cascade>]

        /// Creates a configuration.
        public init(
            host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 4 << 20, shutdownGrace: Duration = .seconds(10),
            authenticator: CallerAuthenticator? = nil, dashboardRefresh: Duration = .seconds(5), recentDecisions: Int = 20,
            councils: [String: Ensemble<Council>] = [:], cascades: [String: Ensemble<Cascade>] = [:]
        ) {
            self.host = host
            self.port = port
            self.maxBodyBytes = max(1_024, maxBodyBytes)
            self.shutdownGrace = max(.zero, shutdownGrace)
            self.authenticator = authenticator
            self.dashboardRefresh = max(.seconds(1), dashboardRefresh)
            self.recentDecisions = max(0, min(recentDecisions, 500))
            self.councils = councils
            self.cascades = cascades
        }

        /// Checks what ``BATSServer/init(router:reports:configuration:logger:)`` checks, so a command can refuse a
        /// configuration before it opens a ledger.
        /// - Throws: ``ServerError`` when the port is out of range, or the host is not loopback and no caller keys are
        ///   configured.
        public func validate() throws(ServerError) {
            guard (0...65_535).contains(port) else { throw ServerError("port \(port) is out of range 0...65535") }
            if authenticator == nil, !BATSServer.isLoopback(host) {
                throw ServerError(
                    "refusing to listen on \(host) without caller keys: anyone who can reach it could spend the budget; "
                        + "configure server.keys or a keys file, or bind to 127.0.0.1")
            }
        }
    }

    /// The router every call goes through (its ledger wrapped to feed ``metrics``).
    public let router: BATS.Router
    /// Where budget reports are read.
    public let reports: any LedgerReporting
    /// The configuration.
    public let configuration: Configuration
    /// The Prometheus metrics `/metrics` serves.
    public let metrics: ServerMetrics
    let logger: Logger
    let streams = StreamRegistry()

    /// Creates a server.
    /// - Parameters:
    ///   - router: The router (selector, ledger, gateway).
    ///   - reports: The ledger's reports (the same ledger as the router's).
    ///   - configuration: Address, limits, keys.
    ///   - logger: Where requests and failures are logged (never a key or a prompt).
    /// - Throws: ``ServerError`` when the host is not loopback and no caller keys are configured, or the port is out of range.
    public init(router: BATS.Router, reports: any LedgerReporting, configuration: Configuration = .init(), logger: Logger) throws(ServerError) {
        try configuration.validate()
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.router = router.replacingLedger(MeteredLedger(base: router.ledger, metrics: metrics))
        self.reports = reports
        self.configuration = configuration
        self.logger = logger
    }

    /// Whether a host name is a loopback address.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h == "::1" || h == "[::1]" || (h.hasPrefix("127.") && h.split(separator: ".").count == 4)
    }

    /// The Hummingbird application, for embedding in a service group of one's own.
    /// - Parameters:
    ///   - services: Services to run beside the server (alert delivery), stopped with it.
    ///   - onReady: Called once with the base URL (`http://127.0.0.1:8080`) when the server listens.
    public func application(
        services: [any Service] = [], onReady: @escaping @Sendable (String) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let handlers = ServerHandlers(server: self)
        let r = Hummingbird.Router(context: ServerRequestContext.self)
        handlers.register(on: r)
        let host = configuration.host
        return Application(
            router: r, server: .http1(configuration: .init(additionalChannelHandlers: [PeerClosedHandler()])),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "bats"), services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
                await onReady("http://\(shown):\(port)")
            }, logger: logger)
    }

    /// Runs until a signal in `signals` (or a graceful shutdown of the task), then drains.
    /// - Parameters:
    ///   - services: Services to run beside the server, such as alert delivery.
    ///   - signals: The signals that start a graceful shutdown (SIGTERM and SIGINT by default).
    ///   - onReady: Called with the base URL once listening.
    /// - Throws: When binding fails, or a service fails.
    public func run(
        services: [any Service] = [], signals: [UnixSignal] = [.sigterm, .sigint], onReady: @escaping @Sendable (String) async -> Void = { _ in }
    ) async throws {
        let group = serviceGroup(services: services, signals: signals, onReady: onReady)
        do {
            try await group.run()
        } catch {
            await drain()
            throw error
        }
        await drain()
    }

    /// The service group ``run(services:signals:onReady:)`` runs: the server and `services`, shut down gracefully on
    /// `signals` or ``ServiceLifecycle/ServiceGroup/triggerGracefulShutdown()``, with ``Configuration/shutdownGrace``
    /// before calls still running are cancelled. Call ``drain()`` after it returns.
    public func serviceGroup(
        services: [any Service] = [], signals: [UnixSignal] = [], onReady: @escaping @Sendable (String) async -> Void = { _ in }
    ) -> ServiceGroup {
        var config = ServiceGroupConfiguration(
            services: [.init(service: application(services: services, onReady: onReady))], gracefulShutdownSignals: signals, logger: logger)
        config.maximumGracefulShutdownDuration = configuration.shutdownGrace
        config.maximumCancellationDuration = .seconds(30)
        return ServiceGroup(configuration: config)
    }

    /// Waits until every streamed call the server started has ended (settled, or released).
    public func drain() async { await streams.drain() }
}

/// A server that cannot start as configured.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
