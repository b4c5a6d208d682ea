import BATSCommands
import Foundation
import ModelSelection
import Replay
import SpendLedger
import Testing

// MARK: - Workload lines

@Suite("Cached input tokens in workloads")
struct CachedWorkloadTests {
    @Test("cached_input_tokens is read, null is absent, and the writer round-trips it in its canonical place")
    func parseAndRoundTrip() throws {
        let text = """
            {"ts":"2026-10-01T13:30:00Z","complexity":"simple","input_tokens":800,"cached_input_tokens":600,"output_tokens":50}
            {"ts":"2026-10-01T13:30:01Z","complexity":"simple","input_tokens":800,"cached_input_tokens":0,"output_tokens":50}
            {"ts":"2026-10-01T13:30:02Z","complexity":"simple","input_tokens":800,"cached_input_tokens":800,"output_tokens":50}
            {"ts":"2026-10-01T13:30:03Z","complexity":"simple","input_tokens":800,"cached_input_tokens":null,"output_tokens":50}
            {"ts":"2026-10-01T13:30:04Z","complexity":"simple","output_tokens":50,"cached_input_tokens":7,"input_tokens":9}

            """
        let (tasks, _) = try readWorkload(text)
        #expect(tasks.map(\.cachedInputTokens) == [600, 0, 800, nil, 7])
        let line = WorkloadWriter.line(for: tasks[0])
        #expect(line == #"{"ts":"2026-10-01T13:30:00Z","complexity":"simple","input_tokens":800,"cached_input_tokens":600,"output_tokens":50}"#)
        #expect(!WorkloadWriter.line(for: tasks[3]).contains("cached_input_tokens"))
        let written = WorkloadWriter.data(for: tasks)
        let (back, _) = try WorkloadReader(data: written).readAll()
        #expect(back == tasks)
        #expect(WorkloadWriter.data(for: back) == written)
    }

    @Test("bad cached_input_tokens name the file, the line and the field", arguments: [
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":-1,"output_tokens":1}"#,
         "must be a non-negative integer, got -1"),
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":11,"output_tokens":1}"#,
         "must be at most input_tokens (10), got 11"),
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":2.5,"output_tokens":1}"#, "got 2.5"),
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":"3","output_tokens":1}"#, #"got "3""#),
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":1e1,"output_tokens":1}"#, "got 1e1"),
        (#"{"ts":1,"complexity":"simple","input_tokens":10,"cached_input_tokens":1,"cached_input_tokens":1,"output_tokens":1}"#,
         "duplicate"),
    ])
    func badCachedTokens(line: String, fragment: String) throws {
        let error = try #require(workloadError(line))
        #expect(error.file == "workload.jsonl" && error.line == 3 && error.field == "cached_input_tokens", "\(error)")
        #expect(error.description.hasPrefix("workload.jsonl:3: field 'cached_input_tokens': "), "\(error)")
        #expect(error.description.contains(fragment), "\(error)")
    }

    @Test("a cache-hit share parses exact decimals and gives floor(share × input_tokens)")
    func shares() throws {
        #expect(try CacheHitShare(parsing: "0.6").partsPerMillion == 600_000)
        #expect(try CacheHitShare(parsing: ".25").partsPerMillion == 250_000)
        #expect(try CacheHitShare(parsing: "1").partsPerMillion == 1_000_000)
        #expect(try CacheHitShare(parsing: "1.000000").partsPerMillion == 1_000_000)
        #expect(try CacheHitShare(parsing: "0").partsPerMillion == 0)
        #expect(try CacheHitShare(parsing: "0.000001").partsPerMillion == 1)
        #expect(try CacheHitShare(parsing: "0.6").description == "0.6")
        // 0.29 × 100 is 28.999… in binary floating point; the integer share gives 29.
        #expect(try CacheHitShare(parsing: "0.29").cachedTokens(of: 100) == 29)
        #expect(try CacheHitShare(parsing: "0.6").cachedTokens(of: 1_234) == 740)
        #expect(try CacheHitShare(parsing: "1").cachedTokens(of: 7) == 7)
        #expect(try CacheHitShare(parsing: "0.5").cachedTokens(of: Int.max) == Int.max / 2)
        for bad in ["1.5", "-0.1", "2", "abc", "", ".", "0.1234567", "1e-1", "+0.5", "10"] {
            #expect(throws: ReplayError.self, "\(bad)") { try CacheHitShare(parsing: bad) }
        }
        #expect(throws: ReplayError.self) { try CacheHitShare(partsPerMillion: 1_000_001) }
    }
}

