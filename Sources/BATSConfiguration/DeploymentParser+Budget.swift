import ModelSelection
import SpendLedger
import Yams

extension DeploymentParser {
    /// The keys of `budget`.
    static let budgetKeys = ["time_zone", "daily", "monthly", "daily_alerts", "monthly_alerts", "scopes"]
    /// The keys of one scope.
    static let scopeKeys = ["name", "daily", "monthly", "daily_alerts", "monthly_alerts"]

    /// What `budget` gives: the limits (`nil` when it sets no limit, scope or alert) and the time zone.
    struct Budget {
        var limits: BudgetLimits?
        var calendar: BudgetCalendar?
    }

    /// `budget`: the time zone, the global daily and monthly limits with their alert thresholds, and the scopes.
    ///
    /// When it sets any limit, scope or alert it describes the whole budget: a window it leaves out is unlimited.
    mutating func budget(_ node: Node?) -> Budget? {
        guard let node else { return Budget() }
        guard let t = reader.table(node, at: "budget", keys: Self.budgetKeys) else { return nil }
        let before = reader.errors.count
        var out = Budget()
        if let v = t["time_zone"], let zone = reader.string(v, at: t.path("time_zone")) {
            do { out.calendar = try BudgetCalendar(timeZoneIdentifier: zone) } catch {
                reader.invalid(
                    v, t.path("time_zone"), "unknown time zone \(NodeReader.shown(zone)) (use an IANA name such as UTC or America/New_York)")
            }
        }
        guard ["daily", "monthly", "daily_alerts", "monthly_alerts", "scopes"].contains(where: t.has) else { return out }
        let windows = self.windows(t, owner: "the global budget")
        var scopes: [BudgetScope] = []
        if let v = t["scopes"], let items = reader.sequence(v, at: t.path("scopes")) {
            var firstLine: [String: Int] = [:]
            for (i, item) in items.enumerated() {
                guard let (scope, nameNode) = self.scope(item, at: "\(t.path("scopes"))[\(i)]") else { continue }
                if let line = firstLine[scope.name] {
                    reader.invalid(nameNode, "\(t.path("scopes"))[\(i)].name", "scope \(scope.name) is configured twice (first at line \(line))")
                    continue
                }
                firstLine[scope.name] = NodeReader.position(of: nameNode).line
                scopes.append(scope)
            }
        }
        guard reader.errors.count == before, let windows else { return nil }
        let limits = BudgetLimits(daily: windows.daily, monthly: windows.monthly, scopes: scopes, alerts: windows.alerts)
        // The ledger's own check, for anything the checks above do not cover.
        do { try limits.validate() } catch {
            reader.invalid(t.node, "budget", (error as? LedgerError)?.message ?? "\(error)")
            return nil
        }
        out.limits = limits
        return out
    }

    /// One window pair's limits and thresholds, from a table with `daily`, `monthly`, `daily_alerts`, `monthly_alerts`.
    struct Windows {
        var daily: MicroDollars?
        var monthly: MicroDollars?
        var alerts: [BudgetAlertThreshold]
    }

    /// The limits and alert thresholds of the global budget or of a scope; `nil` after a problem.
    mutating func windows(_ t: NodeTable, owner: String) -> Windows? {
        let before = reader.errors.count
        var w = Windows(alerts: [])
        if let v = t["daily"] { w.daily = reader.limit(v, at: t.path("daily")) }
        if let v = t["monthly"] { w.monthly = reader.limit(v, at: t.path("monthly")) }
        for (key, period, limit, window) in [
            ("daily_alerts", BudgetAlertThreshold.Period.day, w.daily, "daily"),
            ("monthly_alerts", .month, w.monthly, "monthly"),
        ] {
            guard let v = t[key] else { continue }
            guard let list = thresholds(v, at: t.path(key), period: period) else { continue }
            if limit == nil, !t.has(window) {
                reader.invalid(v, t.path(key), "\(owner) has no \(window) limit, so these alerts would never fire: give \(t.path(window))")
                continue
            }
            w.alerts += list
        }
        return reader.errors.count == before ? w : nil
    }

    /// A list of percentages (`[50%, 80%, 100%]`), each above 0% and at most 1000%, each once.
    mutating func thresholds(_ node: Node, at path: String, period: BudgetAlertThreshold.Period) -> [BudgetAlertThreshold]? {
        guard let items = reader.sequence(node, at: path) else { return nil }
        var out: [BudgetAlertThreshold] = []
        var ok = true
        for (i, item) in items.enumerated() {
            let at = "\(path)[\(i)]"
            guard let ppm = reader.percent(item, at: at) else { ok = false; continue }
            guard ppm > 0, ppm <= 10_000_000 else {
                reader.invalid(item, at, "an alert threshold must be above 0% and at most 1000%")
                ok = false
                continue
            }
            let threshold = BudgetAlertThreshold(period, partsPerMillion: ppm)
            guard !out.contains(threshold) else {
                reader.invalid(item, at, "\(threshold) is already in this list")
                ok = false
                continue
            }
            out.append(threshold)
        }
        return ok ? out.sorted() : nil
    }

    /// One scope: its name (`tag:agent=scanner`, `key:desk-a/tag:agent=scanner`), limits and thresholds, with the
    /// name's node for messages that point at it.
    mutating func scope(_ node: Node, at path: String) -> (BudgetScope, Node)? {
        guard let t = reader.table(node, at: path, keys: Self.scopeKeys) else { return nil }
        guard let nameNode = t["name"] else {
            reader.missing("name", in: t, "a scope needs a name such as tag:agent=scanner or key:desk-a/tag:agent=scanner")
            _ = windows(t, owner: "this scope")
            return nil
        }
        var scope: BudgetScope?
        if let name = reader.string(nameNode, at: t.path("name")) {
            do {
                let s = try BudgetScope(name: name)
                try s.validate()
                scope = s
            } catch {
                reader.invalid(nameNode, t.path("name"), (error as? LedgerError)?.message ?? "\(error)")
            }
        }
        let owner = scope.map { "scope \($0.name)" } ?? "this scope"
        guard let w = windows(t, owner: owner), var scope else { return nil }
        guard w.daily != nil || w.monthly != nil else {
            reader.invalid(t.keyNode("name") ?? node, path, "\(owner) has no limit: give daily, monthly or both")
            return nil
        }
        scope.daily = w.daily
        scope.monthly = w.monthly
        scope.alerts = w.alerts
        return (scope, nameNode)
    }
}
