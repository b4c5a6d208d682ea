import Foundation
import ModelSelection
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Reading

extension CallerKeys {
    /// The first line of every keys file ``write(to:)`` makes.
    static let header = "# bats caller keys: secrets are stored as SHA-256 only"

    /// Loads a keys file (YAML): `keys:`, a list of entries with `name`, `sha256` (64 hex digits), and optionally
    /// `tags`, `daily_budget` and `monthly_budget` (dollars, read exactly). An empty file has no keys.
    ///
    /// A secret in the file (a `secret:` or `key:` field, a value that looks like a key, or a `bats-…` secret
    /// anywhere, comments included) is an error that never shows it.
    /// - Parameter path: The file; errors name it as given.
    /// - Returns: The checked keys.
    /// - Throws: ``ConfigurationError/List`` with every problem, each naming the file, the line and the key
    ///   (`keys[1].sha256`).
    public static func load(contentsOf path: String) throws(ConfigurationError.List) -> CallerKeys {
        let entries = try entries(contentsOf: path, sourceName: path)
        let problems = Self.problems(entries)
        guard problems.isEmpty else { throw .init(problems) }
        return CallerKeys(checked: entries.map(\.key))
    }

    /// The entries of a keys file, each with its line, checked one by one (not yet for repeats).
    static func entries(contentsOf path: String, sourceName: String) throws(ConfigurationError.List) -> [Entry] {
        let data: Data
        do { data = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd() ?? Data() } catch {
            throw .init([.unreadable(file: sourceName, message: "cannot read the keys file (\(DeploymentConfiguration.reason(error)))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .init([.unreadable(file: sourceName, message: "the keys file is not UTF-8 text")])
        }
        return try entries(parsing: text, sourceName: sourceName)
    }

    /// The entries of a keys file's text.
    static func entries(parsing text: String, sourceName: String) throws(ConfigurationError.List) -> [Entry] {
        // A secret pasted anywhere, a comment included, before YAML can drop it.
        let pasted = SecretDetector.callerKeySecretLines(in: text)
        guard pasted.isEmpty else {
            let message = "this line holds a caller key's secret; " + SecretDetector.callerKeyAdvice
            throw .init(pasted.map { .inlineSecret(file: sourceName, line: $0, column: 1, key: "", message: message) })
        }
        let root: Node
        do { root = try Yams.compose(yaml: text) ?? Node.mapping(.init([])) } catch {
            throw .init([DeploymentConfiguration.syntaxError(error, file: sourceName, text: text)])
        }
        var reader = NodeReader(file: sourceName)
        var entries: [Entry] = []
        if let top = reader.table(root, at: "", keys: ["keys"], secretAdvice: SecretDetector.callerKeyAdvice), let list = top["keys"] {
            entries = reader.callerKeys(list, at: "keys") ?? []
        }
        guard reader.errors.isEmpty else { throw .init(reader.errors) }
        return entries
    }
}

// MARK: - Writing

extension CallerKeys {
    /// Writes a keys file in the format ``load(contentsOf:)`` reads, replacing the file atomically; the file has
    /// mode 0600 (owner read and write only), whether it is new or replaced.
    ///
    /// It writes a temporary file next to the target, flushes it and renames it over the target, so that a reader
    /// sees the old keys or the new ones, never a part. A symbolic link is followed: its target is replaced.
    /// - Parameter path: The file.
    /// - Throws: ``ConfigurationError`` (`isUnwritable`) naming the file and why.
    public func write(to path: String) throws(ConfigurationError) {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let directory = (target as NSString).deletingLastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\((target as NSString).lastPathComponent).\(UUID().uuidString).tmp"
        func fail(_ what: String) -> ConfigurationError {
            .unwritable(file: path, message: "cannot write the keys file: \(what) (\(String(cString: strerror(errno))))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail("cannot create a temporary file in its directory") }
        var closed = false
        defer {
            if !closed { close(fd) }
            unlink(temporary)
        }
        // The mode asked of open is masked by the umask; set it outright.
        guard fchmod(fd, 0o600) == 0 else { throw fail("cannot set its mode") }
        let bytes = Array(yaml.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot write")
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw fail("cannot flush") }
        closed = true
        guard close(fd) == 0 else { throw fail("cannot close") }
        guard rename(temporary, target) == 0 else { throw fail("cannot replace it") }
    }

    /// The file's text: the header, then `keys:` and one entry a key, in order.
    var yaml: String {
        var lines = [Self.header]
        guard !keys.isEmpty else { return (lines + ["keys: []", ""]).joined(separator: "\n") }
        lines.append("keys:")
        for key in keys {
            lines.append("  - name: \(Self.yamlScalar(key.name))")
            lines.append("    sha256: \(key.digestHex)")
            if !key.tags.isEmpty {
                let tags = key.tags.sorted { $0.key < $1.key }.map { "\(Self.yamlScalar($0.key)): \(Self.yamlScalar($0.value))" }
                lines.append("    tags: {\(tags.joined(separator: ", "))}")
            }
            if let d = key.daily { lines.append("    daily_budget: \(Self.dollars(d))") }
            if let m = key.monthly { lines.append("    monthly_budget: \(Self.dollars(m))") }
        }
        return (lines + [""]).joined(separator: "\n")
    }

    /// An amount as exact dollars with at least two decimals and no sign: `5.00`, `1.50`, `0.000001`.
    static func dollars(_ m: MicroDollars) -> String {
        var text = m.decimalString
        while text.hasSuffix("0"), let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
            text.removeLast()
        }
        return text
    }

    /// A string as a YAML scalar: plain when it is a simple word, else double-quoted with escapes, so that it reads
    /// back as the same text.
    static func yamlScalar(_ s: String) -> String {
        let simple = (s.unicodeScalars.first.map { SecretDetector.isBase64URL($0) && $0 != "-" } ?? false)
            && s.unicodeScalars.allSatisfy { SecretDetector.isBase64URL($0) || $0 == "." }
            && !["null", "Null", "NULL"].contains(s)
        guard !simple else { return s }
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where c.value < 0x20 || c.value == 0x7f || c.value == 0x85 || c.value == 0x2028 || c.value == 0x2029 || c.value == 0xfeff:
                out += c.value <= 0xff ? "\\x" + String(format: "%02X", c.value) : "\\u" + String(format: "%04X", c.value)
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

/// `write(2)`, out of reach of ``CallerKeys/write(to:)``'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