// MARK: - Replay

@Suite("Replay settles cache reads at the cached rate")
struct CacheReplayTests {
    static func replay(_ tasks: [WorkloadTask], share: CacheHitShare? = nil, in dir: URL, name: String) throws -> (ReplayReport, SQLiteLedger) {
        let ledger = try SQLiteLedger(path: dir.appendingPathComponent(name).path, configuration: .init(limits: .unlimited))
        let engine = ReplayEngine(
            selector: try ModelSelector(catalog: try ModelCatalog.bundled()), configuration: .init(commitMode: .perCall, cacheHitShare: share))
        var it = tasks.makeIterator()
        return (try engine.run(next: { it.next() }, into: ledger), ledger)
    }

    static func task(cached: Int?) -> WorkloadTask {
        WorkloadTask(
            epochNanoseconds: 1_790_861_400_000_000_000, id: "t", complexity: .simple, inputTokens: 120_000, outputTokens: 1_000,
            maxOutputTokens: 1_000, cachedInputTokens: cached)
    }

    @Test("cached tokens lower the settled cost by exactly tokens × (input − cached rate) × (1 + margin)")
    func exactSaving() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (full, _) = try Self.replay([Self.task(cached: nil)], in: dir, name: "full.sqlite")
        let (cachedRun, ledger) = try Self.replay([Self.task(cached: 100_000)], in: dir, name: "cached.sqlite")
        let catalog = try ModelCatalog.bundled()
        let id = try #require(cachedRun.byModel.keys.first)
        #expect(cachedRun.byModel.count == 1 && full.byModel.keys.first == id)
        let model = try #require(catalog.model(ModelID(id)))
        let cachedRate = try #require(model.cachedInputPerMillionTokens, "the simple tier's model has a cached price")

        // Independently: µ$ per million tokens × tokens × (10^6 + margin ppm) / 10^12, chosen to be a whole micro-dollar.
        let rateGap = Int64(model.inputPerMillionTokens.rawValue - cachedRate.rawValue)
        let scaled = Int64(100_000) * rateGap * (1_000_000 + catalog.margin(for: model))
        #expect(scaled % 1_000_000_000_000 == 0)
        let expected = MicroDollars(micros: scaled / 1_000_000_000_000)
        #expect(expected.rawValue > 0)
        #expect(try full.cost.subtracting(cachedRun.cost) == expected)

