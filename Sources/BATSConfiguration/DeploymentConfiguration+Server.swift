// MARK: - Server

extension DeploymentConfiguration {
    /// `bats serve`, the OpenAI-compatible HTTP sidecar: where it listens, its limits, and the caller keys it
    /// accepts (its own keys, never the gateway's).
    ///
    /// `nil` fields are unset; the server then uses the defaults (``defaultHost``, ``defaultPort``,
    /// ``defaultMaxBodyBytes``, ``defaultShutdownGrace``).
    public struct Server: Sendable, Hashable {
        /// The address to listen on (`127.0.0.1`, `0.0.0.0`, `::1`, a host name), or `nil` for ``defaultHost``.
        public var host: String?
        /// The TCP port, 0...65535 (0: any free port), or `nil` for ``defaultPort``.
        public var port: Int?
        /// The caller keys file, resolved against the configuration file's directory, or `nil` for none.
        public var keysFile: String?
        /// Caller keys written in the configuration file itself (hashed only), in their order.
        public var keys: [CallerKey]
        /// The largest request body accepted, in bytes (1 KiB ... 64 MiB), or `nil` for ``defaultMaxBodyBytes``.
        public var maxBodyBytes: Int?
        /// How long a shutdown waits for calls in flight (at most 300 s), or `nil` for ``defaultShutdownGrace``.
        public var shutdownGrace: Duration?

        /// Where each of ``keys`` was written (the configuration file, and the line of each key's name), for
        /// messages.
        var origin = Origin()

        /// Where the inline keys were written.
        struct Origin: Sendable, Hashable {
            /// How messages name the configuration file.
            var file = "<server.keys>"
            /// The line and column of each inline key's name, by name.
            var positions: [String: Position] = [:]
        }

        /// A line and a column, from 1.
        struct Position: Sendable, Hashable {
            var line: Int
            var column: Int
        }

        /// The default ``host``: the loopback address only.
        public static let defaultHost = "127.0.0.1"
        /// The default ``port``.
        public static let defaultPort = 8080
        /// The default ``maxBodyBytes``: 4 MiB.
        public static let defaultMaxBodyBytes = 4 * 1_024 * 1_024
        /// The default ``shutdownGrace``: 10 s.
        public static let defaultShutdownGrace = Duration.seconds(10)
        /// The range of ``maxBodyBytes``: 1 KiB ... 64 MiB.
        public static let maxBodyBytesRange = 1_024...(64 * 1_024 * 1_024)
        /// The longest ``shutdownGrace``.
        public static let maxShutdownGrace = Duration.seconds(300)

        /// Creates server settings; every parameter defaults to what a file without `server` gives.
        /// - Parameters:
        ///   - host: The address to listen on, or `nil` for the default.
        ///   - port: The port, or `nil` for the default.
        ///   - keysFile: The caller keys file's path, or `nil` for none.
        ///   - keys: Caller keys given inline.
        ///   - maxBodyBytes: The largest request body, or `nil` for the default.
        ///   - shutdownGrace: The shutdown grace, or `nil` for the default.
        public init(
            host: String? = nil, port: Int? = nil, keysFile: String? = nil, keys: [CallerKey] = [], maxBodyBytes: Int? = nil,
            shutdownGrace: Duration? = nil
        ) {
            self.host = host
            self.port = port
            self.keysFile = keysFile
            self.keys = keys
            self.maxBodyBytes = maxBodyBytes
            self.shutdownGrace = shutdownGrace
        }

        /// Whether two settings are the same (where the keys were written does not count).
        public static func == (lhs: Server, rhs: Server) -> Bool {
            (lhs.host, lhs.port, lhs.keysFile, lhs.keys, lhs.maxBodyBytes, lhs.shutdownGrace)
                == (rhs.host, rhs.port, rhs.keysFile, rhs.keys, rhs.maxBodyBytes, rhs.shutdownGrace)
        }

        /// Hashes the settings (not where the keys were written).
        public func hash(into hasher: inout Hasher) {
            hasher.combine(host)
            hasher.combine(port)
            hasher.combine(keysFile)
            hasher.combine(keys)
            hasher.combine(maxBodyBytes)
            hasher.combine(shutdownGrace)
        }

        /// The caller keys the server accepts: ``keys`` (inline), then the keys of ``keysFile``, read now.
        ///
        /// Read it when the server starts (and again to pick up keys `bats keys add` wrote since).
        /// - Returns: The checked keys; empty when the section configures none.
        /// - Throws: ``ConfigurationError/List``: the keys file's problems (it is missing, unreadable, malformed or
        ///   holds a secret), each naming the file, the line and the key; or a name or a digest both inline and in
        ///   the file.
        public func callerKeys() throws(ConfigurationError.List) -> CallerKeys {
            var entries = keys.enumerated().map { i, key in
                let at = origin.positions[key.name] ?? Position(line: 1, column: 1)
                return CallerKeys.Entry(key: key, file: origin.file, path: "server.keys[\(i)]", line: at.line, column: at.column)
            }
            if let keysFile {
                entries += try CallerKeys.entries(contentsOf: keysFile, sourceName: keysFile)
            }
            let problems = CallerKeys.problems(entries)
            guard problems.isEmpty else { throw .init(problems) }
            return CallerKeys(checked: entries.map(\.key))
        }
    }
}
