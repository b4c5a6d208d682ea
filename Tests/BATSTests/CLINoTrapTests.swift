import BATSTestSupport
import Foundation
import Testing

/// Runs the built `bats` executable and reports how it ended: by a status, or killed by a signal (a Swift trap is
/// SIGILL or SIGTRAP). `BATS_BINARY` overrides the executable (to run these tests against another build).
enum BATSRun {
    struct Result {
        var status: Int32
        var bySignal: Bool
        var stdout: String
        var stderr: String

        /// The non-empty lines of standard error.
        var errorLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }

        /// What a failed run must look like: ended by an exit status, without Swift's crash report.
        var crashed: Bool {
            bySignal || ["Fatal error", "Swift runtime failure", "Backtracing", "Stack dump", "Illegal instruction"].contains { stderr.contains($0) }
        }
    }

    static var url: URL? {
        if let p = ProcessInfo.processInfo.environment["BATS_BINARY"] { return URL(fileURLWithPath: p) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("bats"),
            root.appendingPathComponent(".build/debug/bats"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `bats ARGS` in `directory` with `environment` added to this process's, and a timeout.
    ///
    /// It waits with `Task.sleep`, never by blocking a thread: on a 2-core machine the cooperative pool has two
    /// threads, and a test blocked in `usleep` or a pipe read stalls every other test of a parallel run. At most
    /// ``ChildLimiter/shared``'s limit of children run at once, however many tests call it.
    static func run(
        _ arguments: [String], in directory: URL, environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> Result {
        try await ChildLimiter.shared.withSlot {
            try await runNow(arguments, in: directory, environment: environment, timeout: timeout)
        }
    }

    private static func runNow(_ arguments: [String], in directory: URL, environment: [String: String], timeout: Duration) async throws -> Result {
        let binary = try #require(url, "the bats executable is not built: run `swift build` before `swift test`")
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment
        // No real gateway, API key or ledger key of the caller is ever used by these runs; a test passes its own.
        for k in ["LLM_GATEWAY_API_KEY", "TARS_API_KEY", "TETRATE_API_KEY", "LLM_GATEWAY_BASE_URL", "TARS_API_BASE", "BATS_LEDGER_KEY", "BATS_LEDGER_KEY_FILE", "BATS_CONFIG", "BATS_LEDGER_URL", "BATS_LEDGER_PASSWORD"] {
            env[k] = nil
        }
        env["SWIFT_BACKTRACE"] = "enable=no"
        env.merge(environment) { $1 }
        p.environment = env
        let base = directory.appendingPathComponent("run-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: base.path + ".out", contents: nil)
        _ = FileManager.default.createFile(atPath: base.path + ".err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base.path + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base.path + ".err"))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = ContinuousClock.now + timeout
        while p.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            Issue.record("bats \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: base.path + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: base.path + ".err", encoding: .utf8)) ?? ""
        return Result(status: p.terminationStatus, bySignal: p.terminationReason == .uncaughtSignal, stdout: out, stderr: err)
    }
}

/// Hostile input to every command: absurd numbers, out-of-range dates, empty files, a directory given as a file,
/// absurd prices. Each run must end with an exit status (never a signal), print its error as one `Error:` line (a
/// usage error may add ArgumentParser's usage lines after it), and never print Swift's crash report. Cases run in
/// parallel, each in its own scratch folder; ``BATSRun`` caps how many children run at once.
@Suite("Command line: hostile input never traps")
struct CLINoTrapTests {
    /// A scratch folder with the fixtures the cases name.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bats-notrap-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("adir"), withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        try write("empty", "")
        try write("ok.jsonl", #"{"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":500,"output_tokens":50}"# + "\n")
        try write("hugetokens.jsonl", #"{"ts":"2026-10-01T13:30:00Z","task":"parse_market_data","input_tokens":9223372036854775807,"output_tokens":50}"# + "\n")
        try write("hugeout.jsonl", #"{"ts":"2026-10-01T13:30:00Z","complexity":"critical","input_tokens":1000000000,"output_tokens":1000000000,"max_output_tokens":9223372036854775807}"# + "\n")
        try write("farfuture.jsonl", #"{"ts":"9999-12-31T23:59:59Z","task":"parse_market_data","input_tokens":5,"output_tokens":5}"# + "\n")
        try write("edges.jsonl", [
            #"{"ts":"1677-09-21T00:12:44Z","task":"execute_trade","input_tokens":5,"output_tokens":5}"#,
            #"{"ts":"2262-04-11T23:47:16Z","task":"execute_trade","input_tokens":5,"output_tokens":5}"#,
            #"{"ts":-9223372036,"complexity":"simple","input_tokens":5,"output_tokens":5}"#,
            #"{"ts":1e300,"complexity":"simple","input_tokens":5,"output_tokens":5}"#,
        ].joined(separator: "\n") + "\n")
        try write("absurd.json", absurdPrices(input: "9000000000000"))
        try write("hugeprice.json", absurdPrices(input: "1e300"))
        try write("maxprice.json", absurdPrices(input: "1000000"))
        try write("litellm-huge.json", #"{"deepseek-chat": {"input_cost_per_token": 1e400, "output_cost_per_token": 1e300}}"#)
        try write("litellm-big.json", #"{"deepseek-chat": {"input_cost_per_token": 9e30, "output_cost_per_token": 1e-300}, "x": {"input_cost_per_token": 1e165}}"#)
        try write("trace.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,100,10\n")
        try write("trace-edges.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n1677-09-22 00:00:00,100,10\n2262-04-10 00:00:00,100,10\n")
        try write("trace-huge.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,999999999999999999999999,10\n9999-12-31 00:00:00,1,1\n")
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("devnull.sqlite").path, withDestinationPath: "/dev/null")
        return dir
    }

    /// The bundled routing models, with DeepSeek V3's input price replaced.
    static func absurdPrices(input: String) -> String {
        """
        {"gateway_margin": "0.05", "models": [
         {"id": "deepseek-v3", "input_per_mtok": \(input), "output_per_mtok": "1.10", "context_window": 128000, "max_output_tokens": 8192},
         {"id": "mistral-medium-3", "input_per_mtok": "0.40", "output_per_mtok": "2", "context_window": 128000, "max_output_tokens": 8192},
         {"id": "kimi-k2", "input_per_mtok": "0.60", "output_per_mtok": "2.50", "context_window": 256000, "max_output_tokens": 8192},
         {"id": "deepseek-r1", "input_per_mtok": "0.55", "output_per_mtok": "2.19", "context_window": 128000, "max_output_tokens": 8192},
         {"id": "claude-opus", "input_per_mtok": "15", "output_per_mtok": "75", "context_window": 200000, "max_output_tokens": 8192}
        ]}
        """
    }

    static let unreachableGateway = ["LLM_GATEWAY_BASE_URL": "http://127.0.0.1:99999/v1", "LLM_GATEWAY_API_KEY": "test-key"]
    static let closedGateway = ["LLM_GATEWAY_BASE_URL": "http://127.0.0.1:9/v1", "LLM_GATEWAY_API_KEY": "test-key"]

    /// One hostile run: its arguments, extra environment, and whether it may succeed (exit 0).
    struct Case: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var environment: [String: String] = [:]
        var mayPass = false
        /// Runs against a loopback server that refuses every call with a 400 (not retried, no fallback): the whole
        /// call path runs (reservation, deadlines, request, release) without waiting out retries against a closed port.
        var refusingGateway = false
        var testDescription: String {
            "bats " + arguments.joined(separator: " ") + environment.map { " \($0)=\($1)" }.joined() + (refusingGateway ? " (gateway: 400)" : "")
        }
    }

    static let cases: [Case] = [
        // replay
        Case(arguments: ["replay", "hugetokens.jsonl"]),
        Case(arguments: ["replay", "hugeout.jsonl"], mayPass: true),
        Case(arguments: ["replay", "hugeout.jsonl", "--prices", "maxprice.json"], mayPass: true),
        Case(arguments: ["replay", "farfuture.jsonl"]),
        Case(arguments: ["replay", "edges.jsonl", "--skip-invalid", "--daily-budget", "1"], mayPass: true),
        Case(arguments: ["replay", "empty"], mayPass: true),
        Case(arguments: ["replay", "adir"]),
        Case(arguments: ["replay", "missing.jsonl"]),
        Case(arguments: ["replay", "ok.jsonl", "--prices", "absurd.json"]),
        Case(arguments: ["replay", "ok.jsonl", "--prices", "hugeprice.json"]),
        Case(arguments: ["replay", "ok.jsonl", "--prices", "adir"]),
        Case(arguments: ["replay", "ok.jsonl", "--prices", "empty"]),
        Case(arguments: ["replay", "ok.jsonl", "--daily-budget", "99999999999999999999"]),
        Case(arguments: ["replay", "ok.jsonl", "--daily-budget", "9223372036854.775807"]),
        Case(arguments: ["replay", "ok.jsonl", "--failure-rate", "nan"]),
        Case(arguments: ["replay", "ok.jsonl", "--batch-size", "9223372036854775807", "--seed", "18446744073709551615"], mayPass: true),
        Case(arguments: ["replay", "ok.jsonl", "--ledger", "adir"]),
        Case(arguments: ["replay", "ok.jsonl", "--ledger", "devnull.sqlite"]),
        Case(arguments: ["replay", "ok.jsonl", "--chart", "adir", "--report", "adir"]),
        // replay --from-ledger
        Case(arguments: ["replay", "--from-ledger", "missing.sqlite"]),
        Case(arguments: ["replay", "--from-ledger", "adir"]),
        Case(arguments: ["replay", "--from-ledger", "devnull.sqlite"]),
        Case(arguments: ["replay", "--from-ledger", "empty"]),
        Case(arguments: ["replay", "--from-ledger", "ok.jsonl"]),
        // audit
        Case(arguments: ["audit", "--ledger", "missing.sqlite"]),
        Case(arguments: ["audit", "--ledger", "adir"]),
        Case(arguments: ["audit", "--ledger", "devnull.sqlite"]),
        Case(arguments: ["audit", "--ledger", "empty"]),
        Case(arguments: ["audit", "--ledger", "ok.jsonl"]),
        Case(arguments: ["audit", "--ledger", "missing.sqlite", "--since", "2026-13-45"]),
        Case(arguments: ["audit", "--ledger", "missing.sqlite", "--since", "99999-01-01"]),
        Case(arguments: ["audit", "--ledger", "missing.sqlite", "--by", "tag:"]),
        // audit verify
        Case(arguments: ["audit", "verify", "--ledger", "missing.sqlite"]),
        Case(arguments: ["audit", "verify", "--ledger", "adir"]),
        Case(arguments: ["audit", "verify", "--ledger", "devnull.sqlite"]),
        Case(arguments: ["audit", "verify", "--ledger", "empty"]),
        // budget
        Case(arguments: ["budget", "--ledger", "missing.sqlite"]),
        Case(arguments: ["budget", "--ledger", "adir"]),
        Case(arguments: ["budget", "--ledger", "devnull.sqlite"]),
        Case(arguments: ["budget", "--ledger", "missing.sqlite", "--at", "9999-99-99T99:99:99Z"]),
        Case(arguments: ["budget", "--ledger", "missing.sqlite", "--daily-budget", "1e400"]),
        // models
        Case(arguments: ["models", "--prices", "absurd.json"]),
        Case(arguments: ["models", "--prices", "adir"]),
        Case(arguments: ["models", "--prices", "missing.json", "--format", "json"]),
        // prices import litellm
        Case(arguments: ["prices", "import", "litellm", "litellm-huge.json"]),
        Case(arguments: ["prices", "import", "litellm", "litellm-big.json"], mayPass: true),
        Case(arguments: ["prices", "import", "litellm", "adir"]),
        Case(arguments: ["prices", "import", "litellm", "absurd.json", "--mapping", "absurd.json"]),
        Case(arguments: ["prices", "import", "litellm", "litellm-big.json", "--write", "adir"]),
        // complete
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "c.sqlite", "--prices", "absurd.json", "hi"]),
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "adir", "hi"]),
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "devnull.sqlite", "hi"]),
        // A closed port is retried until the deadline: 1 s. The longest timeouts run against a refusing server instead,
        // which answers at once (a closed port would be retried with backoff through every fallback for ~30 s).
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "c.sqlite", "--timeout", "1", "hi"], environment: closedGateway),
        Case(arguments: ["complete", "--complexity", "critical", "--ledger", "c.sqlite", "--max-tokens", "9223372036854775807", "--timeout", "2", "hi"],
             refusingGateway: true),
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "c.sqlite", "--timeout", "2", "hi"], environment: unreachableGateway),
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "c.sqlite", "--timeout", "9223372036854775807", "hi"], environment: closedGateway),
        Case(arguments: ["complete", "--complexity", "simple", "--ledger", "c.sqlite", "--timeout", "86400", "hi"], refusingGateway: true),
        Case(arguments: ["complete", "--complexity", "critical", "--ledger", "c.sqlite", "--timeout", "86400", "hi"], refusingGateway: true),
        // simulate
        Case(arguments: ["simulate", "--ledger", "s.sqlite", "--tasks", "3", "--prices", "absurd.json"]),
        Case(arguments: ["simulate", "--ledger", "adir", "--tasks", "3"]),
        Case(arguments: ["simulate", "--ledger", "s.sqlite", "--tasks", "-1"]),
        Case(arguments: ["simulate", "--ledger", "s.sqlite", "--tasks", "3", "--slow-ms", "-5"]),
        Case(arguments: ["simulate", "--ledger", "s.sqlite", "--tasks", "3", "--slow-ms", "9223372036854775807", "--slow-rate", "1"]),
        Case(arguments: ["simulate", "--ledger", "s5.sqlite", "--tasks", "2", "--request-timeout-ms", "9223372036854775807", "--settle-deadline-ms", "9223372036854775807", "--slow-rate", "0", "--cancel-rate", "0"], mayPass: true),
        Case(arguments: ["simulate", "--ledger", "s2.sqlite", "--tasks", "3", "--reservation-ttl", "9223372036854775807", "--slow-rate", "0", "--failure-rate", "0", "--cancel-rate", "0"], mayPass: true),
        Case(arguments: ["simulate", "--ledger", "s3.sqlite", "--tasks", "3", "--busy-timeout-ms", "9223372036854775807", "--slow-rate", "0", "--cancel-rate", "0"], mayPass: true),
        Case(arguments: ["simulate", "--ledger", "s4.sqlite", "--tasks", "3", "--daily-budget", "1000000000", "--critical-share", "1", "--slow-rate", "0", "--cancel-rate", "0"], mayPass: true),
        // workload generate
        Case(arguments: ["workload", "generate", "--start", "9999-12-31", "--days", "5"]),
        Case(arguments: ["workload", "generate", "--start", "0001-01-01", "--days", "5"]),
        Case(arguments: ["workload", "generate", "--start", "2262-03-20", "--days", "30"]),
        Case(arguments: ["workload", "generate", "--start", "2026-02-30"]),
        Case(arguments: ["workload", "generate", "--days", "9223372036854775807"]),
        Case(arguments: ["workload", "generate", "--days", "-9223372036854775808"]),
        Case(arguments: ["workload", "generate", "--start", "2262-04-03", "--days", "5", "--seed", "18446744073709551615", "-o", "g.jsonl"], mayPass: true),
        Case(arguments: ["workload", "generate", "--start", "1677-09-22", "--days", "2", "-o", "g.jsonl"], mayPass: true),
        Case(arguments: ["workload", "generate", "--start", "1677-09-21", "--days", "2"]),
        Case(arguments: ["workload", "generate", "--start", "2026-10-01", "--days", "2", "-o", "adir"]),
        // workload import azure
        Case(arguments: ["workload", "import", "azure", "empty"], mayPass: true),
        Case(arguments: ["workload", "import", "azure", "adir"]),
        Case(arguments: ["workload", "import", "azure", "missing.csv"]),
        Case(arguments: ["workload", "import", "azure", "trace-huge.csv"]),
        Case(arguments: ["workload", "import", "azure", "trace-huge.csv", "--skip-invalid"], mayPass: true),
        Case(arguments: ["workload", "import", "azure", "trace-edges.csv", "--time-scale", "2"]),
        Case(arguments: ["workload", "import", "azure", "trace-edges.csv", "--time-scale", "1e308"]),
        Case(arguments: ["workload", "import", "azure", "trace.csv", "--time-scale", "inf"]),
        Case(arguments: ["workload", "import", "azure", "trace.csv", "--mix", "simple=1e400"]),
    ]

    @Test("every command ends with a status and a one-line error, never a trap", arguments: cases)
    func hostile(_ c: Case) async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r: BATSRun.Result
        if c.refusingGateway {
            r = try await LoopbackGatewayServer.withServer { server in
                server.setFallback(.error(status: 400, message: "refused by the test", type: "invalid_request_error"))
                let gateway = ["LLM_GATEWAY_BASE_URL": server.baseURL, "LLM_GATEWAY_API_KEY": "test-key"]
                let r = try await BATSRun.run(c.arguments, in: dir, environment: c.environment.merging(gateway) { $1 })
                #expect(!server.requests.isEmpty, "the call never reached the gateway")
                return r
            }
        } else {
            r = try await BATSRun.run(c.arguments, in: dir, environment: c.environment)
        }
        #expect(!r.crashed, "trapped (status \(r.status), signal \(r.bySignal)): \(r.stderr.prefix(400))")
        if r.status == 0 {
            #expect(c.mayPass, "expected an error, got success: \(r.stdout.prefix(200))")
            return
        }
        #expect([1, 2, 3, 64].contains(r.status), "status \(r.status): \(r.stderr.prefix(300))")
        let first = r.errorLines.first ?? ""
        #expect(first.hasPrefix("Error: ") && first.count > "Error: ".count + 5, "stderr: \(r.stderr.prefix(300))")
        if r.status == 64 {
            // A usage error: one Error line, then ArgumentParser's usage lines only.
            #expect(r.errorLines.dropFirst().allSatisfy { $0.hasPrefix("Usage:") || $0.hasPrefix("  ") || $0.hasPrefix("Help:") }, "\(r.stderr)")
        } else {
            #expect(r.errorLines.count == 1, "expected one line on stderr, got: \(r.stderr.prefix(600))")
        }
    }
}
