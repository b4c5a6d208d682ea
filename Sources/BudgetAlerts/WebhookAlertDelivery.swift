public import AsyncHTTPClient
public import Foundation
public import Logging
import NIOCore
public import SpendLedger

/// Delivers the ledger's budget alerts to an HTTP webhook: a JSON POST each (schema in docs/alerts.md), retried with
/// exponential backoff, each attempt under a timeout.
///
/// It never touches a routed call: it reads the alerts the ledger recorded and runs in its own task. An alert is
/// claimed for one attempt (a lease in the ledger, so two processes never post it at once), then marked delivered on
/// a 2xx, or left pending with its next attempt scheduled; pending alerts survive restarts and are delivered later.
/// It sends only the alert's figures: never a key, a prompt or the gateway's headers; the URL's query and user info
/// are never logged.
public struct WebhookAlertDelivery: Sendable {
    /// Where and how to post.
    public struct Configuration: Sendable {
        /// The receiver.
        public var url: URL
        /// The most one attempt may take.
        public var timeout: Duration
        /// The delay after the first failure; it doubles with each failure.
        public var backoffBase: Duration
        /// The longest delay between attempts.
        public var backoffMax: Duration
        /// How often ``WebhookAlertDelivery/run()`` looks for due alerts.
        public var pollInterval: Duration
        /// At most this many alerts per pass.
        public var batchSize: Int

        /// Creates a configuration.
        public init(
            url: URL, timeout: Duration = .seconds(5), backoffBase: Duration = .seconds(1), backoffMax: Duration = .seconds(300),
            pollInterval: Duration = .seconds(1), batchSize: Int = 50
        ) {
            self.url = url
            self.timeout = timeout
            self.backoffBase = backoffBase
            self.backoffMax = backoffMax
            self.pollInterval = pollInterval
            self.batchSize = batchSize
        }
    }

    /// What one pass did.
    public struct Pass: Sendable, Hashable {
        /// Alerts delivered.
        public var delivered = 0
        /// Alerts whose attempt failed (still pending).
        public var failed = 0

        /// Creates a tally.
        public init(delivered: Int = 0, failed: Int = 0) {
            self.delivered = delivered
            self.failed = failed
        }
    }

    let ledger: any BudgetAlertStore
    let configuration: Configuration
    let client: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date

    /// Creates a deliverer.
    /// - Parameters:
    ///   - ledger: The ledger whose alerts are delivered.
    ///   - configuration: The receiver and the retry policy.
    ///   - client: The HTTP client (the shared one by default).
    ///   - logger: Where each alert is logged at notice level, and failures at warning.
    ///   - now: The clock.
    public init(
        ledger: any BudgetAlertStore, configuration: Configuration, client: HTTPClient = .shared, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.ledger = ledger
        self.configuration = configuration
        self.client = client
        self.logger = logger
        self.now = now
    }

    /// Delivers what is due now, once each; returns what happened.
    /// - Throws: ``LedgerError`` when the ledger cannot be read or written (a failed post is not an error).
    public func deliverDue() async throws -> Pass {
        let lease = configuration.timeout + .seconds(30)
        let due = try await ledger.claimDueAlerts(at: now(), lease: lease, limit: configuration.batchSize)
        var pass = Pass()
        for alert in due {
            logger.notice("\(alert.summary)", metadata: ["alert-id": "\(alert.id)", "alert-kind": "\(alert.kind)"])
            do {
                try await post(alert)
                try await ledger.markAlertDelivered(alert.id, at: now())
                pass.delivered += 1
            } catch let e as LedgerError {
                throw e
            } catch {
                let delay = Self.backoff(attempt: alert.attempts + 1, base: configuration.backoffBase, max: configuration.backoffMax)
                let text = Self.describe(error)
                logger.warning(
                    "budget alert \(alert.id) not delivered to \(Self.redacted(configuration.url)): \(text); next attempt in \(delay)")
                try await ledger.markAlertFailed(alert.id, error: text, retryAt: now().addingTimeInterval(Self.seconds(delay)))
                pass.failed += 1
            }
        }
        return pass
    }

    /// Delivers due alerts until cancelled, every ``Configuration/pollInterval``.
    /// - Throws: `CancellationError` when cancelled, or ``LedgerError``.
    public func run() async throws {
        while true {
            try Task.checkCancellation()
            _ = try await deliverDue()
            try await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// One attempt: a 2xx within the timeout, or an error.
    func post(_ alert: BudgetAlert) async throws {
        var request = HTTPClientRequest(url: configuration.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "bats-alerts")
        request.headers.add(name: "X-BATS-Event-ID", value: BudgetAlertPayload.eventID(alert))
        request.body = .bytes(ByteBuffer(bytes: try BudgetAlertPayload.encode(alert)))
        let timeout = TimeAmount.nanoseconds(Int64(Self.seconds(configuration.timeout) * 1e9))
        let response = try await client.execute(request, timeout: timeout)
        _ = try? await response.body.collect(upTo: 64 * 1024)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw WebhookError(status: Int(response.status.code))
        }
    }

    /// A receiver's answer that is not a 2xx.
    struct WebhookError: Error, CustomStringConvertible {
        var status: Int
        var description: String { "the receiver answered HTTP \(status)" }
    }

    /// The delay after `attempt` failures (1 → base, doubling, at most `max`).
    static func backoff(attempt: Int, base: Duration, max: Duration) -> Duration {
        var d = base
        for _ in 1..<Swift.max(1, Swift.min(attempt, 30)) {
            d = d * 2
            if d >= max { return max }
        }
        return Swift.min(d, max)
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// The URL without its user info, query or fragment (which may hold a token).
    static func redacted(_ url: URL) -> String {
        guard var c = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "(webhook)" }
        c.user = nil
        c.password = nil
        c.query = nil
        c.fragment = nil
        return c.string ?? "(webhook)"
    }

    /// A failure in words, without the URL (whose query may hold a token).
    static func describe(_ error: any Error) -> String {
        if let e = error as? WebhookError { return e.description }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: return "HTTP client error (\(String(describing: e).prefix(80)))"
            }
        }
        return String(String(describing: type(of: error)).prefix(80))
    }
}
