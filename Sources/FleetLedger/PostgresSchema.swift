import Logging
import PostgresNIO
import SpendLedger

/// The PostgreSQL ledger's named migrations, applied under a transaction-scoped advisory lock so that many hosts
/// starting at once apply each exactly once (the others wait on the lock, then find it applied).
///
/// The tables and columns are the SQLite ledger's (``LedgerDump/tableSpecs``), so a copy between backends moves rows
/// as they are. Added here: `ledger_state.head_id/head_hash` (the chain head every insert advances, under the row
/// lock), `leased` on window totals, `entry.origin` (a host journal's key, unique, so a journaled call is written
/// once), and the leases.
enum PostgresSchema {
    /// The advisory lock key of migrations (any fixed 64-bit number; `bats` in ASCII).
    static let lockKey: Int64 = 0x6261_7473_6d69_6772

    static let migrations: [(name: String, sql: [String])] = [
        (
            "pg-v1",
            [
                """
                CREATE TABLE ledger_state (
                    id BIGINT PRIMARY KEY CHECK (id = 1), open_floor BIGINT NOT NULL DEFAULT 1, config_id BIGINT, daily_limit BIGINT,
                    monthly_limit BIGINT, time_zone TEXT, next_time_zone TEXT, time_zone_from BIGINT, chain_mode TEXT NOT NULL DEFAULT 'sha256',
                    chain_key_check TEXT, head_id BIGINT NOT NULL DEFAULT 0,
                    head_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000')
                """,
                "INSERT INTO ledger_state (id) VALUES (1)",
                """
                CREATE TABLE budget_config (
                    id BIGINT PRIMARY KEY, effective_at BIGINT NOT NULL, daily_limit BIGINT, monthly_limit BIGINT, time_zone TEXT NOT NULL,
                    alerts TEXT NOT NULL DEFAULT '')
                """,
                """
                CREATE TABLE budget_scope (
                    config_id BIGINT NOT NULL, scope TEXT NOT NULL, daily_limit BIGINT, monthly_limit BIGINT, alerts TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (config_id, scope))
                """,
                "CREATE TABLE budget_zone (id BIGINT PRIMARY KEY, recorded_at BIGINT NOT NULL, effective_at BIGINT NOT NULL, time_zone TEXT NOT NULL)",
                """
                CREATE TABLE entry (
                    id BIGINT PRIMARY KEY, request_id TEXT NOT NULL, attempt BIGINT NOT NULL, task_kind TEXT, tier TEXT NOT NULL, model TEXT NOT NULL,
                    created_at BIGINT NOT NULL, finished_at BIGINT, expires_at BIGINT, day_key TEXT NOT NULL, month_key TEXT NOT NULL,
                    est_input_tokens BIGINT NOT NULL, est_output_tokens BIGINT NOT NULL, est_cost BIGINT NOT NULL, actual_input_tokens BIGINT,
                    actual_output_tokens BIGINT, cached_input_tokens BIGINT, actual_cost BIGINT, status TEXT NOT NULL, critical BIGINT NOT NULL,
                    over_limit BIGINT NOT NULL DEFAULT 0, usage_estimated BIGINT NOT NULL DEFAULT 0, reason TEXT NOT NULL,
                    tags TEXT NOT NULL DEFAULT '{}', error TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, seal TEXT,
                    flags BIGINT NOT NULL DEFAULT 0, config_id BIGINT, scopes TEXT NOT NULL DEFAULT '', caller_key TEXT, bound_by TEXT,
                    origin TEXT UNIQUE)
                """,
                "CREATE INDEX entry_open ON entry (expires_at) WHERE status = 'reserved'",
                """
                CREATE TABLE budget_window (
                    period TEXT NOT NULL, key TEXT NOT NULL, limit_micros BIGINT, settled BIGINT NOT NULL DEFAULT 0,
                    reserved BIGINT NOT NULL DEFAULT 0, critical_settled BIGINT NOT NULL DEFAULT 0, critical_reserved BIGINT NOT NULL DEFAULT 0,
                    leased BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (period, key))
                """,
                """
                CREATE TABLE scope_window (
                    scope TEXT NOT NULL, period TEXT NOT NULL, key TEXT NOT NULL, limit_micros BIGINT, settled BIGINT NOT NULL DEFAULT 0,
                    reserved BIGINT NOT NULL DEFAULT 0, critical_settled BIGINT NOT NULL DEFAULT 0, critical_reserved BIGINT NOT NULL DEFAULT 0,
                    leased BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (scope, period, key))
                """,
                """
                CREATE TABLE budget_alert (
                    id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '', period TEXT NOT NULL DEFAULT '',
                    window_key TEXT NOT NULL DEFAULT '', threshold_ppm BIGINT NOT NULL DEFAULT 0, fired_at BIGINT NOT NULL, entry_id BIGINT,
                    spent BIGINT NOT NULL, limit_micros BIGINT, delivered_at BIGINT, attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at BIGINT,
                    claimed_until BIGINT, last_error TEXT, UNIQUE (kind, scope, period, window_key, threshold_ppm))
                """,
                """
                CREATE TABLE budget_lease (
                    id BIGSERIAL PRIMARY KEY, host TEXT NOT NULL, scopes TEXT NOT NULL DEFAULT '', day_key TEXT NOT NULL, month_key TEXT NOT NULL,
                    granted BIGINT NOT NULL, consumed BIGINT NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'open', taken_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL, ended_at BIGINT, charged BIGINT NOT NULL DEFAULT 0, refunded BIGINT NOT NULL DEFAULT 0,
                    charge_entry BIGINT)
                """,
                "CREATE INDEX budget_lease_open ON budget_lease (expires_at) WHERE status = 'open'",
            ]
        ),
        (
            // A leased call is judged by the audit where its lease was granted (the chain head then).
            "pg-v2",
            [
                "ALTER TABLE entry ADD COLUMN judged_at BIGINT",
                "ALTER TABLE budget_lease ADD COLUMN head_at_grant BIGINT NOT NULL DEFAULT 0",
            ]
        ),
    ]

    /// Applies the migrations this version knows and the database lacks, in one transaction behind the advisory lock.
    /// - Throws: ``LedgerError`` (`newer-schema` when the database has migrations this version does not know).
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { c in
            try await c.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await c.query("CREATE TABLE IF NOT EXISTS bats_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", logger: logger)
            var applied: Set<String> = []
            for try await name in try await c.query("SELECT name FROM bats_migration", logger: logger).decode(String.self) { applied.insert(name) }
            let known = Set(migrations.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw LedgerError(
                    kind: .newerSchema,
                    message: "the ledger database was written by a newer version of BATS (it has migration \(unknown), which this version does not know)")
            }
            for m in migrations where !applied.contains(m.name) {
                for sql in m.sql { try await c.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await c.query("INSERT INTO bats_migration (name) VALUES (\(m.name))", logger: logger)
                logger.debug("ledger migration applied", metadata: ["migration": "\(m.name)"])
            }
        }
    }
}
