import StratusCore
import Testing

/// The pool's decisions against a mock clock: no processes, no sleeping.
@Suite struct PoolStateMachineTests {
    typealias Machine = PoolStateMachine<Int>
    let t0 = ContinuousClock.now

    func machine(
        min: Int = 0, max: Int = 3, idle: Duration = .seconds(60), queue: Int = 2, maxWait: Duration = .seconds(5),
        prewarm: Bool = false
    ) -> Machine {
        var configuration = Machine.Configuration()
        configuration.min = min
        configuration.max = max
        configuration.idle = idle
        configuration.maxWaiting = queue
        configuration.maxWait = maxWait
        configuration.prewarm = prewarm
        return Machine(configuration: configuration)
    }

    @Test func spawnsOnDemandInParallelAndReusesWarmWorkers() {
        var pool = machine()
        // A burst of three: each caller starts its own worker, all at once.
        #expect(pool.acquire(waiter: 1, now: t0, canGrow: true) == .start)
        #expect(pool.acquire(waiter: 2, now: t0, canGrow: true) == .start)
        #expect(pool.acquire(waiter: 3, now: t0, canGrow: true) == .start)
        #expect(pool.startingCount == 3)
        pool.started(10)
        pool.started(11)
        pool.started(12)
        #expect(pool.counters.coldStarts == 3)
        #expect(pool.released(10, alive: true, now: t0) == .none)
        #expect(
            pool.acquire(waiter: 4, now: t0, canGrow: true) == .use(10), "a warm worker is reused before starting one")
        #expect(pool.total == 3)
    }

    @Test func neverAboveMaxThenWaitsThenThrottles() {
        var pool = machine(max: 1, queue: 1)
        #expect(pool.acquire(waiter: 1, now: t0, canGrow: true) == .start)
        pool.started(10)
        #expect(pool.acquire(waiter: 2, now: t0, canGrow: true) == .wait)
        #expect(pool.acquire(waiter: 3, now: t0, canGrow: true) == .throttle, "the wait queue is full")
        #expect(pool.counters.throttles == 1)
        #expect(
            pool.released(10, alive: true, now: t0) == .handOff(10, to: 2),
            "a returning worker goes to the first waiter")
        #expect(pool.total == 1)
    }

    @Test func waitersPastTheWaitBoundAreThrottled() {
        var pool = machine(max: 1, queue: 5, maxWait: .seconds(2))
        _ = pool.acquire(waiter: 1, now: t0, canGrow: true)
        pool.started(10)
        #expect(pool.acquire(waiter: 2, now: t0, canGrow: true) == .wait)
        #expect(pool.acquire(waiter: 3, now: t0 + .seconds(1), canGrow: true) == .wait)
        #expect(pool.tick(now: t0 + .milliseconds(1999), growth: 10).timedOut == [])
        #expect(pool.tick(now: t0 + .seconds(2), growth: 10).timedOut == [2])
        #expect(pool.tick(now: t0 + .seconds(3), growth: 10).timedOut == [3])
        #expect(pool.waitingCount == 0 && pool.counters.throttles == 2)
    }

    @Test func retiresAfterIdleDownToMin() {
        var pool = machine(min: 1, max: 3, idle: .seconds(60))
        for (waiter, worker) in [(1, 10), (2, 11), (3, 12)] {
            _ = pool.acquire(waiter: waiter, now: t0, canGrow: true)
            pool.started(worker)
        }
        _ = pool.released(10, alive: true, now: t0)
        _ = pool.released(11, alive: true, now: t0 + .seconds(10))
        _ = pool.released(12, alive: true, now: t0 + .seconds(20))
        #expect(pool.tick(now: t0 + .seconds(59), growth: 10).retire == [])
        #expect(pool.tick(now: t0 + .seconds(60), growth: 10).retire == [10], "the longest idle goes first")
        #expect(pool.tick(now: t0 + .seconds(200), growth: 10).retire == [11], "never below min")
        #expect(pool.total == 1 && pool.counters.scaleDowns == 2)
    }

    @Test func warmFloorIsFilledAndScaleToZeroWorks() {
        var floor = machine(min: 2, max: 4)
        #expect(floor.tick(now: t0, growth: 10).startWarm == 2)
        #expect(floor.startedWarm(10, now: t0) == .none)
        #expect(floor.startedWarm(11, now: t0) == .none)
        #expect(floor.idleCount == 2)
        #expect(floor.tick(now: t0 + .seconds(600), growth: 10) == .init(), "min workers are never retired")

        var zero = machine(min: 0, idle: .seconds(1))
        _ = zero.acquire(waiter: 1, now: t0, canGrow: true)
        zero.started(10)
        _ = zero.released(10, alive: true, now: t0)
        #expect(zero.tick(now: t0 + .seconds(1), growth: 10).retire == [10])
        #expect(zero.total == 0)
    }

    @Test func deadWorkersAreReplacedForWaitersAndTheWarmFloor() {
        var pool = machine(min: 1, max: 1, queue: 3)
        _ = pool.acquire(waiter: 1, now: t0, canGrow: true)
        pool.started(10)
        #expect(pool.acquire(waiter: 2, now: t0, canGrow: true) == .wait)
        #expect(pool.released(10, alive: false, now: t0) == .startFor(waiter: 2), "the waiter starts the replacement")
        pool.started(11)
        #expect(pool.released(11, alive: false, now: t0) == .startWarm, "min says one should be warm")
        #expect(pool.counters.replaced == 2)
        #expect(pool.startedWarm(12, now: t0) == .none)
        #expect(
            pool.acquire(waiter: 3, now: t0, canGrow: true) == .use(12), "the next caller does not pay a cold start")
    }

    @Test func workersThatCannotStartAreRetriedWithBackoffNotInALoop() {
        var pool = machine(min: 1, max: 2)
        #expect(pool.tick(now: t0, growth: 10).startWarm == 1)
        // The first failure is retried at once; from the second on, warm starts wait, doubling to a minute.
        #expect(pool.workerFailedToStart(now: t0) == nil)
        _ = pool.startFailed()
        #expect(pool.tick(now: t0, growth: 10).startWarm == 1)
        #expect(pool.workerFailedToStart(now: t0) == .milliseconds(500))
        _ = pool.startFailed()
        #expect(pool.tick(now: t0 + .milliseconds(499), growth: 10).startWarm == 0, "held back")
        #expect(pool.nextDeadline() == t0 + .milliseconds(500), "the loop wakes for the retry, not before")
        #expect(pool.tick(now: t0 + .milliseconds(500), growth: 10).startWarm == 1)
        var waits: [Duration] = []
        for _ in 0..<12 { waits.append(pool.workerFailedToStart(now: t0) ?? .zero) }
        #expect(waits.prefix(3) == [.seconds(1), .seconds(2), .seconds(4)])
        #expect(waits.last == .seconds(60), "at most a minute")
        // A dead idle worker that never got ready does not bring an immediate replacement either.
        pool.started(10)
        #expect(pool.released(10, alive: false, now: t0) == .none)
        // Callers still get their own start: only the warm floor waits.
        #expect(pool.acquire(waiter: 1, now: t0, canGrow: true) == .start)
        // Once a worker is ready, the floor is filled at once again.
        pool.started(11)
        pool.workerStarted()
        #expect(pool.warmRetryAt == nil)
        #expect(pool.released(11, alive: false, now: t0) == .startWarm)
    }

    @Test func hostBudgetHoldsCallersUntilItAllows() {
        var pool = machine(max: 4)
        #expect(pool.acquire(waiter: 1, now: t0, canGrow: false) == .wait, "no host budget: wait rather than exceed it")
        #expect(pool.tick(now: t0, growth: 0).startFor == [])
        #expect(pool.tick(now: t0 + .milliseconds(100), growth: 1).startFor == [1])
        #expect(pool.startingCount == 1)
    }

    @Test func prewarmsOneAheadWhileAllAreBusy() {
        var pool = machine(max: 3, prewarm: true)
        _ = pool.acquire(waiter: 1, now: t0, canGrow: true)
        pool.started(10)
        #expect(pool.tick(now: t0, growth: 10).startWarm == 1)
        #expect(pool.tick(now: t0, growth: 10).startWarm == 0, "one at a time")
        #expect(pool.startedWarm(11, now: t0) == .none)
        #expect(pool.tick(now: t0, growth: 10).startWarm == 0, "an idle worker is ready")

        var off = machine(max: 3, prewarm: false)
        _ = off.acquire(waiter: 1, now: t0, canGrow: true)
        off.started(10)
        #expect(off.tick(now: t0, growth: 10).startWarm == 0)
    }

    @Test func reclaimGivesUpIdleWorkersAboveTheFloorOnly() {
        var pool = machine(min: 1, max: 3)
        for (waiter, worker) in [(1, 10), (2, 11)] {
            _ = pool.acquire(waiter: waiter, now: t0, canGrow: true)
            pool.started(worker)
        }
        #expect(pool.reclaimIdle() == nil, "busy workers are never reclaimed")
        _ = pool.released(10, alive: true, now: t0)
        _ = pool.released(11, alive: true, now: t0 + .seconds(1))
        #expect(pool.reclaimIdle() == 10)
        #expect(pool.reclaimIdle() == nil, "the warm floor stays")
    }

    @Test func failedStartsLetTheNextWaiterTry() {
        var pool = machine(max: 1, queue: 2)
        _ = pool.acquire(waiter: 1, now: t0, canGrow: true)
        #expect(pool.acquire(waiter: 2, now: t0, canGrow: true) == .wait)
        #expect(pool.startFailed() == .startFor(waiter: 2))
        #expect(pool.startFailed() == .none)
        #expect(pool.total == 0)
    }
}
