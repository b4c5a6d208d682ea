import GRDB
package import ModelSelection
import Synchronization

/// The scopes and alert thresholds of one recorded configuration (`budget_config` row), immutable once recorded,
/// with an index that finds a call's scopes from the call alone.
///
/// Each scope is indexed under its outermost step, so finding a call's scopes costs a lookup per tag, task kind,
/// tier and key of the call plus a check per scope it may belong to, never a pass over every scope configured.
package final class ScopeConfig: Sendable {
    /// The scopes, sorted by name.
    package let scopes: [BudgetScope]
    /// The thresholds of the global windows.
    package let alerts: [BudgetAlertThreshold]
    /// Scope name → scope.
    package let byName: [String: BudgetScope]
    private let byFirstStep: [BudgetScope.Matcher: [Int]]

    /// No scopes, no alerts.
    package static let none = ScopeConfig(scopes: [], alerts: [])

    package init(scopes: [BudgetScope], alerts: [BudgetAlertThreshold]) {
        let sorted = scopes.sorted { $0.name < $1.name }
        self.scopes = sorted
        self.alerts = alerts.sorted()
        var byName: [String: BudgetScope] = [:]
        var index: [BudgetScope.Matcher: [Int]] = [:]
        for (i, s) in sorted.enumerated() {
            byName[s.name] = s
            if let first = s.path.first { index[first, default: []].append(i) }
        }
        self.byName = byName
        self.byFirstStep = index
    }

    /// The scopes a call belongs to, sorted by name.
    package func scopes(for call: ScopedCall) -> [BudgetScope] {
        if scopes.isEmpty { return [] }
        var hits: [Int] = []
        func look(_ m: BudgetScope.Matcher) {
            guard let list = byFirstStep[m] else { return }
            for i in list where scopes[i].contains(call) { hits.append(i) }
        }
        for (k, v) in call.tags { look(.tag(key: k, value: v)) }
        if let k = call.taskKind { look(.taskKind(k)) }
        if let t = call.tier { look(.tier(t)) }
        if let k = call.callerKey { look(.callerKey(k)) }
        if hits.count > 1 { hits.sort() }
        return hits.map { scopes[$0] }
    }

    /// The thresholds of a window: the global ones for scope `""`, else the scope's (none for a scope no longer
    /// configured).
    package func thresholds(scope: String) -> [BudgetAlertThreshold] {
        scope.isEmpty ? alerts : (byName[scope]?.alerts ?? [])
    }

    // MARK: - Storage

    /// `d500000,m800000`: thresholds as stored.
    package static func encode(_ alerts: [BudgetAlertThreshold]) -> String {
        alerts.sorted().map { ($0.period == .day ? "d" : "m") + String($0.partsPerMillion) }.joined(separator: ",")
    }

    package static func decode(_ text: String) -> [BudgetAlertThreshold] {
        text.split(separator: ",").compactMap { part in
            guard let p = part.first, let ppm = Int64(part.dropFirst()) else { return nil }
            return BudgetAlertThreshold(p == "d" ? .day : .month, partsPerMillion: ppm)
        }
    }

    /// Reads the configuration `id` records.
    static func load(_ db: Database, configID id: Int64) throws -> ScopeConfig {
        let alerts = try String.fetchOne(db, sql: "SELECT alerts FROM budget_config WHERE id = ?", arguments: [id]) ?? ""
        var scopes: [BudgetScope] = []
        for row in try Row.fetchAll(db, sql: "SELECT scope, daily_limit, monthly_limit, alerts FROM budget_scope WHERE config_id = ?", arguments: [id]) {
            let name: String = row[0]
            // A name written by this ledger always parses; one that does not (a hand edit) is kept as a scope no call matches.
            let path = (try? BudgetScope(name: name).path) ?? []
            scopes.append(BudgetScope(
                path, daily: (row[1] as Int64?).map(MicroDollars.init(micros:)), monthly: (row[2] as Int64?).map(MicroDollars.init(micros:)),
                alerts: decode(row[3])))
        }
        return ScopeConfig(scopes: scopes.filter { !$0.path.isEmpty }, alerts: decode(alerts))
    }

    /// Records the scopes and global thresholds of configuration `id`.
    static func record(_ db: Database, configID id: Int64, _ limits: BudgetLimits) throws {
        try db.execute(sql: "UPDATE budget_config SET alerts = ? WHERE id = ?", arguments: [encode(limits.alerts), id])
        for s in limits.scopes {
            try db.execute(
                sql: "INSERT INTO budget_scope (config_id, scope, daily_limit, monthly_limit, alerts) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, s.name, s.daily?.rawValue, s.monthly?.rawValue, encode(s.alerts)])
        }
    }
}

/// The scope configurations this process has read, by `budget_config` id (a recorded configuration never changes).
final class ScopeConfigCache: Sendable {
    private let configs = Mutex<[Int64: ScopeConfig]>([:])

    /// The configuration `id`, read once.
    func config(_ db: Database, _ id: Int64?) throws -> ScopeConfig {
        guard let id else { return .none }
        if let c = configs.withLock({ $0[id] }) { return c }
        let c = try ScopeConfig.load(db, configID: id)
        configs.withLock { $0[id] = c }
        return c
    }

    /// The configuration `id` if already read.
    func cached(_ id: Int64?) -> ScopeConfig? {
        guard let id else { return nil }
        return configs.withLock { $0[id] }
    }
}

extension BudgetLimits {
    /// The same limits in the order the ledger records them (scopes by name, thresholds sorted), for comparison.
    package var normalized: BudgetLimits {
        BudgetLimits(
            daily: daily, monthly: monthly,
            scopes: scopes.sorted { $0.name < $1.name }.map { var s = $0; s.alerts = s.alerts.sorted(); return s }, alerts: alerts.sorted())
    }
}
