import StratusCore
import Testing

@Suite struct CircuitBreakerTests {
    let t0 = ContinuousClock.now

    func breaker(rate: Int = 50, minimum: Int = 4, window: Int = 10, cooldown: Duration = .seconds(30), probes: Int = 2)
        -> CircuitBreakerState
    {
        var configuration = FunctionConfig.CircuitBreaker()
        configuration.failureRate = rate
        configuration.minimumCalls = minimum
        configuration.window = window
        configuration.cooldown = cooldown
        configuration.halfOpenCalls = probes
        return CircuitBreakerState(configuration: configuration)
    }

    @Test func opensAtTheThresholdOnlyAfterMinimumCalls() {
        var b = breaker(rate: 50, minimum: 4)
        #expect(b.record(failure: true, now: t0) == nil)
        #expect(b.record(failure: true, now: t0) == nil)
        #expect(b.record(failure: true, now: t0) == nil, "3 of 3 failed, but fewer than minimumCalls")
        let transition = b.record(failure: false, now: t0)
        #expect(transition?.to == .open, "3 of 4 = 75% >= 50%")
        #expect(transition?.reason == "3 of 4 calls failed")
        #expect(b.allow(now: t0).allowed == false)
    }

    @Test func thresholdIsInclusive() {
        var b = breaker(rate: 50, minimum: 4)
        _ = b.record(failure: false, now: t0)
        _ = b.record(failure: false, now: t0)
        _ = b.record(failure: true, now: t0)
        #expect(b.record(failure: true, now: t0)?.to == .open, "2 of 4 = exactly 50% opens (>=)")
        var below = breaker(rate: 51, minimum: 4)
        for failure in [false, false, true, true] { _ = below.record(failure: failure, now: t0) }
        #expect(below.state == .closed)
    }

    @Test func windowSlides() {
        var b = breaker(rate: 50, minimum: 4, window: 4)
        for failure in [true, false, false, false, false, false] { _ = b.record(failure: failure, now: t0) }
        #expect(b.state == .closed)
        _ = b.record(failure: true, now: t0)
        #expect(b.state == .closed, "1 of the last 4 failed")
        #expect(b.record(failure: true, now: t0)?.to == .open, "2 of the last 4")
    }

    @Test func halfOpenAfterCooldownThenClosesOnSuccesses() {
        var b = breaker(minimum: 1, cooldown: .seconds(30), probes: 2)
        _ = b.record(failure: true, now: t0)
        #expect(b.probeAt == t0 + .seconds(30))
        #expect(b.allow(now: t0 + .seconds(29)).allowed == false)
        #expect(!b.wouldAllow(now: t0 + .seconds(29)) && b.wouldAllow(now: t0 + .seconds(30)))
        let probe = b.allow(now: t0 + .seconds(30))
        #expect(probe.allowed && probe.transition?.to == .halfOpen)
        #expect(b.allow(now: t0 + .seconds(30)).allowed)
        #expect(b.allow(now: t0 + .seconds(30)).allowed == false, "only halfOpenCalls probes")
        #expect(b.record(failure: false, now: t0 + .seconds(31)) == nil)
        #expect(b.record(failure: false, now: t0 + .seconds(31))?.to == .closed)
        #expect(b.allow(now: t0 + .seconds(31)).allowed)
    }

    @Test func aFailedProbeReopens() {
        var b = breaker(minimum: 1, cooldown: .seconds(5), probes: 3)
        _ = b.record(failure: true, now: t0)
        _ = b.allow(now: t0 + .seconds(5))
        #expect(b.record(failure: true, now: t0 + .seconds(6))?.to == .open)
        #expect(b.probeAt == t0 + .seconds(11), "the cooldown starts again")
    }

    @Test func resetClosesByHand() {
        var b = breaker(minimum: 1)
        _ = b.record(failure: true, now: t0)
        #expect(b.reset()?.to == .closed)
        #expect(b.reset() == nil)
        #expect(b.allow(now: t0).allowed)
    }

    /// A probe that never ran (throttled while the pool was full) gives its slot back; otherwise a half-open
    /// breaker would wait for that outcome forever and refuse every call.
    @Test func anAbandonedProbeFreesItsSlot() {
        var b = breaker(minimum: 1, cooldown: .seconds(5), probes: 1)
        _ = b.record(failure: true, now: t0)
        let probe = b.allow(now: t0 + .seconds(5))
        #expect(probe.allowed && b.state == .halfOpen)
        #expect(b.allow(now: t0 + .seconds(5)).allowed == false, "one probe at a time")
        b.abandon(probe.ticket)
        let again = b.allow(now: t0 + .seconds(6))
        #expect(again.allowed, "the slot came back")
        #expect(b.record(failure: false, now: t0 + .seconds(7), ticket: again.ticket)?.to == .closed)
    }

    /// A call let in while the breaker was closed, ending after it opened and went half-open, is not taken
    /// for a probe.
    @Test func outcomesOfCallsFromAnEarlierStateAreNotCounted() {
        var b = breaker(minimum: 1, cooldown: .seconds(5), probes: 1)
        let early = b.allow(now: t0)
        _ = b.record(failure: true, now: t0)
        #expect(b.state == .open)
        let probe = b.allow(now: t0 + .seconds(5))
        #expect(b.record(failure: false, now: t0 + .seconds(6), ticket: early.ticket) == nil, "the early call ended")
        #expect(b.state == .halfOpen, "and did not close it")
        #expect(b.record(failure: false, now: t0 + .seconds(6), ticket: probe.ticket)?.to == .closed)
    }
}
