import GRDB

/// What one batch transaction keeps in memory: nobody else writes while it is open, so the window totals it reads,
/// the reservations it made and the head of the hash chain stay exact until it commits.
///
/// Entries are always written through to SQL; only window totals are held and written once, by ``flush(_:)``,
/// in the same transaction before it commits. Every write goes through one (a single operation's transaction too),
/// so window totals have one code path.
struct LedgerBatchCache {
    /// A window: the global budget's (`scope` empty, table `budget_window`) or a scope's (`scope_window`).
    struct WindowKey: Hashable {
        var scope: String = ""
        var period: String
        var key: String
    }

    struct Window {
        var limit: Int64?
        var settled: Int64 = 0
        var reserved: Int64 = 0
        var criticalSettled: Int64 = 0
        var criticalReserved: Int64 = 0
        var dirty = false
    }

    var windows: [WindowKey: Window] = [:]
    /// The connection's `PRAGMA data_version` when the transaction began (``CommittedWindows``).
    var dataVersion: Int64?
    /// Reservations made in this transaction and still open (changed only through ``setOpen(_:_:)`` and ``takeOpen(_:)``).
    private(set) var open: [Int64: LedgerStore.OpenEntry] = [:]
    /// What each change to ``open`` replaced, so a rolled-back operation can be undone (see ``mark()``).
    private var journal: [(id: Int64, previous: LedgerStore.OpenEntry?)] = []
    init() {}

    /// A cache for a new transaction, starting from the totals of the last commit when nobody else has written since.
    init(_ db: Database, from committed: CommittedWindows) throws {
        let seed = try committed.seed(db)
        dataVersion = seed.version
        windows = seed.windows
    }

    /// Whether changes are journaled (only a group commit, whose operations roll back one by one, needs it).
    var journaling = false
    var chainHead: (id: Int64, hash: String)?
    /// The limits and zone in force (nobody else can change them while the batch is open).
    var state: LedgerState?
    /// The scopes and thresholds of ``state``'s configuration.
    var scopeConfig: ScopeConfig?
    /// Alerts this transaction recorded (or found recorded): kept by the process once it commits.
    var firedAlerts: Set<AlertKey> = []

    /// Records `entry` as open (or, with `nil`, no longer open).
    mutating func setOpen(_ id: Int64, _ entry: LedgerStore.OpenEntry?) {
        if journaling { journal.append((id, open[id])) }
        open[id] = entry
    }

    /// Removes and returns an open entry, if this transaction knows it.
    mutating func takeOpen(_ id: Int64) -> LedgerStore.OpenEntry? {
        guard let e = open.removeValue(forKey: id) else { return nil }
        if journaling { journal.append((id, e)) }
        return e
    }

    /// A point to roll back to: the windows (a few entries), the chain head and state, and the journal's length.
    struct Mark {
        fileprivate let windows: [WindowKey: Window]
        fileprivate let chainHead: (id: Int64, hash: String)?
        fileprivate let state: LedgerState?
        fileprivate let scopeConfig: ScopeConfig?
        fileprivate let firedAlerts: Set<AlertKey>
        fileprivate let journalCount: Int
    }

    /// Where the cache stands, before an operation that may be rolled back to its savepoint.
    func mark() -> Mark {
        Mark(
            windows: windows, chainHead: chainHead, state: state, scopeConfig: scopeConfig, firedAlerts: firedAlerts,
            journalCount: journal.count)
    }

    /// Undoes every change since `mark` (its savepoint was rolled back).
    mutating func rollback(to mark: Mark) {
        while journal.count > mark.journalCount {
            let (id, previous) = journal.removeLast()
            open[id] = previous
        }
        windows = mark.windows
        chainHead = mark.chainHead
        state = mark.state
        scopeConfig = mark.scopeConfig
        firedAlerts = mark.firedAlerts
    }

    /// The window's totals, read from SQL the first time the batch touches it.
    mutating func window(_ db: Database, scope: String = "", period: String, key: String) throws -> Window {
        let k = WindowKey(scope: scope, period: period, key: key)
        if let w = windows[k] { return w }
        let row: SQLiteCall
        if scope.isEmpty {
            row = try SQLiteCall(
                db, "SELECT limit_micros, settled, reserved, critical_settled, critical_reserved FROM budget_window WHERE period = ? AND key = ?")
            row.bind(1, period)
            row.bind(2, key)
        } else {
            row = try SQLiteCall(
                db,
                "SELECT limit_micros, settled, reserved, critical_settled, critical_reserved FROM scope_window WHERE period = ? AND key = ? AND scope = ?")
            row.bind(1, period)
            row.bind(2, key)
            row.bind(3, scope)
        }
        var w = Window(limit: nil)
        if try row.next() {
            w = Window(limit: row.optionalInt64(0), settled: row.int64(1), reserved: row.int64(2), criticalSettled: row.int64(3), criticalReserved: row.int64(4))
        }
        row.finish()
        windows[k] = w
        return w
    }

    /// Changes a window's totals in memory.
    @discardableResult
    mutating func change(_ db: Database, scope: String = "", period: String, key: String, _ body: (inout Window) -> Void) throws -> Window {
        var w = try window(db, scope: scope, period: period, key: key)
        body(&w)
        w.dirty = true
        windows[WindowKey(scope: scope, period: period, key: key)] = w
        return w
    }

    /// Writes the changed windows' totals (absolute values), inside the batch's transaction: one multi-row upsert per
    /// table and up to ``flushChunk`` windows, so a call in several scopes costs one statement more, not one per window.
    mutating func flush(_ db: Database) throws {
        var global: [(WindowKey, Window)] = [], scoped: [(WindowKey, Window)] = []
        for (k, w) in windows where w.dirty {
            if k.scope.isEmpty { global.append((k, w)) } else { scoped.append((k, w)) }
            windows[k]?.dirty = false
        }
        for chunk in stride(from: 0, to: global.count, by: Self.flushChunk) {
            try Self.upsert(db, Array(global[chunk..<min(global.count, chunk + Self.flushChunk)]), scoped: false)
        }
        for chunk in stride(from: 0, to: scoped.count, by: Self.flushChunk) {
            try Self.upsert(db, Array(scoped[chunk..<min(scoped.count, chunk + Self.flushChunk)]), scoped: true)
        }
    }

    /// The most windows one upsert statement writes.
    static let flushChunk = 16

    private static func upsert(_ db: Database, _ rows: [(WindowKey, Window)], scoped: Bool) throws {
        let table = scoped ? "scope_window" : "budget_window"
        let columns = scoped ? "scope, period, key" : "period, key"
        let values = Array(repeating: scoped ? "(?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
        let upsert = try SQLiteCall(
            db,
            """
            INSERT INTO \(table) (\(columns), limit_micros, settled, reserved, critical_settled, critical_reserved) VALUES \(values)
            ON CONFLICT (\(columns)) DO UPDATE SET limit_micros = excluded.limit_micros, settled = excluded.settled,
                reserved = excluded.reserved, critical_settled = excluded.critical_settled, critical_reserved = excluded.critical_reserved
            """)
        var n: Int32 = 1
        for (k, w) in rows {
            if scoped {
                upsert.bind(n, k.scope)
                n += 1
            }
            upsert.bind(n, k.period)
            upsert.bind(n + 1, k.key)
            upsert.bind(n + 2, w.limit)
            upsert.bind(n + 3, w.settled)
            upsert.bind(n + 4, w.reserved)
            upsert.bind(n + 5, w.criticalSettled)
            upsert.bind(n + 6, w.criticalReserved)
            n += 7
        }
        try upsert.run()
    }
}
