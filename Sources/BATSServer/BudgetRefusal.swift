import BATS
import Foundation
import Gateway
import HTTPTypes
import ModelSelection
import SpendLedger

/// The 429 of a budget refusal: `type` and `code` `budget_exceeded`, the window or scope that bound, what it has left,
/// the cheapest estimate, and `Retry-After` at the start of the next window.
///
/// ```json
/// {"error": {"type": "budget_exceeded", "code": "budget_exceeded", "message": "…", "param": null,
///            "window": "day", "window_key": "2026-12-03", "scope": "tag:agent=scanner",
///            "remaining_usd": 0.0012, "remaining_micros": 1200,
///            "cheapest_estimate_usd": 0.0042, "cheapest_estimate_micros": 4200, "cheapest_model": "deepseek-v3",
///            "tier": "medium", "retry_after_seconds": 3600}}
/// ```
enum BudgetRefusal {
    static func error(_ e: RoutingError, calendar: BudgetCalendar, now: Date) -> OpenAIError {
        let refusal = e.refusal
        let binding = refusal?.binding
        let daily: Bool
        let remaining: MicroDollars?
        if let binding {
            daily = binding.isDaily
            remaining = binding.available
        } else {
            let d = refusal?.dailyAvailable, m = refusal?.monthlyAvailable
            switch (d, m) {
            case (let d?, let m?): daily = d <= m
            case (nil, _?): daily = false
            default: daily = true
            }
            remaining = daily ? d : m
        }
        let window = daily ? calendar.day(containing: now) : calendar.month(containing: now)
        let retry = max(1, Int(window.end.timeIntervalSince(now).rounded(.up)))
        var o = OpenAIError(
            status: .tooManyRequests, message: "budget exceeded: " + (refusal?.summary ?? e.detail), type: "budget_exceeded",
            code: "budget_exceeded")
        o.fields["window"] = .string(daily ? "day" : "month")
        o.fields["window_key"] = .string(binding?.key ?? window.key)
        o.fields["scope"] = binding?.scope.map(JSONValue.string) ?? .null
        o.fields["remaining_usd"] = dollars(remaining)
        o.fields["remaining_micros"] = remaining.map { .integer($0.rawValue) } ?? .null
        o.fields["cheapest_estimate_usd"] = dollars(refusal?.cheapestEstimate)
        o.fields["cheapest_estimate_micros"] = refusal?.cheapestEstimate.map { .integer($0.rawValue) } ?? .null
        o.fields["cheapest_model"] = refusal?.cheapestModel.map { .string($0.rawValue) } ?? .null
        o.fields["tier"] = e.tier.map { .string($0.rawValue) } ?? .null
        o.fields["retry_after_seconds"] = .integer(Int64(retry))
        o.headers[.retryAfter] = "\(retry)"
        // The official SDKs honour this: a refusal is not retried after a short backoff (it holds until the window ends).
        o.headers[HTTPField.Name("x-should-retry")!] = "false"
        return o
    }

    /// Dollars as a JSON number, exact to the micro-dollar.
    static func dollars(_ m: MicroDollars?) -> JSONValue {
        guard let m else { return .null }
        return .number(NSDecimalNumber(decimal: m.decimalValue).doubleValue)
    }
}
