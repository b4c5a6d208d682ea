public import Foundation
import ModelSelection
public import SpendLedger

/// The JSON a webhook receives for one alert (docs/alerts.md). Money is exact decimal dollars as strings.
public enum BudgetAlertPayload {
    struct Body: Encodable {
        var eventID: String
        var id: Int64
        var kind: String
        var scope: String?
        var period: String?
        var window: String?
        var thresholdPercent: String?
        var spentUSD: String
        var limitUSD: String?
        var entryID: Int64?
        var firedAt: String
        var summary: String

        enum CodingKeys: String, CodingKey {
            case eventID = "event_id", id, kind, scope, period, window, thresholdPercent = "threshold_percent", spentUSD = "spent_usd"
            case limitUSD = "limit_usd", entryID = "entry_id", firedAt = "fired_at", summary
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(eventID, forKey: .eventID)
            try c.encode(id, forKey: .id)
            try c.encode(kind, forKey: .kind)
            try c.encode(scope, forKey: .scope)
            try c.encode(period, forKey: .period)
            try c.encode(window, forKey: .window)
            try c.encode(thresholdPercent, forKey: .thresholdPercent)
            try c.encode(spentUSD, forKey: .spentUSD)
            try c.encode(limitUSD, forKey: .limitUSD)
            try c.encode(entryID, forKey: .entryID)
            try c.encode(firedAt, forKey: .firedAt)
            try c.encode(summary, forKey: .summary)
        }
    }

    /// A stable id for the receiver to drop a repeat: `bats-alert-ID-KIND`.
    public static func eventID(_ a: BudgetAlert) -> String { "bats-alert-\(a.id)-\(a.kind.rawValue)" }

    /// The body, keys sorted.
    /// - Throws: `EncodingError` (never for a well-formed alert).
    public static func encode(_ a: BudgetAlert) throws -> [UInt8] {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let ppm = a.thresholdPartsPerMillion
        let body = Body(
            eventID: eventID(a), id: a.id, kind: a.kind.rawValue, scope: a.scope, period: a.period?.rawValue, window: a.windowKey,
            thresholdPercent: ppm.map(BudgetAlertThreshold.percentText), spentUSD: a.spent.decimalString,
            limitUSD: a.limit?.decimalString, entryID: a.entryID, firedAt: f.string(from: a.firedAt), summary: a.summary)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Array(try e.encode(body))
    }
}