        // The report shows the cache reads and prices the saving as the audit does.
        #expect(cachedRun.cachedInputTokens == 100_000 && cachedRun.inputTokens == 120_000)
        #expect(cachedRun.byModel[id]?.cachedInputTokens == 100_000)
        #expect(cachedRun.cacheSaved == expected)
        #expect(cachedRun.cacheHitShare == nil && cachedRun.cacheAssumedTasks == 0)
        var audit = try ledger.audit(by: .model)
        try audit.priceCacheSavings(with: catalog)
        #expect(audit.totals.cacheSavings == expected && audit.totals.spend == cachedRun.cost)
        #expect(audit.totals.cachedInputTokens == 100_000)
        // The reservation assumed no cache hit: it is never below the settled cost.
        let entry = try #require(try ledger.entries().first)
        #expect(entry.estimatedCost >= full.cost && (entry.actualCost ?? .zero) == cachedRun.cost)
        #expect(full.cacheSaved == .zero && !full.hasCache)
    }

    @Test("a past ledger replays with the cache reads it recorded (--from-ledger)")
    func fromLedger() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (first, ledger) = try Self.replay([Self.task(cached: 100_000)], in: dir, name: "past.sqlite")
        var source = LedgerWorkload(ledger: ledger)
        let task = try #require(try source.next())
        #expect(task.cachedInputTokens == 100_000 && task.inputTokens == 120_000)
        let (again, _) = try Self.replay([task], in: dir, name: "again.sqlite")
        #expect(again.cost == first.cost && again.cacheSaved == first.cacheSaved)
    }

    @Test("a share applies only to tasks without their own cached_input_tokens, and is marked assumed")
    func shareFillsGaps() throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let share = try CacheHitShare(parsing: "0.5")
        var own = Self.task(cached: 0)
        own.id = "own"
        var bare = Self.task(cached: nil)
        bare.id = "bare"
        let (r, _) = try Self.replay([own, bare], share: share, in: dir, name: "share.sqlite")
        #expect(r.cachedInputTokens == 60_000 && r.inputTokens == 240_000)
        #expect(r.cacheAssumedTasks == 1 && r.cacheHitShare == share)
        #expect(r.table().contains(ReplayReport.cacheWhatIfNote))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try r.json().utf8)) as? [String: Any])
        let cache = try #require(json["cache"] as? [String: Any])
        #expect(cache["note"] as? String == "what-if: cache hits assumed, not measured")
        #expect(cache["assumed"] as? Bool == true && (cache["cache_hit_share"] as? NSNumber)?.decimalValue == Decimal(string: "0.5"))
        #expect(cache["cached_input_tokens"] as? Int == 60_000)
    }
}

// MARK: - Command line

@Suite("Replay --cache-hit-share")
struct CacheHitShareCLITests {
    @Test("a share outside 0…1 or not a decimal is a usage error", arguments: [
        (["replay", "w.jsonl", "--cache-hit-share", "1.5"], "--cache-hit-share must be between 0 and 1"),
        (["replay", "w.jsonl", "--cache-hit-share=-0.2"], "--cache-hit-share must be a decimal between 0 and 1"),
        (["replay", "w.jsonl", "--cache-hit-share", "lots"], "--cache-hit-share must be a decimal between 0 and 1"),
    ])
    func refused(arguments: [String], message: String) {
        #expect {
            _ = try BATSCommand.parseAsRoot(arguments)
        } throws: { error in
            BATSCommand.message(for: error).contains(message) && BATSCommand.exitCode(for: error) == .validationFailure
        }
    }

    @Test("the what-if lowers the spend and says the hits were assumed")
    func whatIf() async throws {
        let dir = try LedgerFixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let workload = dir.appendingPathComponent("w.jsonl").path
        let generated = try await BATSRun.run(["workload", "generate", "--profile", "trading", "--days", "1", "--seed", "3", "-o", workload], in: dir)
        #expect(generated.status == 0, "\(generated.stderr)")
        let base = ["replay", workload, "--daily-budget", "1000", "--monthly-budget", "100000", "--seed", "3"]
        let plain = try await BATSRun.run(base + ["--format", "json"], in: dir)
        let cached = try await BATSRun.run(base + ["--format", "json", "--cache-hit-share", "0.6"], in: dir)
        let table = try await BATSRun.run(base + ["--cache-hit-share", "0.6"], in: dir)
        #expect(plain.status == 0 && cached.status == 0 && table.status == 0, "\(cached.stderr)\(table.stderr)")
        let p = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        let c = try #require(try JSONSerialization.jsonObject(with: Data(cached.stdout.utf8)) as? [String: Any])
        let plainCost = try #require((p["cost_usd"] as? NSNumber)?.decimalValue)
        let cachedCost = try #require((c["cost_usd"] as? NSNumber)?.decimalValue)
        #expect(cachedCost < plainCost)
        #expect(p["cache"] == nil)
        let cache = try #require(c["cache"] as? [String: Any])
        #expect(cache["note"] as? String == "what-if: cache hits assumed, not measured")
        let saved = try #require((cache["saved_usd"] as? NSNumber)?.decimalValue)
        #expect(saved > 0)
        #expect(table.stdout.contains("what-if: cache hits assumed, not measured") && table.stdout.contains("cache saved"))
    }
}
