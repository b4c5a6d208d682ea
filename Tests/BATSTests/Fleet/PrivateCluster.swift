import FleetLedger
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of a test's own (Scripts/pg-cluster), for tests that stop and start the server mid-run
/// without disturbing the shared test server.
struct PrivateCluster {
    let dir: URL
    let url: PostgresLedgerURL
    let password: String

    static var script: String {
        PostgresTestServer.environment["BATS_TEST_POSTGRES_SCRIPT"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Scripts/pg-cluster").standardized.path
    }

    static func start() async throws -> PrivateCluster {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("bats-pgp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try await run("start", dir)
        let env = try String(contentsOf: dir.appendingPathComponent("env"), encoding: .utf8)
        var values: [String: String] = [:]
        for line in env.split(separator: "\n") where line.hasPrefix("export ") {
            let kv = line.dropFirst(7).split(separator: "=", maxSplits: 1)
            if kv.count == 2 { values[String(kv[0])] = String(kv[1]).trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) }
        }
        guard let u = values["BATS_TEST_POSTGRES_URL"], let p = values["BATS_TEST_POSTGRES_PASSWORD"] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        return PrivateCluster(dir: dir, url: try PostgresLedgerURL(u), password: p)
    }

    /// Runs the script and waits for it without blocking a cooperative thread (the server it starts outlives it).
    static func run(_ verb: String, _ dir: URL) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        p.arguments = [verb, dir.path]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Reaped here: Foundation's own watch missed this child's exit (a zombie, `isRunning` true for ever) when a
        // test ran alone.
        var status: Int32 = 0
        while true {
            let r = waitpid(p.processIdentifier, &status, WNOHANG)
            if r == p.processIdentifier { break }
            if r < 0 && errno != EINTR {  // reaped by Foundation after all
                while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                status = p.terminationStatus << 8
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw CocoaError(.executableLoad, userInfo: ["verb": verb, "log": dir.appendingPathComponent("pg/log").path])
        }
    }

    /// Stops the server (`pg_ctl -m fast stop`): connections fail and the port is closed.
    func pause() async throws { try await Self.run("pause", dir) }
    /// Starts the same server again, on the same port.
    func resume() async throws { try await Self.run("resume", dir) }
    /// Stops the server and removes its files.
    func stop() async {
        try? await Self.run("stop", dir)
        try? FileManager.default.removeItem(at: dir)
    }
}
