import Foundation
import Testing

/// Tools from outside the project the server tests use as clients: the OpenAI Python SDK in a venv, and chromium.
///
/// `.ci/run` installs both. Locally a test that needs a missing one is skipped with the command that installs it;
/// under CI (`CI` set) it runs and fails instead.
enum ExternalTool {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let inCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false

    /// The venv's python with `openai` (`BATS_OPENAI_PYTHON`, else `.build-openai-venv/bin/python`).
    static let python: String? = {
        let p = ProcessInfo.processInfo.environment["BATS_OPENAI_PYTHON"] ?? root.appendingPathComponent(".build-openai-venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }()
    static let pythonHint = "the OpenAI SDK venv is missing: python3 -m venv .build-openai-venv && .build-openai-venv/bin/pip install -r Tests/python/requirements.txt"

    /// Debian's chromium (`BATS_CHROMIUM`, else on the PATH).
    static let chromium: String? = {
        if let p = ProcessInfo.processInfo.environment["BATS_CHROMIUM"] { return FileManager.default.isExecutableFile(atPath: p) ? p : nil }
        for d in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let p = "\(d)/\(name)"
                if FileManager.default.isExecutableFile(atPath: p) { return p }
            }
        }
        return nil
    }()
    static let chromiumHint = "chromium is missing: apt-get install chromium"

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to its end (polling, so no cooperative thread blocks), killing it after `timeout`.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws
        -> Output
    {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = ContinuousClock.now + timeout
        while p.isRunning {
            if ContinuousClock.now > deadline { p.terminate() }
            try await Task.sleep(for: .milliseconds(20))
        }
        p.waitUntilExit()
        return Output(
            status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
