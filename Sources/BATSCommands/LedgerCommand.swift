import ArgumentParser
import FleetLedger
import Foundation
import SpendLedger

extension BATSCommand {
    /// `bats ledger`: moving a ledger between backends.
    struct LedgerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ledger", abstract: "Move a ledger between an SQLite file and PostgreSQL.", subcommands: [Copy.self])

        /// `bats ledger copy FROM TO`.
        struct Copy: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Copy a ledger into a new, empty one (SQLite file or postgres://…), with its chain verified on both sides.",
                discussion: """
                    The source is verified first and read in one consistent transaction; the target must be a new file, an \
                    empty file or a database without entries. The copy keeps every entry, its hash chain, the limits history, \
                    scopes, alerts and window totals, and is verified after the copy: its chain head must be the source's. \
                    A PostgreSQL source must have no open budget leases (stop its hosts, or wait for the leases to expire). \
                    Passwords come from BATS_LEDGER_PASSWORD, BATS_LEDGER_PASSWORD_FILE or PGPASSFILE; a keyed chain needs \
                    BATS_LEDGER_KEY on both sides.
                    """)

            @Argument(help: "The ledger to copy: an SQLite file or postgres://USER@HOST:PORT/DB.")
            var from: String

            @Argument(help: "The new ledger: an SQLite file (new or empty) or an empty PostgreSQL database.")
            var to: String

            func run() async throws {
                let source = try LedgerLocation(from), target = try LedgerLocation(to)
                if case .file(let a) = source, case .file(let b) = target,
                    URL(fileURLWithPath: a).standardizedFileURL == URL(fileURLWithPath: b).standardizedFileURL
                {
                    throw CommandError("the source and the target are the same file")
                }
                let before = try await source.verify()
                if let p = before.firstProblem { throw CommandError("ledger \(source) fails verification (\(p)); nothing copied") }
                let dump = try await Self.dump(source)
                try await Self.load(dump, into: target)
                let after = try await target.verify()
                if let p = after.firstProblem { throw CommandError("the copy at \(target) fails verification: \(p)") }
                guard after.entriesChecked == before.entriesChecked, after.headHash == before.headHash else {
                    throw CommandError(
                        "the copy at \(target) has \(after.entriesChecked) entries ending in \(after.headHash), the source \(before.entriesChecked) ending in \(before.headHash)")
                }
                print("copied \(after.entriesChecked) entries from \(source) to \(target); chain verified, head \(after.headHash)")
            }

            /// Every row of the source, in one transaction.
            static func dump(_ source: LedgerLocation) async throws -> LedgerDump {
                switch source {
                case .file(let path):
                    return try SQLiteLedger(path: path, configuration: try readOnlyLedgerConfiguration()).dump()
                case .postgres(let url):
                    return try await LedgerLocation.withPostgres(url) { remote in
                        let open = try await remote.openLeaseCount()
                        guard open == 0 else {
                            throw CommandError("ledger \(url) has \(open) open budget lease(s): stop its hosts, or wait for the leases to expire, then copy")
                        }
                        return try await remote.dump()
                    }
                }
            }

            /// Writes the rows into the target, which must hold no entry.
            static func load(_ dump: LedgerDump, into target: LedgerLocation) async throws {
                switch target {
                case .file(let path):
                    try InputFile.checkWritableLedger(path)
                    let l = try SQLiteLedger(path: path, configuration: .init(recordsLimits: false, chainKey: try ledgerChainKey()))
                    try l.load(dump)
                case .postgres(let url):
                    try await LedgerLocation.withPostgres(url) { try await $0.load(dump) }
                }
            }
        }
    }
}
