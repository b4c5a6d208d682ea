import FleetLedger
import Testing

/// The lease-size policy as a pure state machine on a virtual clock (micro-seconds).
@Suite("Lease policy")
struct LeasePolicyTests {
    static let second: Int64 = 1_000_000

    @Test("A lease is never below the estimate, never above 10% of what is left nor the maximum, and exactly the estimate near the end")
    func bounds() {
        var p = LeasePolicy()
        for i in 0..<1_000 { p.record(10_000, at: Int64(i) * 1_000) }  // a heavy burn: it wants a lot
        #expect(p.size(available: 1_000_000_000, estimate: 1_000) == 5_000_000)  // the maximum ($5)
        #expect(p.size(available: 20_000_000, estimate: 1_000) == 2_000_000)  // 10% of what is left
        #expect(p.size(available: 20_000, estimate: 1_000) == 1_000)  // 20 estimates left: one call at a time
        #expect(p.size(available: 0, estimate: 1_000) == 1_000)
        #expect(p.size(available: 30_000, estimate: 2_000) == 2_000)
        let idle = LeasePolicy()
        #expect(idle.size(available: 1_000_000_000, estimate: 1_000) == 4_000)  // no history: four calls' worth
    }

    @Test("The burn rate sizes the lease for the horizon, and decays when the host goes quiet")
    func burnRate() {
        var p = LeasePolicy()
        for i in 0..<200 { p.record(1_000, at: Int64(i) * Self.second / 100) }  // $0.10/s for 2 s
        let busy = p.size(available: 10_000_000_000, estimate: 1_000)
        // The rate's average (half-life 5 s) has reached a quarter of $0.10/s after 2 s: ≈ $0.24 over the 10 s horizon.
        #expect(busy > 200_000 && busy < 300_000, "\(busy)")
        p.record(0, at: 60 * Self.second)
        #expect(p.size(available: 10_000_000_000, estimate: 1_000) == 4_000)  // a minute quiet: back to four calls' worth
    }

    @Test("Slow start: a lease used up within half the horizon doubles the next one; a slow one does not")
    func slowStart() {
        var p = LeasePolicy()
        p.granted(4_000, at: 0)
        p.granted(4_000, at: Self.second)  // the first went in a second
        #expect(p.size(available: 10_000_000_000, estimate: 1_000) >= 8_000)
        p.granted(8_000, at: 2 * Self.second)
        #expect(p.size(available: 10_000_000_000, estimate: 1_000) >= 16_000)
        #expect(p.size(available: 100_000, estimate: 1_000) == 10_000)  // still within 10% of what is left
        p.granted(16_000, at: 60 * Self.second)  // a minute later: no growth
        #expect(p.size(available: 10_000_000_000, estimate: 1_000) == 4_000)
    }
}
