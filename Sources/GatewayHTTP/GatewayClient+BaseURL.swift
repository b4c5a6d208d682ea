import Foundation
public import Gateway

// MARK: - Base URL validation

extension GatewayClient.Configuration {
    /// Checks that the base URL can be used, without sending anything.
    ///
    /// Every call runs the same check before its first request, so a malformed URL fails the call with a clear
    /// error instead of trapping inside the HTTP stack (an out-of-range port such as `:99999` used to stop the
    /// process). The URL must:
    /// - hold no spaces or control characters (surrounding whitespace and trailing `/` are ignored);
    /// - start with `http://` or `https://` (any case);
    /// - name a host (a name, an IPv4 address, or an IPv6 address in brackets);
    /// - have no port, or a port of 1 to 65535 written in digits;
    /// - carry no credentials (`user:password@`), query (`?…`) or fragment (`#…`): the endpoint paths are appended
    ///   to it, and the key travels in the `Authorization` header.
    /// - Throws: ``GatewayError`` of kind ``GatewayError/Kind/configuration`` naming the URL (credentials, query,
    ///   fragment and the API key removed) and what is wrong with it.
    public func validate() throws {
        _ = try validatedBaseURL()
    }

    /// The base URL to append endpoint paths to: trimmed, without trailing `/`, scheme lower-cased.
    /// - Throws: ``GatewayError`` of kind ``GatewayError/Kind/configuration``.
    func validatedBaseURL() throws -> String {
        var base = baseURL.trimmingWhitespace
        while base.hasSuffix("/") { base.removeLast() }
        func failure(_ reason: String) -> GatewayError {
            GatewayError(kind: .configuration, detail: "the base URL '\(Self.shown(base, redactor: GatewayClient.redactor(for: self)))' is not usable: \(reason)")
        }
        guard !base.isEmpty else { throw failure("it is empty") }
        if base.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw failure("it contains a space or a control character")
        }
        guard let separator = base.range(of: "://") else { throw failure("it must start with http:// or https://") }
        let scheme = base[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { throw failure("it must start with http:// or https://") }
        let rest = base[separator.upperBound...]
        let authority = rest[..<(rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex)]
        if authority.contains("@") {
            throw failure("it holds credentials (user:password@); pass the key as the API key instead")
        }
        if rest.contains("?") { throw failure("it has a query (?…); the endpoint paths are appended to the base URL") }
        if rest.contains("#") { throw failure("it has a fragment (#…); the endpoint paths are appended to the base URL") }

        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw failure("its IPv6 host has no closing ]") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if let first = after.first {
                guard first == ":" else { throw failure("it has unexpected text after the IPv6 host") }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, host != "[]" else { throw failure("it has no host") }
        if let port, !port.isEmpty {
            guard port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(port), (1...65_535).contains(n) else {
                throw failure("its port '\(port)' is not a number from 1 to 65535")
            }
        }
        let normalized = scheme + "://" + rest
        guard let url = URL(string: normalized), let parsedHost = url.host, !parsedHost.isEmpty else {
            throw failure("it is not a valid URL")
        }
        if let p = url.port, !(1...65_535).contains(p) { throw failure("its port \(p) is not from 1 to 65535") }
        return normalized
    }

    /// The URL as it may be shown: credentials, query and fragment replaced, the key redacted, at most 200 characters.
    static func shown(_ url: String, redactor: SecretRedactor) -> String {
        var s = url
        if let separator = s.range(of: "://") {
            let rest = s[separator.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@") {
                s = String(s[..<separator.upperBound]) + "<redacted>" + String(rest[at...])
            }
        }
        if let q = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = String(s[..<q]) + String(s[q]) + "<redacted>" }
        s = redactor.redact(s)
        var printable = ""
        for u in s.unicodeScalars {
            printable.unicodeScalars.append(u.value < 0x20 || u.value == 0x7F ? "?" : u)
        }
        return printable.count > 200 ? String(printable.prefix(200)) + "…" : printable
    }
}
