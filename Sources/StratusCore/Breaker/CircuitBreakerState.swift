/// One function's circuit breaker as a pure state machine (times come from the caller).
///
/// CLOSED → OPEN when, over the last `window` calls and at least `minimumCalls`, the failure rate reaches
/// `failureRate` percent; OPEN → HALF_OPEN after `cooldown`; HALF_OPEN lets `halfOpenCalls` through and
/// closes when all of them succeed, re-opens on the first failure.
package struct CircuitBreakerState: Sendable {
    package enum State: String, Sendable, Codable {
        case closed = "CLOSED"
        case open = "OPEN"
        case halfOpen = "HALF_OPEN"
    }

    /// A state change, for the log and metrics.
    package struct Transition: Sendable, Equatable {
        package var from: State
        package var to: State
        package var reason: String
    }

    package let configuration: FunctionConfig.CircuitBreaker
    package private(set) var state: State = .closed
    /// Outcomes of the last calls, oldest first (`true` = failure), at most `window`.
    private var outcomes: [Bool] = []
    private var openedAt: ContinuousClock.Instant?
    private var probesStarted = 0
    private var probesSucceeded = 0
    /// Bumped on every change of state, so an outcome is counted only in the state its call was let in.
    private var epoch = 0

    /// What `allow` hands a call it lets through; give it back to `record` or `abandon`.
    package struct Ticket: Sendable, Equatable {
        fileprivate var epoch: Int
        fileprivate var probe: Bool
    }

    package init(configuration: FunctionConfig.CircuitBreaker) {
        self.configuration = configuration
    }

    /// When an open breaker will let a probe through.
    package var probeAt: ContinuousClock.Instant? {
        state == .open ? openedAt.map { $0 + configuration.cooldown } : nil
    }

    /// Whether a call may go ahead now; moves OPEN → HALF_OPEN once the cooldown has passed.
    package mutating func allow(now: ContinuousClock.Instant) -> (
        allowed: Bool, transition: Transition?, ticket: Ticket
    ) {
        var transition: Transition?
        if state == .open, let probeAt, now >= probeAt {
            state = .halfOpen
            epoch += 1
            probesStarted = 0
            probesSucceeded = 0
            transition = Transition(
                from: .open, to: .halfOpen,
                reason: "cooldown of \(DurationParser.format(configuration.cooldown)) passed, probing")
        }
        switch state {
        case .closed: return (true, transition, Ticket(epoch: epoch, probe: false))
        case .open: return (false, transition, Ticket(epoch: epoch, probe: false))
        case .halfOpen:
            guard probesStarted < configuration.halfOpenCalls else {
                return (false, transition, Ticket(epoch: epoch, probe: false))
            }
            probesStarted += 1
            return (true, transition, Ticket(epoch: epoch, probe: true))
        }
    }

    /// A call that was let through did not run (throttled, or the host is stopping): a probe's slot is
    /// given back, so a half-open breaker cannot be left waiting for an outcome that never comes.
    package mutating func abandon(_ ticket: Ticket) {
        guard ticket.probe, ticket.epoch == epoch, state == .halfOpen else { return }
        probesStarted = Swift.max(0, probesStarted - 1)
    }

    /// Whether a call would be allowed, without taking a probe slot (for pausing queue consumption).
    package func wouldAllow(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: true
        case .open: probeAt.map { now >= $0 } ?? false
        case .halfOpen: probesStarted < configuration.halfOpenCalls
        }
    }

    /// Records the outcome of an allowed call (throttles are not outcomes: `abandon` those). With its
    /// `ticket`, the outcome of a call let in before the breaker changed state is not counted.
    package mutating func record(failure: Bool, now: ContinuousClock.Instant, ticket: Ticket? = nil) -> Transition? {
        if let ticket, ticket.epoch != epoch { return nil }
        switch state {
        case .closed:
            outcomes.append(failure)
            if outcomes.count > configuration.window { outcomes.removeFirst(outcomes.count - configuration.window) }
            let failures = outcomes.filter { $0 }.count
            guard outcomes.count >= configuration.minimumCalls,
                failures * 100 >= configuration.failureRate * outcomes.count
            else {
                return nil
            }
            let reason = "\(failures) of \(outcomes.count) calls failed"
            open(now)
            return Transition(from: .closed, to: .open, reason: reason)
        case .halfOpen:
            if failure {
                open(now)
                return Transition(from: .halfOpen, to: .open, reason: "a probe failed")
            }
            probesSucceeded += 1
            guard probesSucceeded >= configuration.halfOpenCalls else { return nil }
            close()
            return Transition(from: .halfOpen, to: .closed, reason: "\(probesSucceeded) probes succeeded")
        case .open:
            return nil  // a call that started before the breaker opened
        }
    }

    /// Closes the breaker by hand.
    package mutating func reset() -> Transition? {
        guard state != .closed else { return nil }
        let from = state
        close()
        return Transition(from: from, to: .closed, reason: "reset by hand")
    }

    private mutating func open(_ now: ContinuousClock.Instant) {
        state = .open
        epoch += 1
        openedAt = now
        outcomes = []
    }

    private mutating func close() {
        state = .closed
        epoch += 1
        outcomes = []
        openedAt = nil
    }
}
