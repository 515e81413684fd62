import Foundation
import Logging
import NIOCore
import StratusCore
import Synchronization

/// The worker processes of one function. Decisions come from `PoolStateMachine`; this type does the
/// I/O: starting and stopping processes, parking callers, and recording every scale step as an event.
package final class WorkerPool: Sendable {
    /// Why a worker could not be had.
    package enum AcquireError: Error, Sendable {
        /// The pool is at its ceiling and the caller could not wait (queue full or wait too long).
        case throttled
        /// The runtime could not be started at all (missing interpreter, bootstrap not executable).
        case cannotStart(String)
        case stopped
        /// A newer revision of the function replaced this pool (or the function was removed): ask the
        /// dispatcher for the pool that serves it now.
        case retired
    }

    private enum Lease: Sendable {
        case worker(Worker)
        case start
    }

    private struct State {
        var machine: PoolStateMachine<Worker>
        var parked: [Int: CheckedContinuation<Lease, any Error>] = [:]
        var nextWaiter = 0
        var stopped = false
        /// Stopped by a reload: busy workers finish their invocation, then stop.
        var retiring = false
        /// The workers that were busy when the pool retired.
        var retired: [Worker] = []
        /// When the run loop wakes on its own next; events that need it no sooner leave it asleep.
        var plannedWake: ContinuousClock.Instant?
    }

    package let function: DeployedFunction
    private let launcher: WorkerLauncher
    private let budget: WorkerBudget
    private let log: InvocationLog
    private let state: Mutex<State>
    private let warmStarts: AsyncStream<Void>.Continuation
    private let warmStartRequests: AsyncStream<Void>
    private let logger: Logger
    private let clock: any HostClock
    /// Wakes `run()` when an event may give the state machine something to do (a caller waiting, a worker
    /// idle, a start ended, budget freed); otherwise it sleeps until the machine's next deadline.
    private let wake: QueueSignal
    private static let wakeKey = "pool"

    /// Asks other pools for an idle worker's budget slot; set by the host.
    private let reclaim: @Sendable (String) -> Bool
    /// This pool's listener on the budget, removed when it stops (pools come and go with reloads).
    private let budgetListener = Mutex<Int?>(nil)

    package init(
        function: DeployedFunction, launcher: WorkerLauncher, budget: WorkerBudget, log: InvocationLog,
        clock: any HostClock = SystemClock(), logger: Logger,
        reclaim: @escaping @Sendable (String) -> Bool = { _ in false }
    ) {
        self.clock = clock
        wake = QueueSignal(clock: clock)
        self.reclaim = reclaim
        self.function = function
        self.launcher = launcher
        self.budget = budget
        self.log = log
        self.logger = logger
        var configuration = PoolStateMachine<Worker>.Configuration()
        let scaling = function.config.scaling
        configuration.min = scaling.min
        configuration.max = scaling.max
        configuration.idle = scaling.idle
        configuration.maxWaiting = scaling.queue
        configuration.maxWait = scaling.maxWait
        configuration.prewarm = scaling.prewarm
        state = Mutex(State(machine: PoolStateMachine(configuration: configuration)))
        (warmStartRequests, warmStarts) = AsyncStream.makeStream(of: Void.self)
        budget.reserve(scaling.reserved, for: function.name)
        let token = budget.onRelease { [weak self] in self?.budgetFreed() }
        budgetListener.withLock { $0 = token }
    }

    private func wakeUp() {
        wake.notify(Self.wakeKey)
    }

    /// Slots came free somewhere: look again if a caller waits or the warm floor is not met.
    private func budgetFreed() {
        let needs = state.withLock {
            !$0.stopped && ($0.machine.waitingCount > 0 || $0.machine.total < $0.machine.configuration.min)
        }
        if needs { wakeUp() }
    }

    /// Figures for `stratus status`.
    package struct Snapshot: Sendable {
        package var busy: Int
        package var idle: Int
        package var starting: Int
        package var waiting: Int
        package var counters: PoolStateMachine<Worker>.Counters
        package var total: Int { busy + idle + starting }
    }

    package var snapshot: Snapshot {
        state.withLock {
            Snapshot(
                busy: $0.machine.busyCount, idle: $0.machine.idleCount, starting: $0.machine.startingCount,
                waiting: $0.machine.waitingCount, counters: $0.machine.counters)
        }
    }

    /// Takes a worker for one invocation; `cold` when it was started for this call.
    package func acquire() async throws(AcquireError) -> (worker: Worker, cold: Bool) {
        let lease: Lease
        do {
            lease = try await withCheckedThrowingContinuation { continuation in
                let now = clock.now
                let (decision, needsTick) = state.withLock { state -> (Result<Lease, AcquireError>?, Bool) in
                    if state.stopped { return (.failure(state.retiring ? .retired : .stopped), false) }
                    let id = state.nextWaiter
                    state.nextWaiter += 1
                    let mayGrow = state.machine.idleCount == 0 && state.machine.total < state.machine.configuration.max
                    let grew = mayGrow && budget.take(for: function.name)
                    switch state.machine.acquire(waiter: id, now: now, canGrow: grew) {
                    case .use(let worker): return (.success(.worker(worker)), state.machine.wantsPrewarm)
                    case .start: return (.success(.start), state.machine.wantsPrewarm)
                    case .wait:
                        if grew { budget.give(for: function.name) }
                        state.parked[id] = continuation
                        // The loop looks for room to grow (another function's idle worker) and throttles callers
                        // that waited too long: at the ceiling, only the second matters, and only if the loop
                        // would sleep past this caller's deadline.
                        let atCeiling = state.machine.total >= state.machine.configuration.max
                        let deadline = now + state.machine.configuration.maxWait
                        return (nil, !atCeiling || state.plannedWake.map { $0 > deadline } ?? true)
                    case .throttle:
                        if grew { budget.give(for: function.name) }
                        return (.failure(.throttled), false)
                    }
                }
                if needsTick { wakeUp() }
                if let decision { continuation.resume(with: decision) }
            }
        } catch let error as AcquireError {
            if case .throttled = error {
                event(
                    .throttled,
                    "pool at its ceiling of \(function.config.scaling.max) with \(function.config.scaling.queue) callers waiting"
                )
            }
            throw error
        } catch {
            throw .stopped
        }
        switch lease {
        case .worker(let worker):
            guard worker.isAlive else {
                release(worker)
                return try await acquire()
            }
            return (worker, false)
        case .start:
            return (try await start(), true)
        }
    }

    /// Returns a worker after an invocation; a dead one is replaced as the state machine decides.
    package func release(_ worker: Worker) {
        let alive = worker.isAlive
        let now = clock.now
        let (action, newDeadline, retiring) = state.withLock {
            state -> (PoolStateMachine<Worker>.ReleaseAction, Bool, Bool) in
            guard !state.stopped else {
                // Retired: this worker's last invocation ended (its slot goes back now). Shut down: the shutdown
                // stopped it and gave its slot back.
                state.retired.removeAll { $0 === worker }
                return (.none, false, state.retiring)
            }
            let wasIdle = state.machine.idleCount
            if alive {
                state.machine.workerStarted()
            } else if !worker.wasReady {
                state.machine.workerFailedToStart(now: now)
            }
            let action = state.machine.released(worker, alive: alive, now: now)
            // A first idle worker sets a retirement deadline, which matters only if the loop would sleep past it.
            let firstIdle = wasIdle == 0 && state.machine.idleCount == 1
            let retirement = now + state.machine.configuration.idle
            return (action, firstIdle && state.plannedWake.map { $0 > retirement } ?? true, false)
        }
        if retiring {
            // A newer revision serves the function now: this worker's last invocation has ended.
            budget.give(for: function.name)
            worker.stop()
            return
        }
        // A dead worker may leave the warm floor short.
        if newDeadline || !alive { wakeUp() }
        if !alive {
            budget.give(for: function.name)
            worker.stop()
            event(
                .replaced,
                "worker \(worker.pid.map(String.init) ?? "?") stopped after a crash, timeout or memory overrun")
        }
        perform(action)
    }

    private func perform(_ action: PoolStateMachine<Worker>.ReleaseAction) {
        switch action {
        case .none: break
        case .handOff(let worker, let waiter): resume(waiter, with: .success(.worker(worker)))
        case .startFor(let waiter):
            budget.forceTake(for: function.name)
            resume(waiter, with: .success(.start))
        case .startWarm:
            requestWarmStart()
        }
    }

    private func resume(_ waiter: Int, with result: Result<Lease, AcquireError>) {
        let continuation = state.withLock { $0.parked.removeValue(forKey: waiter) }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    /// Starts a worker for the calling invocation.
    private func start() async throws(AcquireError) -> Worker {
        do {
            let worker = try await launcher.launch(function) { [weak self] in self?.wakeUp() }
            let total = state.withLock { state in
                // A retired pool lets the worker serve the invocation it was started for; `release` stops it.
                if !state.stopped { state.machine.started(worker) }
                return state.machine.total
            }
            event(
                .scaleUp,
                "cold start for an invocation, worker \(worker.pid.map(String.init) ?? "?") (\(total)/\(function.config.scaling.max))"
            )
            return worker
        } catch {
            budget.give(for: function.name)
            perform(state.withLock { $0.machine.startFailed() })
            wakeUp()
            throw .cannotStart("\(error)")
        }
    }

    /// Starts a worker ahead of demand (warm floor, pre-warming, replacement).
    private func startWarm() async {
        do {
            let worker = try await launcher.launch(function) { [weak self] in self?.wakeUp() }
            let now = clock.now
            let (action, total, stopped) = state.withLock { state in
                state.stopped
                    ? (.none, state.machine.total, true)
                    : (state.machine.startedWarm(worker, now: now), state.machine.total, false)
            }
            wakeUp()
            if stopped {
                // The pool stopped or was retired while this worker started: nobody will use it.
                budget.give(for: function.name)
                worker.stop()
                return
            }
            event(
                .scaleUp,
                "warm worker \(worker.pid.map(String.init) ?? "?") started ahead of demand (\(total)/\(function.config.scaling.max))"
            )
            perform(action)
        } catch {
            budget.give(for: function.name)
            logger.warning("warm start failed", metadata: ["function": "\(function.name)", "error": "\(error)"])
            let now = clock.now
            let (action, wait) = state.withLock { state in
                (state.machine.startFailed(), state.machine.workerFailedToStart(now: now))
            }
            if let wait { backingOff(wait, "its workers cannot be started: \(error)") }
            perform(action)
            wakeUp()
        }
    }

    /// Warm starts wait after workers failed to start in a row: one event per wait, not one per failure.
    private func backingOff(_ wait: Duration, _ reason: String) {
        let failures = state.withLock { $0.machine.startFailures }
        event(
            .replaced,
            "\(failures) workers in a row failed before they were ready (\(reason)); the next warm start waits \(DurationParser.format(wait))"
        )
    }

    /// Keeps the pool at its warm floor, retires idle workers, throttles callers that waited too long: runs the
    /// state machine's `tick` when an event wakes it, or at the machine's next deadline. Idle, it sleeps.
    package func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [warmStartRequests] in
                await withTaskGroup(of: Void.self) { starts in
                    for await _ in warmStartRequests { starts.addTask { await self.startWarm() } }
                }
            }
            while !Task.isCancelled && !state.withLock({ $0.stopped }) {
                let generation = wake.generation(Self.wakeKey)
                let now = clock.now
                self.tick(now: now)
                let timeout = state.withLock { state in
                    let deadline = state.machine.nextDeadline()
                    let timeout = deadline.map { Swift.max(.milliseconds(1), $0 - now) } ?? .seconds(3600)
                    state.plannedWake = now + timeout
                    return timeout
                }
                await wake.wait(Self.wakeKey, since: generation, timeout: timeout)
            }
            warmStarts.finish()
        }
    }

    /// Retires one idle worker above the warm floor, for a function that is starved of budget.
    package func reclaimIdleWorker(for other: String) -> Bool {
        guard let worker = state.withLock({ $0.stopped ? nil : $0.machine.reclaimIdle() }) else { return false }
        budget.give(for: function.name)
        worker.stop()
        event(.scaleDown, "idle worker \(worker.pid.map(String.init) ?? "?") retired to make room for \(other)")
        return true
    }

    private func tick(now: ContinuousClock.Instant) {
        var growth = budget.available(for: function.name)
        if growth == 0,
            state.withLock({ $0.machine.waitingCount > 0 && $0.machine.total < $0.machine.configuration.max })
        {
            // The host-wide cap is reached while callers wait here: take an idle worker from another function.
            if reclaim(function.name) { growth = budget.available(for: function.name) }
        }
        let (actions, deadIdle) = state.withLock { state -> (PoolStateMachine<Worker>.TickActions, [Worker]) in
            // Stopped or retired meanwhile: the machine was drained, nothing is to be started or retired here.
            guard !state.stopped else { return (.init(), []) }
            let dead = state.machine.allWorkers.filter { !$0.isAlive }
            let removed = dead.filter { state.machine.removeIdle($0) }
            for worker in removed where !worker.wasReady { state.machine.workerFailedToStart(now: now) }
            if state.machine.startFailures > 0, state.machine.allWorkers.contains(where: { $0.isAlive && $0.wasReady })
            {
                state.machine.workerStarted()  // the code starts again (fixed on disk, or the failure was passing)
            }
            return (state.machine.tick(now: now, growth: growth), removed)
        }
        for worker in deadIdle {
            budget.give(for: function.name)
            worker.stop()
            event(.replaced, "idle worker \(worker.pid.map(String.init) ?? "?") exited")
        }
        if deadIdle.contains(where: { !$0.wasReady }),
            let retry = state.withLock({ $0.machine.warmRetryAt }), retry > now
        {
            backingOff(retry - now, "they exit before their runtime is ready: see the function's logs")
        }
        for worker in actions.retire {
            budget.give(for: function.name)
            worker.stop()
            event(
                .scaleDown,
                "worker \(worker.pid.map(String.init) ?? "?") idle for \(DurationParser.format(function.config.scaling.idle)), retired"
            )
        }
        for waiter in actions.timedOut {
            event(.throttled, "caller waited \(DurationParser.format(function.config.scaling.maxWait)) for a worker")
            resume(waiter, with: .failure(.throttled))
        }
        for waiter in actions.startFor {
            budget.forceTake(for: function.name)
            resume(waiter, with: .success(.start))
        }
        for _ in 0..<actions.startWarm { requestWarmStart() }
    }

    /// Takes the slot of a warm start the state machine decided on and asks `run()` for it; when the pool
    /// stopped meanwhile, nothing starts and the slot goes back.
    private func requestWarmStart() {
        budget.forceTake(for: function.name)
        if case .terminated = warmStarts.yield() {
            budget.give(for: function.name)
            _ = state.withLock { $0.machine.startFailed() }
        }
    }

    /// Stops every worker and fails waiting callers. With `abort`, invocations still running end as
    /// `crashed` with that message (the host stops waiting for them); returns how many did.
    @discardableResult
    package func shutdown(abort message: String? = nil) async -> Int {
        let (workers, waiters) = state.withLock { state in
            state.stopped = true
            let drained = state.machine.drain()
            // Only the waiters still in the machine: a decision taken just before (a hand-off, a start, a
            // timeout) has claimed its waiter and resumes it itself.
            let retired = state.retired
            state.retired = []
            state.retiring = false
            return (
                drained.idle + drained.busy + retired,
                drained.waiters.compactMap { state.parked.removeValue(forKey: $0) }
            )
        }
        warmStarts.finish()
        wakeUp()
        if let token = budgetListener.withLock({ $0 }) { budget.removeListener(token) }
        waiters.forEach { $0.resume(throwing: AcquireError.stopped) }
        var aborted = 0
        for worker in workers {
            if let message, worker.isBusy {
                aborted += 1
                worker.abort(message)
            } else {
                worker.stop()
            }
        }
        for worker in workers { await worker.waitForExit() }
        budget.give(for: function.name, count: workers.count)
        return aborted
    }

    /// Starts `count` workers before the pool takes any invocation and waits (at most `timeout`) until their
    /// runtimes ask for work: a reload warms the new revision while the old one still serves. Within the
    /// pool's ceiling and the host's budget.
    /// Returns how many started and, when none of them became ready, why the first did not.
    @discardableResult
    package func warmUp(_ count: Int, timeout: Duration) async -> (started: Int, failure: String?) {
        var starts = 0
        while starts < count, budget.take(for: function.name) { starts += 1 }
        let granted = state.withLock { $0.machine.startAhead(starts) }
        if granted < starts { budget.give(for: function.name, count: starts - granted) }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<granted { group.addTask { await self.startWarm() } }
        }
        let workers = state.withLock { $0.machine.allWorkers }
        let ready = await withTaskGroup(of: Bool.self) { group in
            for worker in workers { group.addTask { await worker.ready(timeout: timeout) } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        guard ready == 0, granted > 0 else { return (workers.count, nil) }
        if let worker = workers.first { return (workers.count, worker.startFailure()) }
        return (0, "its workers could not be started")
    }

    /// How many workers the pool has, starting ones included.
    package var workerCount: Int { state.withLock { $0.machine.total } }

    /// Hands the function over to a newer pool: callers waiting here are told `.retired` (the dispatcher
    /// sends them to the new pool), idle workers stop now, busy ones when their invocation ends. Returns when
    /// the workers that were busy have exited.
    package func retire() async {
        let drained = state.withLock {
            state -> (idle: [Worker], busy: [Worker], waiters: [CheckedContinuation<Lease, any Error>])? in
            guard !state.stopped else { return nil }
            state.stopped = true
            state.retiring = true
            let drained = state.machine.drain()
            // Busy workers stay known, so that a shutdown during the drain can stop them.
            state.retired = drained.busy
            return (drained.idle, drained.busy, drained.waiters.compactMap { state.parked.removeValue(forKey: $0) })
        }
        guard let (idle, busy, waiters) = drained else { return }
        warmStarts.finish()
        wakeUp()
        if let token = budgetListener.withLock({ $0 }) { budget.removeListener(token) }
        waiters.forEach { $0.resume(throwing: AcquireError.retired) }
        for worker in idle { worker.stop() }
        budget.give(for: function.name, count: idle.count)
        for worker in idle + busy { await worker.waitForExit() }
    }

    private func event(_ kind: HostEvent.Kind, _ message: String) {
        log.record(event: HostEvent(function: function.name, kind: kind, message: message))
    }
}

extension Worker: Hashable {
    package static func == (lhs: Worker, rhs: Worker) -> Bool { lhs === rhs }
    package func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
