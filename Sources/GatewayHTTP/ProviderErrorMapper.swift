import Foundation
import Gateway

/// Turns an error reply (status, headers, body) into a ``GatewayError``. Pure, so it is tested without a server.
enum ProviderErrorMapper {
    /// The provider's error envelope, from the shapes OpenAI-compatible providers use:
    /// `{"error":{"message","type","code"}}`, `{"error":"…"}`, `{"message":…}`, `{"detail":…}`, `[{"error":…}]`.
    struct Envelope: Equatable {
        var type: String?
        var code: String?
        var message: String?

        var text: String { [type, code, message].compactMap { $0 }.joined(separator: " ").lowercased() }
    }

    static func envelope(in body: [UInt8]) -> Envelope? {
        guard let first = body.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return nil }
        guard var json = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else { return nil }
        if case .array(let a) = json, let f = a.first { json = f }
        func string(_ v: JSONValue?) -> String? {
            switch v {
            case .string(let s)?: s
            case .integer(let i)?: String(i)
            case .number(let d)?: String(d)
            default: nil
            }
        }
        if let e = json["error"] {
            if let s = e.stringValue { return Envelope(type: nil, code: nil, message: s) }
            if e.objectValue != nil {
                return Envelope(type: string(e["type"]) ?? string(e["status"]), code: string(e["code"]), message: string(e["message"]))
            }
        }
        if json["message"] != nil || json["type"] != nil || json["code"] != nil {
            return Envelope(type: string(json["type"]), code: string(json["code"]), message: string(json["message"]))
        }
        if let d = json["detail"] {
            return Envelope(type: nil, code: nil, message: string(d) ?? d.compactJSON)
        }
        return nil
    }

    private static let creditMarkers = [
        "insufficient_quota", "insufficient quota", "insufficient_credit", "insufficient credit", "insufficient_funds",
        "insufficient funds", "insufficient balance", "insufficient_balance", "credit balance", "out of credit",
        "payment required", "billing",
    ]
    private static let modelMarkers = [
        "model_not_found", "model not found", "unknown model", "no such model", "invalid model", "model does not exist",
        "does not exist", "not a valid model", "unsupported model",
    ]

    /// Maps an error reply.
    /// - Parameters:
    ///   - status: The HTTP status (`nil` for an error envelope inside a 200 or a stream).
    ///   - headers: Response headers, names lowercased.
    ///   - body: The (possibly truncated) body.
    ///   - model: The model the call was for.
    ///   - redactor: Applied to everything copied out of the headers and the body, before any truncation.
    ///   - now: The current time, for an HTTP-date Retry-After.
    static func map(
        status: Int?, headers: [String: String], body: [UInt8], model: String?, redactor: SecretRedactor, now: Date = Date()
    ) -> GatewayError {
        let env = envelope(in: body)
        let text = env?.text ?? ""
        let kind: GatewayError.Kind
        switch status {
        case 401?, 403?: kind = .authentication
        case 402?: kind = .insufficientCredit
        case _ where creditMarkers.contains(where: text.contains): kind = .insufficientCredit
        case 404?: kind = .modelNotFound
        case _ where text.contains("model") && modelMarkers.contains(where: text.contains): kind = .modelNotFound
        case 408?: kind = .timeout
        case 429?: kind = .rateLimited
        case let s? where s >= 500: kind = .server
        case let s? where s >= 400: kind = .badRequest
        case nil where text.contains("rate_limit") || text.contains("rate limit"): kind = .rateLimited
        case nil where text.contains("overloaded") || text.contains("server_error") || text.contains("internal"): kind = .server
        default: kind = .invalidResponse
        }
        var error = GatewayError(
            kind: kind, status: status, providerType: clipped(redactor.redact(env?.type), 200),
            providerCode: clipped(redactor.redact(env?.code), 200), providerMessage: clipped(redactor.redact(env?.message), 500),
            requestID: requestID(in: headers, redactor: redactor), retryAfter: retryAfter(in: headers, now: now), model: redactor.redact(model)
        )
        if env == nil && !body.isEmpty { error.bodyExcerpt = excerpt(body, redactor: redactor) }
        return error
    }

    /// The request id from the usual headers, redacted (a provider may echo anything there, the key included).
    static func requestID(in headers: [String: String], redactor: SecretRedactor) -> String? {
        for name in ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"] {
            if let v = headers[name], !v.isEmpty { return clipped(redactor.redact(v), 200) }
        }
        return nil
    }

    /// At most `limit` characters of an already redacted text (redacting first means a key cut by the limit
    /// cannot leave a piece behind).
    static func clipped(_ s: String?, _ limit: Int) -> String? {
        s.map { String($0.prefix(limit)) }
    }

    /// Retry-After in seconds (`120`, `1.5`) or as an HTTP date, or `retry-after-ms`; `nil` when absent or unparsable.
    static func retryAfter(in headers: [String: String], now: Date) -> Duration? {
        // Clamped to a day before converting: a hostile `1e300` must not trap the conversion to Int64.
        if let ms = headers["retry-after-ms"].flatMap({ Double($0.trimmingWhitespace) }), ms >= 0, ms.isFinite {
            return .nanoseconds(Int64(min(ms, 86_400_000) * 1e6))
        }
        guard let raw = headers["retry-after"]?.trimmingWhitespace, !raw.isEmpty else { return nil }
        if let s = Double(raw), s.isFinite, s >= 0 { return .nanoseconds(Int64(min(s, 86_400) * 1e9)) }
        if let date = HTTPDate.parse(raw) {
            let delta = max(0, date.timeIntervalSince(now))
            return .nanoseconds(Int64(min(delta, 86_400) * 1e9))
        }
        return nil
    }

    /// Up to 200 characters of a non-JSON body, whitespace collapsed, the key redacted (before the cut).
    static func excerpt(_ body: [UInt8], redactor: SecretRedactor) -> String {
        var text = String(decoding: body.prefix(4096), as: UTF8.self)
        // A word cut at 4096 bytes could be the start of a key too short to recognise: drop it.
        // (Without any whitespace the cut lies far beyond the 200 characters shown.)
        if body.count > 4096, let space = text.lastIndex(where: \.isWhitespace) { text = String(text[..<space]) }
        var out = ""
        var lastWasSpace = false
        for ch in text {
            if ch.isWhitespace || ch.isNewline {
                if !lastWasSpace && !out.isEmpty { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(ch)
                lastWasSpace = false
            }
        }
        return String(redactor.redact(out).prefix(200))
    }
}

/// Parses IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP-date form Retry-After uses.
enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func parse(_ s: String) -> Date? {
        // "Sun, 06 Nov 1994 08:49:37 GMT" → ["06", "Nov", "1994", "08:49:37", "GMT"]
        var parts = s.split(separator: " ").map(String.init)
        if parts.first?.hasSuffix(",") == true { parts.removeFirst() }
        guard parts.count >= 4, let day = Int(parts[0]), let monthIndex = months.firstIndex(of: parts[1].lowercased()),
            let year = Int(parts[2]), (1...9999).contains(year)
        else { return nil }
        let hms = parts[3].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (1...31).contains(day), (0...23).contains(hms[0]), (0...59).contains(hms[1]),
            (0...60).contains(hms[2])
        else { return nil }
        let days = daysFromCivil(year: year, month: monthIndex + 1, day: day)
        let seconds = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2]
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
