import BATS
import Foundation
import Gateway
import Hummingbird
import ModelSelection
import NIOCore
import Replay
import SpendLedger

extension ServerHandlers {
    /// `GET /health`: 200 with `{"live": true, "ready": true, "ledger": "ok"}` when the ledger answers a budget read,
    /// 503 with the ledger's error otherwise. `GET /health/live` is liveness alone.
    func health() async -> Response {
        do {
            _ = try await router.ledger.snapshot(at: router.currentDate)
            return Self.json(WireJSON.encode(JSONValue.object(["live": .bool(true), "ready": .bool(true), "ledger": .string("ok")])))
        } catch {
            return Self.json(
                WireJSON.encode(JSONValue.object(["live": .bool(true), "ready": .bool(false), "ledger": .string("\(error)")])),
                status: .serviceUnavailable)
        }
    }

    /// `GET /metrics`: the Prometheus text exposition.
    func metricsText(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: server.metrics.render())))
    }

    /// `GET /v1/bats/budget`: every window and scope (spent, reserved, remaining), the forecast, spend by model, tier
    /// and agent today and this month, this month day by day, and the latest refusals and downgrades.
    func budget(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        Self.json(WireJSON.encode(try await budgetDocument()))
    }

    func budgetDocument() async throws -> BudgetDocument {
        let now = router.currentDate
        let reports = server.reports
        let snapshot = try await reports.reportSnapshot(at: now)
        let calendar = router.ledger.calendar
        var doc = BudgetDocument(timeZone: calendar.zoneName, snapshot: snapshot, forecasts: try await reports.reportForecast(at: now))
        doc.asOf = ISO8601DateFormatter().string(from: now)
        let day = snapshot.daily.key
        let monthStart = snapshot.monthly.key + "-01"
        doc.today = try await breakdown(since: day, until: day)
        doc.thisMonth = try await breakdown(since: monthStart, until: day)
        doc.days = try await days(since: monthStart, until: day)
        doc.recent = try await reports.reportRecentDecisions(limit: server.configuration.recentDecisions).map(BudgetDocument.Decision.init)
        return doc
    }

    private func breakdown(since: String, until: String) async throws -> BudgetDocument.Breakdown {
        let reports = server.reports
        let model = try await reports.reportSpend(by: .model, since: since, until: until)
        let tier = try await reports.reportSpend(by: .tier, since: since, until: until)
        let agent = try await reports.reportSpend(by: .tag("agent"), since: since, until: until)
        return .init(
            byModel: model.rows.map(BudgetDocument.Row.init), byTier: tier.rows.map(BudgetDocument.Row.init),
            byAgent: agent.rows.map(BudgetDocument.Row.init), total: .init(model.totals))
    }

    /// This month day by day, each day's spend by model (one audit per day that has entries).
    private func days(since: String, until: String) async throws -> [BudgetDocument.Day] {
        let reports = server.reports
        let byDay = try await reports.reportSpend(by: .day, since: since, until: until)
        var out: [BudgetDocument.Day] = []
        for row in byDay.rows.sorted(by: { $0.group < $1.group }) {
            let models = try await reports.reportSpend(by: .model, since: row.group, until: row.group)
            out.append(
                .init(
                    date: row.group, spent: JSONDollars(row.charged),
                    byModel: Dictionary(models.rows.map { ($0.group, JSONDollars($0.charged)) }, uniquingKeysWith: { a, _ in a })))
        }
        return out
    }

    /// `GET /dashboard/chart.svg`: this month's daily spend by model against the daily limit (the replay's renderer).
    func chart(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        let now = router.currentDate
        let snapshot = try await server.reports.reportSnapshot(at: now)
        let doc = try await days(since: snapshot.monthly.key + "-01", until: snapshot.daily.key)
        let days = doc.map { d in
            SpendChart.Day(
                date: d.date,
                // Models with spend only: refused calls (no model, $0) are not a series.
                byModel: d.byModel.filter { ($0.value.amount ?? .zero) > .zero }.sorted { $0.key < $1.key }
                    .map { SpendChart.ModelSpend(model: $0.key, spend: $0.value.amount ?? .zero) },
                limit: snapshot.daily.limit)
        }
        let svg: String
        if days.isEmpty {
            svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="960" height="80"><text x="20" y="45" font-family="sans-serif" font-size="16">No spend yet this month.</text></svg>"#
        } else {
            svg = try SpendChart(days: days, configuration: .init(title: "Daily spend by model vs. daily limit, \(snapshot.monthly.key)")).render()
        }
        return Self.text(svg, type: "image/svg+xml")
    }

    /// `GET /dashboard`: the page (no external scripts or fonts); it reads `/v1/bats/budget` and refreshes itself.
    func dashboard(_ request: Request, _ context: ServerRequestContext, _ requestID: String) async throws -> Response {
        Self.text(DashboardPage.html(refreshSeconds: Int(server.configuration.dashboardRefresh.components.seconds)), type: "text/html; charset=utf-8")
    }
}
