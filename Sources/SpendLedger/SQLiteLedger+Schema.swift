import GRDB

extension SQLiteLedger {
    /// The named migrations. Never edit a shipped migration: add a new one.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE entry (
                        id INTEGER PRIMARY KEY,
                        request_id TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        task_kind TEXT,
                        tier TEXT NOT NULL,
                        model TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        finished_at INTEGER,
                        expires_at INTEGER,
                        day_key TEXT NOT NULL,
                        month_key TEXT NOT NULL,
                        est_input_tokens INTEGER NOT NULL,
                        est_output_tokens INTEGER NOT NULL,
                        est_cost INTEGER NOT NULL,
                        actual_input_tokens INTEGER,
                        actual_output_tokens INTEGER,
                        cached_input_tokens INTEGER,
                        actual_cost INTEGER,
                        status TEXT NOT NULL,
                        critical INTEGER NOT NULL,
                        over_limit INTEGER NOT NULL DEFAULT 0,
                        usage_estimated INTEGER NOT NULL DEFAULT 0,
                        reason TEXT NOT NULL,
                        tags TEXT NOT NULL DEFAULT '{}',
                        error TEXT,
                        prev_hash TEXT NOT NULL,
                        hash TEXT NOT NULL,
                        seal TEXT
                    );
                    CREATE INDEX entry_open ON entry(expires_at) WHERE status = 'reserved';
                    CREATE TABLE budget_window (
                        period TEXT NOT NULL,
                        key TEXT NOT NULL,
                        limit_micros INTEGER,
                        settled INTEGER NOT NULL DEFAULT 0,
                        reserved INTEGER NOT NULL DEFAULT 0,
                        critical_settled INTEGER NOT NULL DEFAULT 0,
                        critical_reserved INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (period, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE budget_config (
                        id INTEGER PRIMARY KEY,
                        effective_at INTEGER NOT NULL,
                        daily_limit INTEGER,
                        monthly_limit INTEGER,
                        time_zone TEXT NOT NULL
                    );
                    """)
        }
        // Open reservations are found from a floor and a rowid range (OpenReservationTracker), not an index that every
        // reserve and settle would have to write.
        m.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    DROP INDEX entry_open;
                    CREATE TABLE ledger_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        open_floor INTEGER NOT NULL
                    );
                    INSERT INTO ledger_state (id, open_floor) VALUES (1, COALESCE(
                        (SELECT MIN(id) FROM entry WHERE status = 'reserved'), (SELECT MAX(id) FROM entry) + 1, 1));
                    """)
        }
        // The ledger's own state: the limits and zone in force (read by every reservation, so a change by any process
        // applies to all), the zone history, the chain's mode, and per entry its flags and the limits it was reserved under.
        m.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    ALTER TABLE entry ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE entry ADD COLUMN config_id INTEGER;
                    ALTER TABLE ledger_state ADD COLUMN config_id INTEGER;
                    ALTER TABLE ledger_state ADD COLUMN daily_limit INTEGER;
                    ALTER TABLE ledger_state ADD COLUMN monthly_limit INTEGER;
                    ALTER TABLE ledger_state ADD COLUMN time_zone TEXT;
                    ALTER TABLE ledger_state ADD COLUMN next_time_zone TEXT;
                    ALTER TABLE ledger_state ADD COLUMN time_zone_from INTEGER;
                    ALTER TABLE ledger_state ADD COLUMN chain_mode TEXT NOT NULL DEFAULT 'sha256';
                    ALTER TABLE ledger_state ADD COLUMN chain_key_check TEXT;
                    CREATE TABLE budget_zone (
                        id INTEGER PRIMARY KEY,
                        recorded_at INTEGER NOT NULL,
                        effective_at INTEGER NOT NULL,
                        time_zone TEXT NOT NULL
                    );
                    UPDATE ledger_state SET (config_id, daily_limit, monthly_limit, time_zone) =
                        (SELECT id, daily_limit, monthly_limit, time_zone FROM budget_config ORDER BY id DESC LIMIT 1)
                        WHERE EXISTS (SELECT 1 FROM budget_config);
                    INSERT INTO budget_zone (recorded_at, effective_at, time_zone)
                        SELECT 0, -9223372036854775807, time_zone FROM ledger_state WHERE time_zone IS NOT NULL;
                    """)
        }
        // Budget scopes, alerts. Scope windows keep running totals like the global ones (one row per scope and window);
        // each recorded configuration (`budget_config`) has its scopes' limits and its alert thresholds; an entry
        // records the scopes it counts in (so its settlement moves the same totals whatever the configuration is by
        // then), the caller key's name and the window that bound its selection. An alert is one row, unique per
        // (kind, scope, window, threshold): inserted in the transaction that crossed it, so it fires exactly once.
        m.registerMigration("v4") { db in
            try db.execute(
                sql: """
                    CREATE TABLE scope_window (
                        scope TEXT NOT NULL,
                        period TEXT NOT NULL,
                        key TEXT NOT NULL,
                        limit_micros INTEGER,
                        settled INTEGER NOT NULL DEFAULT 0,
                        reserved INTEGER NOT NULL DEFAULT 0,
                        critical_settled INTEGER NOT NULL DEFAULT 0,
                        critical_reserved INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (scope, period, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE budget_scope (
                        config_id INTEGER NOT NULL,
                        scope TEXT NOT NULL,
                        daily_limit INTEGER,
                        monthly_limit INTEGER,
                        alerts TEXT NOT NULL DEFAULT '',
                        PRIMARY KEY (config_id, scope)
                    ) WITHOUT ROWID;
                    ALTER TABLE budget_config ADD COLUMN alerts TEXT NOT NULL DEFAULT '';
                    ALTER TABLE entry ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
                    ALTER TABLE entry ADD COLUMN caller_key TEXT;
                    ALTER TABLE entry ADD COLUMN bound_by TEXT;
                    CREATE TABLE budget_alert (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        scope TEXT NOT NULL DEFAULT '',
                        period TEXT NOT NULL DEFAULT '',
                        window_key TEXT NOT NULL DEFAULT '',
                        threshold_ppm INTEGER NOT NULL DEFAULT 0,
                        fired_at INTEGER NOT NULL,
                        entry_id INTEGER,
                        spent INTEGER NOT NULL,
                        limit_micros INTEGER,
                        delivered_at INTEGER,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER,
                        claimed_until INTEGER,
                        last_error TEXT,
                        UNIQUE (kind, scope, period, window_key, threshold_ppm)
                    );
                    CREATE INDEX budget_alert_pending ON budget_alert(id) WHERE delivered_at IS NULL;
                    """)
        }
        // Where the audit judges an entry against the limits: a call made under a budget lease (a PostgreSQL ledger's
        // host) at the chain position where its lease was granted, as an in-flight reservation is judged where it
        // was made; NULL (its own id) for every other entry.
        m.registerMigration("v5") { db in
            try db.execute(sql: "ALTER TABLE entry ADD COLUMN judged_at INTEGER")
        }
        return m
    }
}
