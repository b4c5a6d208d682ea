import Foundation
import Testing

/// Runs the built `bats` executable as a child process.
///
/// `swift test` builds it next to the test bundle (`.build/<triple>/debug/bats`); `BATS_BINARY` overrides the path.
enum BATSChild {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let url: URL? = {
        if let p = ProcessInfo.processInfo.environment["BATS_BINARY"] { return URL(fileURLWithPath: p) }
        var candidates: [URL] = []
        // The xctest bundle (or runner) sits in the same folder as the executable.
        let arg0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(arg0.deletingLastPathComponent().appendingPathComponent("bats"))
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("bats"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/bats"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// The executable, or a test failure saying how to build it.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        try #require(url, "the bats executable was not found next to the test bundle; run `swift build` first or set BATS_BINARY", sourceLocation: sourceLocation)
    }

    /// Starts `bats ARGS` with stdout and stderr sent to files; the caller waits or kills it.
    static func start(_ arguments: [String], output: URL, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = try require()
        p.arguments = arguments
        // A caller's BATS_CONFIG or BATS_LEDGER_URL would change every command's budget and ledger: the child gets
        // only the test's own.
        var env = ProcessInfo.processInfo.environment
        env["BATS_CONFIG"] = nil
        env["BATS_LEDGER_URL"] = nil
        p.environment = env.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: output.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: output.path + ".err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + ".err"))
        try p.run()
        return p
    }

    /// Waits for a started process without blocking a cooperative thread for long.
    static func wait(_ p: Process, output: URL) async throws -> Output {
        while p.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: output.path + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? ""
        return Output(status: p.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs `bats ARGS` to completion.
    static func run(_ arguments: [String], scratch: URL, environment: [String: String] = [:]) async throws -> Output {
        let base = scratch.appendingPathComponent("run-\(UUID().uuidString)")
        return try await wait(try start(arguments, output: base, environment: environment), output: base)
    }
}

/// Caps how many `bats` children ``BATSRun`` runs at once, so the command-line suites can run their cases in
/// parallel without starting dozens of processes on a 2-core machine. Waiting for a slot suspends; it never blocks
/// a thread.
actor ChildLimiter {
    /// The limiter ``BATSRun`` uses: eight children at a time. Much lower makes the command-line cases a queue that
    /// finishes last when the machine is loaded (each child's start-up is latency, not only CPU); unbounded starts
    /// 80 processes at once.
    static let shared = ChildLimiter(limit: 8)

    private let limit: Int
    private var running = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Runs `body` once a slot is free.
    func withSlot<R: Sendable>(_ body: @Sendable () async throws -> R) async rethrows -> R {
        if running < limit {
            running += 1
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        defer {
            if waiters.isEmpty { running -= 1 } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
