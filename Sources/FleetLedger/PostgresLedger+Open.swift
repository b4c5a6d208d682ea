import Foundation
import Logging
import ModelSelection
import PostgresNIO
import SpendLedger

extension PostgresLedger {
    /// Checks the chain key, records the configuration (a new ledger's zone and limits, or changed limits), and
    /// reclaims what expired, in one transaction.
    func open(now: Date) async throws {
        let ledger = self
        let key = configuration.chainKey
        try await write { c in
            let logger = ledger.logger
            var st = try await PostgresStore.state(c, lock: true, logger)
            let at = LedgerStore.micros(now)
            if st.headID == 0, st.chainMode == "sha256", st.chainKeyCheck == nil, let key {
                try await c.query("UPDATE ledger_state SET chain_mode = 'hmac-sha256', chain_key_check = \(key.check) WHERE id = 1", logger: logger)
                st.chainMode = "hmac-sha256"
                st.chainKeyCheck = key.check
            }
            try Self.checkChainKey(st, key, url: ledger.configuration.url)
            if ledger.configuration.recordsLimits {
                try await Self.applyConfiguration(c, st, ledger.configuration, at: at, logger: logger)
                st = try await PostgresStore.state(c, lock: true, logger)
            }
            let config = try await PostgresStore.loadScopeConfig(c, st.configID, logger)
            if let id = st.configID { ledger.shared.keep(config, id) }
            var limits = st.limits
            limits.scopes = config.scopes
            limits.alerts = config.alerts
            ledger.shared.saw(limits, zone: st.zone(at: at), configID: st.configID)
            var head = (st.headID, st.headHash)
            _ = try await PostgresStore.reclaim(c, now: at, head: &head, ledger: ledger)
        }
    }

    static func checkChainKey(_ st: PGState, _ key: LedgerChainKey?, url: PostgresLedgerURL) throws {
        switch (st.chainMode, key) {
        case ("hmac-sha256", nil):
            throw LedgerError(
                kind: .chainKey,
                message: "the ledger at \(url) has a keyed hash chain (HMAC-SHA256): set \(LedgerChainKey.environmentVariable) or \(LedgerChainKey.fileEnvironmentVariable)")
        case ("hmac-sha256", let key?) where key.check != st.chainKeyCheck:
            throw LedgerError(kind: .chainKey, message: "the ledger chain key is not the one the ledger at \(url) was created with")
        case ("sha256", .some):
            throw LedgerError(kind: .chainKey, message: "the ledger at \(url) has no chain key (it was created without one); unset \(LedgerChainKey.environmentVariable)")
        default: return
        }
    }

    static func applyConfiguration(_ c: PostgresConnection, _ st: PGState, _ config: Configuration, at now: Int64, logger: Logger) async throws {
        if st.isNew {
            let zone = config.calendar?.zoneName ?? "UTC"
            try await c.query("UPDATE ledger_state SET time_zone = \(zone), next_time_zone = NULL, time_zone_from = NULL WHERE id = 1", logger: logger)
            try await c.query(
                "INSERT INTO budget_zone (id, recorded_at, effective_at, time_zone) SELECT COALESCE(MAX(id), 0) + 1, \(now), \(Int64.min + 1), \(zone) FROM budget_zone",
                logger: logger)
            try await recordLimits(c, config.limits ?? st.limits, zone: zone, at: now, logger: logger)
            return
        }
        let current = st.zone(at: now)
        if let wanted = config.calendar?.zoneName, wanted != current {
            throw LedgerError(
                kind: .timeZoneMismatch,
                message: "the ledger's budget windows follow \(current), fixed when it was created; \(wanted) was asked for. Leave the zone out to use the ledger's")
        }
        if let limits = config.limits {
            var recorded = st.limits
            if st.configID != nil {
                let sc = try await PostgresStore.loadScopeConfig(c, st.configID, logger)
                recorded.scopes = sc.scopes
                recorded.alerts = sc.alerts
            }
            if limits.normalized != recorded.normalized { try await recordLimits(c, limits, zone: current, at: now, logger: logger) }
        }
    }

    /// Records limits (with scopes and thresholds) in the history and as the state in force.
    static func recordLimits(_ c: PostgresConnection, _ limits: BudgetLimits, zone: String, at now: Int64, logger: Logger) async throws {
        let alerts = ScopeConfig.encode(limits.alerts)
        let rows = try await PostgresStore.rows(
            c,
            """
            INSERT INTO budget_config (id, effective_at, daily_limit, monthly_limit, time_zone, alerts)
            SELECT COALESCE(MAX(id), 0) + 1, \(now), \(limits.daily?.rawValue), \(limits.monthly?.rawValue), \(zone), \(alerts) FROM budget_config
            RETURNING id
            """, logger)
        guard let r = rows.first else { throw LedgerError(kind: .database, message: "recording the limits returned no id") }
        let id = try PostgresStore.int(r, 0)
        for s in limits.scopes {
            try await c.query(
                """
                INSERT INTO budget_scope (config_id, scope, daily_limit, monthly_limit, alerts)
                VALUES (\(id), \(s.name), \(s.daily?.rawValue), \(s.monthly?.rawValue), \(ScopeConfig.encode(s.alerts)))
                """, logger: logger)
        }
        try await c.query(
            "UPDATE ledger_state SET config_id = \(id), daily_limit = \(limits.daily?.rawValue), monthly_limit = \(limits.monthly?.rawValue) WHERE id = 1",
            logger: logger)
    }
}
