import Foundation
import GRDB
import Synchronization

/// What every copy of one opened ledger shares: window and calendar caches, the state read at opening, the damage
/// mark and the file's identity.
final class WindowCacheBox: Sendable {
    let cache = Mutex(WindowCache())
    /// The state read when the ledger was opened (for ``SQLiteLedger/limits`` and ``SQLiteLedger/calendar``).
    let opened = Mutex(LedgerState(limits: .unlimited, chainMode: "sha256"))
    /// Set when a write found the file damaged: every later write is refused.
    let damage = Mutex<LedgerError?>(nil)
    /// The scope configurations read, by recorded configuration.
    let scopeConfigs = ScopeConfigCache()
    /// The alerts known to be recorded.
    let alertLog = AlertLog()
    private let identity = Mutex<LedgerFile.Identity?>(nil)
    private let lastFileCheck = Mutex<ContinuousClock.Instant?>(nil)

    /// Whether a write should check that the file is still the one opened: at most every 20 ms (a `stat` of the path
    /// cost about a tenth of a reserve+settle when made on every write).
    func shouldCheckFile() -> Bool {
        let now = ContinuousClock.now
        return lastFileCheck.withLock { last in
            if let l = last, now - l < .milliseconds(20) { return false }
            last = now
            return true
        }
    }

    /// The file's device and inode when it was opened (a file ledger only).
    var fileIdentity: LedgerFile.Identity? {
        get { identity.withLock { $0 } }
        set { identity.withLock { $0 = newValue } }
    }
    private let calendars = Mutex<[String: BudgetCalendar]>([:])

    /// The calendar of a zone, made once.
    func calendar(_ zone: String) throws -> BudgetCalendar {
        if let c = calendars.withLock({ $0[zone] }) { return c }
        let c = try BudgetCalendar(timeZoneIdentifier: zone)
        calendars.withLock { $0[zone] = c }
        return c
    }
    /// The last time (µs) a reservation looked for expired reservations.
    private let lastExpiryCheck = Mutex(Int64.min)

    /// Whether a reservation at `date` should look for expired reservations: at most once a second of call time
    /// (reading a window always does).
    func shouldCheckExpired(at date: Date) -> Bool {
        let now = LedgerStore.micros(date)
        return lastExpiryCheck.withLock { last in
            guard now >= last &+ 1_000_000 || now < last else { return false }
            last = now
            return true
        }
    }
}
