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
        return m
    }
}
