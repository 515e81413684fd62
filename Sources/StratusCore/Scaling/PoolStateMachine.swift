/// The bookkeeping and scaling decisions of one function's worker pool, as a pure state machine.
///
/// The pool around it does the I/O (starting and stopping processes) and feeds the outcomes back in;
/// every decision takes `now` from the caller, so tests drive it with a mock clock and never sleep.
package struct PoolStateMachine<Worker: Hashable & Sendable>: Sendable {
    /// How a pool scales; built from a function's `scaling:` block.
    package struct Configuration: Sendable, Equatable {
        /// Workers kept warm at all times.
        package var min = 0
        /// Hard ceiling of workers, starting ones included.
        package var max = 10
        /// A worker idle this long is retired (down to `min`).
        package var idle: Duration = .seconds(120)
        /// Callers allowed to wait for a worker once the pool is at its ceiling.
        package var maxWaiting = 64
        /// How long a caller may wait before it is throttled.
        package var maxWait: Duration = .seconds(5)
        /// Start one worker ahead of demand when every worker is busy and the pool is below `max`.
        package var prewarm = true

        package init() {}
    }

    /// What a caller that asked for a worker should do.
    package enum AcquireAction: Sendable, Equatable {
        /// Use this warm worker.
        case use(Worker)
        /// Start a worker and use it (report with `started` or `startFailed`).
        case start
        /// Wait: a worker will be handed over (`ReleaseAction.handOff`) or the wait will time out.
        case wait
        /// The pool is at its ceiling and its wait queue is full.
        case throttle
    }

    /// What to do after a worker came back.
    package enum ReleaseAction: Sendable, Equatable {
        case none
        /// Give `worker` to the waiting caller `waiter`.
        case handOff(Worker, to: Int)
        /// The worker died; start a new one for the waiting caller `waiter`.
        case startFor(waiter: Int)
        /// The worker died and the warm floor needs a replacement.
        case startWarm
    }

    /// Periodic work: retire idle workers, throttle callers that waited too long, start warm workers.
    package struct TickActions: Sendable, Equatable {
        package var retire: [Worker] = []
        package var timedOut: [Int] = []
        package var startWarm = 0
        package var startFor: [Int] = []
        package init() {}
    }

    /// Counters for `status` and `/metrics`.
    package struct Counters: Sendable, Equatable, Codable {
        package var coldStarts = 0
        package var throttles = 0
        package var scaleUps = 0
        package var scaleDowns = 0
        package var replaced = 0
    }

    private struct Waiter: Sendable {
        var id: Int
        var deadline: ContinuousClock.Instant
    }

    package let configuration: Configuration
    private var idle: [(worker: Worker, since: ContinuousClock.Instant)] = []
    private var busy: Set<Worker> = []
    private var starting = 0
    private var waiters: [Waiter] = []
    package private(set) var counters = Counters()
    /// Workers in a row that exited or failed before their runtime was ready (code that cannot start): the
    /// warm floor backs off instead of replacing them in a tight loop.
    package private(set) var startFailures = 0
    /// No warm start before this, after repeated start failures.
    package private(set) var warmRetryAt: ContinuousClock.Instant?

    package init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Workers starting, busy or idle.
    package var total: Int { idle.count + busy.count + starting }
    package var busyCount: Int { busy.count }
    package var idleCount: Int { idle.count }
    package var startingCount: Int { starting }
    package var waitingCount: Int { waiters.count }
    package var allWorkers: [Worker] { idle.map(\.worker) + Array(busy) }

    /// A caller wants a worker. `canGrow` says whether the host-wide budget allows one more worker.
    package mutating func acquire(waiter id: Int, now: ContinuousClock.Instant, canGrow: Bool) -> AcquireAction {
        if let entry = idle.popLast() {
            busy.insert(entry.worker)
            return .use(entry.worker)
        }
        if total < configuration.max && canGrow {
            starting += 1
            counters.scaleUps += 1
            return .start
        }
        if waiters.count < configuration.maxWaiting {
            waiters.append(Waiter(id: id, deadline: now + configuration.maxWait))
            return .wait
        }
        counters.throttles += 1
        return .throttle
    }

    /// A worker started for a caller (`.start` or `.startFor`); the caller now holds it.
    package mutating func started(_ worker: Worker) {
        starting -= 1
        counters.coldStarts += 1
        busy.insert(worker)
    }

    /// A worker started for the warm floor or ahead of demand: it goes to a waiter or idles.
    package mutating func startedWarm(_ worker: Worker, now: ContinuousClock.Instant) -> ReleaseAction {
        starting -= 1
        if !waiters.isEmpty {
            busy.insert(worker)
            return .handOff(worker, to: waiters.removeFirst().id)
        }
        idle.append((worker, now))
        return .none
    }

    /// A start failed; the next waiter (if any) tries its own start, so errors reach callers promptly.
    package mutating func startFailed() -> ReleaseAction {
        starting -= 1
        counters.scaleUps -= 1
        guard !waiters.isEmpty, total < configuration.max else { return .none }
        starting += 1
        counters.scaleUps += 1
        return .startFor(waiter: waiters.removeFirst().id)
    }

    /// A caller is done with `worker`; `alive` is false when it crashed, timed out or was stopped.
    /// A worker failed to start, or exited before its runtime was ready. From the second in a row, warm starts
    /// wait: 0.5 s, doubling, at most a minute. Returns the wait, if there is one.
    @discardableResult
    package mutating func workerFailedToStart(now: ContinuousClock.Instant) -> Duration? {
        startFailures += 1
        guard startFailures >= 2 else { return nil }
        let wait = Swift.min(Duration.seconds(60), .milliseconds(500) * (1 << Swift.min(startFailures - 2, 7)))
        warmRetryAt = now + wait
        return wait
    }

    /// A worker's runtime was ready (it served an invocation): starts are no longer held back.
    package mutating func workerStarted() {
        startFailures = 0
        warmRetryAt = nil
    }

    private func warmStartsAllowed(now: ContinuousClock.Instant) -> Bool {
        warmRetryAt.map { now >= $0 } ?? true
    }

    package mutating func released(_ worker: Worker, alive: Bool, now: ContinuousClock.Instant) -> ReleaseAction {
        busy.remove(worker)
        if alive {
            if !waiters.isEmpty { busy.insert(worker); return .handOff(worker, to: waiters.removeFirst().id) }
            idle.append((worker, now))
            return .none
        }
        counters.replaced += 1
        if !waiters.isEmpty && total < configuration.max {
            starting += 1
            return .startFor(waiter: waiters.removeFirst().id)
        }
        if total < configuration.min, warmStartsAllowed(now: now) {
            starting += 1
            return .startWarm
        }
        return .none
    }

    /// An idle worker turned out dead (it exited while idle): forget it.
    package mutating func removeIdle(_ worker: Worker) -> Bool {
        guard let index = idle.firstIndex(where: { $0.worker == worker }) else { return false }
        idle.remove(at: index)
        counters.replaced += 1
        return true
    }

    /// Gives up the longest-idle worker above the warm floor, so another function can have its budget slot.
    package mutating func reclaimIdle() -> Worker? {
        guard total > configuration.min, !idle.isEmpty else { return nil }
        idle.sort { $0.since < $1.since }
        counters.scaleDowns += 1
        return idle.removeFirst().worker
    }

    /// A waiting caller gave up (cancelled); returns whether it was still waiting.
    package mutating func cancelWait(_ id: Int) -> Bool {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Periodic decisions. `growth` is how many more workers the host-wide budget allows.
    package mutating func tick(now: ContinuousClock.Instant, growth: Int) -> TickActions {
        var actions = TickActions()
        var budget = growth
        while let first = waiters.first, first.deadline <= now {
            actions.timedOut.append(waiters.removeFirst().id)
            counters.throttles += 1
        }
        // Callers that queued while the host budget was exhausted get a start once it allows.
        while !waiters.isEmpty && total < configuration.max && budget > 0 {
            starting += 1
            budget -= 1
            counters.scaleUps += 1
            actions.startFor.append(waiters.removeFirst().id)
        }
        // Retire the longest-idle workers first, never below the warm floor.
        idle.sort { $0.since < $1.since }
        while let oldest = idle.first, now - oldest.since >= configuration.idle, total > configuration.min {
            actions.retire.append(idle.removeFirst().worker)
            counters.scaleDowns += 1
        }
        let warmAllowed = warmStartsAllowed(now: now)
        while total < configuration.min && budget > 0 && warmAllowed {
            starting += 1
            budget -= 1
            actions.startWarm += 1
        }
        if configuration.prewarm, warmAllowed, idle.isEmpty, starting == 0, !busy.isEmpty, total < configuration.max,
            budget > 0
        {
            starting += 1
            counters.scaleUps += 1
            actions.startWarm += 1
        }
        return actions
    }

    /// When `tick` next has something to do by the clock alone: the first waiter's deadline, or the moment
    /// the longest-idle worker above the warm floor has been idle for `idle`. `nil`: nothing until an event
    /// (an acquire, a release, a start, budget coming free).
    package func nextDeadline() -> ContinuousClock.Instant? {
        var deadline = waiters.first?.deadline
        if total > configuration.min, let oldest = idle.min(by: { $0.since < $1.since }) {
            let retire = oldest.since + configuration.idle
            deadline = deadline.map { Swift.min($0, retire) } ?? retire
        }
        if total < configuration.min, let retry = warmRetryAt {
            deadline = deadline.map { Swift.min($0, retry) } ?? retry
        }
        return deadline
    }

    /// Whether starting a worker ahead of demand would help now (every worker busy, room to grow).
    package var wantsPrewarm: Bool {
        configuration.prewarm && idle.isEmpty && starting == 0 && !busy.isEmpty && total < configuration.max
    }

    /// Takes every worker and waiter out, for shutdown or retirement: idle and busy workers apart.
    package mutating func drain() -> (idle: [Worker], busy: [Worker], waiters: [Int]) {
        defer {
            idle = []
            busy = []
            waiters = []
        }
        return (idle.map(\.worker), Array(busy), waiters.map(\.id))
    }

    /// Starts up to `count` workers ahead of any demand, within the ceiling (a reload warms the new revision
    /// before it takes traffic); returns how many to start, each reported with `startedWarm` or `startFailed`.
    package mutating func startAhead(_ count: Int) -> Int {
        let starts = Swift.max(0, Swift.min(count, configuration.max - total))
        starting += starts
        counters.scaleUps += starts
        return starts
    }
}
