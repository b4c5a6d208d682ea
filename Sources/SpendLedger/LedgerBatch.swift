public import Foundation
import GRDB
public import ModelSelection

/// Operations run inside one ``SQLiteLedger/batch(_:)`` transaction.
public struct LedgerBatch {
    let db: Database
    let ledger: SQLiteLedger
    /// Window totals, open reservations and the chain head, exact while the batch's transaction is open.
    var cache: LedgerBatchCache

    init(db: Database, ledger: SQLiteLedger, cache: LedgerBatchCache) {
        self.db = db
        self.ledger = ledger
        self.cache = cache
    }

    /// Reserves, as ``SQLiteLedger/reserve(_:at:choose:)``, inside the batch.
    public mutating func reserve(_ request: ReservationRequest, at date: Date, choose: (BudgetSnapshot) -> Selection) throws
        -> ReservationOutcome
    {
        let ledger = self.ledger
        return try LedgerStore.reserve(
            db, request, at: date, windows: { try ledger.windows(for: date, zone: $0) }, configuration: ledger.configuration,
            context: ledger.storeContext, expiring: ledger.windowCache.shouldCheckExpired(at: date) ? ledger.openReservations : nil, cache: &cache, choose: choose)
    }

    /// Settles, as ``SQLiteLedger/settle(_:_:at:)``, inside the batch.
    /// - Returns: What was recorded (the entry is not read back).
    @discardableResult
    public mutating func settle(_ reservationID: Int64, _ settlement: Settlement, at date: Date) throws -> SettlementReceipt {
        try LedgerStore.settle(db, reservationID, settlement, at: date, cache: &cache, context: ledger.storeContext)
    }

    /// Releases, as ``SQLiteLedger/release(_:error:at:)``, inside the batch.
    public mutating func release(_ reservationID: Int64, error: String?, at date: Date) throws {
        try LedgerStore.release(db, reservationID, error: error, at: date, cache: &cache, chain: ledger.configuration.chain)
    }
}
