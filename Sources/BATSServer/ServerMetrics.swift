import BATS
import CoreMetrics
import Metrics
import Foundation
import ModelSelection
public import Prometheus
import Synchronization

/// The server's Prometheus metrics, through swift-metrics with a registry of its own (no global bootstrap, so several
/// servers in one process keep separate counts).
///
/// - `bats_requests_total{endpoint, status}`
/// - `bats_refusals_total{tier, scope, window}`: budget refusals (`scope` is `global` for the global windows)
/// - `bats_downgrades_total{tier, model}`: calls that ran on a cheaper model for budget
/// - `bats_fallbacks_total{tier, model}`: calls answered after another model failed at the provider
/// - `bats_spend_micros_total{model, tier}` and `bats_scope_spend_micros_total{scope}`: settled spend, micro-dollars
/// - `bats_reservation_duration_seconds`: the ledger's reserve transaction, as a histogram
/// - `bats_open_reservations`: reservations made through this server and not yet settled or released
public final class ServerMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let open = Atomic<Int>(0)
    private let openGauge: CoreMetrics.Gauge
    private let reservation: CoreMetrics.Timer

    /// Creates the metrics with their own registry.
    public init() {
        var f = PrometheusMetricsFactory(registry: registry)
        f.durationHistogramBuckets["bats_reservation_duration_seconds"] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory = f
        openGauge = CoreMetrics.Gauge(label: "bats_open_reservations", factory: f)
        reservation = CoreMetrics.Timer(label: "bats_reservation_duration_seconds", factory: f)
        openGauge.record(0)
    }

    /// The Prometheus text exposition.
    public func render() -> [UInt8] { registry.emitToBuffer() }

    /// Reservations made through this server that are still open.
    public var openReservations: Int { open.load(ordering: .relaxed) }

    func request(endpoint: String, status: Int) {
        CoreMetrics.Counter(label: "bats_requests_total", dimensions: [("endpoint", endpoint), ("status", "\(status)")], factory: factory).increment()
    }

    func refused(tier: Complexity?, binding: BudgetSnapshot.Binding?) {
        CoreMetrics.Counter(
            label: "bats_refusals_total",
            dimensions: [
                ("tier", tier?.rawValue ?? "unknown"), ("scope", binding?.scope ?? "global"),
                ("window", binding.map { $0.isDaily ? "day" : "month" } ?? "unknown"),
            ], factory: factory
        ).increment()
    }

    func routed(_ r: RouteRecord) {
        let model = r.model.rawValue, tier = r.tier.rawValue
        if r.reason == .downgradedForBudget {
            CoreMetrics.Counter(label: "bats_downgrades_total", dimensions: [("tier", tier), ("model", model)], factory: factory).increment()
        }
        if r.attempts.count > 1 {
            CoreMetrics.Counter(label: "bats_fallbacks_total", dimensions: [("tier", tier), ("model", model)], factory: factory).increment()
        }
        let micros = max(0, r.cost.rawValue)
        CoreMetrics.Counter(label: "bats_spend_micros_total", dimensions: [("model", model), ("tier", tier)], factory: factory).increment(by: micros)
        for s in r.scopes {
            CoreMetrics.Counter(label: "bats_scope_spend_micros_total", dimensions: [("scope", s)], factory: factory).increment(by: micros)
        }
    }

    func reserved(after duration: Duration, opened: Bool) {
        reservation.recordNanoseconds(Self.nanoseconds(duration))
        if opened { openGauge.record(open.add(1, ordering: .relaxed).newValue) }
    }

    func closed() { openGauge.record(open.subtract(1, ordering: .relaxed).newValue) }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds.multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ c.attoseconds / 1_000_000_000
    }
}
