import Foundation
import Logging
import NIOCore
import StratusCore
import Synchronization

/// The one invocation path: HTTP routes, topics, queues and direct invokes all come through `invoke`.
package final class Dispatcher: Sendable {
    /// Why an invocation could not even be attempted.
    package enum DispatchError: Error, Sendable, Equatable {
        case functionNotFound(String)
    }

    /// The end of one invocation: its record and the bytes to hand back to the caller.
    package struct Result: Sendable {
        package var record: InvocationRecord
        /// The function's response bytes, or Lambda's error JSON when `record.status != .ok`.
        package var payload: ByteBuffer
        /// Set when the circuit breaker rejected the call: seconds until it lets a probe through.
        package var retryAfterSeconds: Int?
        /// The host ended the invocation because it is shutting down: the event is not the function's to lose.
        package var abortedByHost = false
    }

    /// Where an invocation came from, for the record.
    package struct Origin: Sendable {
        package var trigger: InvocationRecord.Trigger
        package var source: String
        package var attempt: Int
        /// Links the attempts of one async event (and its destination) in the log.
        package var eventId: String?
        package init(trigger: InvocationRecord.Trigger, source: String = "", attempt: Int = 1, eventId: String? = nil) {
            self.trigger = trigger
            self.source = source
            self.attempt = attempt
            self.eventId = eventId
        }
    }

    private let pools: Mutex<[String: WorkerPool]>
    /// Breakers by function, and which install made each: a call that started before a reload replaced the
    /// function's breaker does not count in the new one.
    private struct Breakers {
        var states: [String: CircuitBreakerState] = [:]
        var generations: [String: Int] = [:]
    }
    private let breakers = Mutex(Breakers())
    private let installs: QueueSignal
    /// The host's clock: breakers and records read it.
    package let clock: any HostClock
    private let pausedConsumers = Mutex<Set<String>>([])
    private let log: InvocationLog
    private let logger: Logger

    package init(log: InvocationLog, clock: any HostClock = SystemClock(), logger: Logger) {
        self.pools = Mutex([:])
        self.clock = clock
        installs = QueueSignal(clock: clock)
        self.log = log
        self.logger = logger
    }

    package func install(_ pool: WorkerPool) -> WorkerPool? {
        breakers.withLock { breakers in
            breakers.states[pool.function.name] = pool.function.config.circuitBreaker.map(CircuitBreakerState.init)
            breakers.generations[pool.function.name, default: 0] += 1
        }
        let previous = pools.withLock { $0.updateValue(pool, forKey: pool.function.name) }
        installs.notify(pool.function.name)
        return previous
    }

    /// Takes `name` out of service (its directory was removed); returns its pool, for the caller to retire.
    package func remove(_ name: String) -> WorkerPool? {
        breakers.withLock { _ = $0.states.removeValue(forKey: name) }
        return pools.withLock { $0.removeValue(forKey: name) }
    }

    // MARK: Consumers waiting for a function

    /// Notes that `consumer` waits for `function` to load; `first` when it was not waiting already. Read
    /// before checking again whether the function is loaded, then pass `generation` to `waitForInstall`.
    package func notePaused(consumer: String, function: String) -> (first: Bool, generation: Int) {
        let generation = installs.generation(function)
        return (pausedConsumers.withLock { $0.insert(consumer).inserted }, generation)
    }

    /// Notes that `consumer` runs again; `true` when it had been paused.
    package func noteResumed(consumer: String) -> Bool {
        pausedConsumers.withLock { $0.remove(consumer) != nil }
    }

    /// Waits until a pool for `function` is installed after `generation` (or an hour passes).
    package func waitForInstall(of function: String, since generation: Int) async {
        await installs.wait(function, since: generation, timeout: .seconds(3600))
    }

    /// Whether `name`'s breaker would let a call through now (queue and async consumption pause otherwise).
    package func breakerAllows(_ name: String) -> Bool {
        let now = clock.now
        return breakers.withLock { $0.states[name]?.wouldAllow(now: now) ?? true }
    }

    /// Functions whose breaker would refuse a call now, with when it lets a probe through (epoch ms): async
    /// deliveries to them are left alone until then.
    package func blockedFunctions() -> [String: Int64] {
        let now = clock.now
        let nowMs = clock.epochMs
        return breakers.withLock { breakers in
            var blocked: [String: Int64] = [:]
            for (name, breaker) in breakers.states where !breaker.wouldAllow(now: now) {
                let wait = breaker.probeAt.map { max(0, ($0 - now).milliseconds) } ?? 1000
                blocked[name] = nowMs + wait
            }
            return blocked
        }
    }

    /// The breaker's state and, when open, when it probes next.
    package func breakerStatus(_ name: String) -> (state: CircuitBreakerState.State, probeAt: Date?)? {
        breakers.withLock { breakers in
            guard let breaker = breakers.states[name] else { return nil }
            let probe = breaker.probeAt.map { clock.date.addingTimeInterval(($0 - clock.now).seconds) }
            return (breaker.state, probe)
        }
    }

    /// Closes `name`'s breaker by hand; `false` when the function has none.
    package func resetBreaker(_ name: String) -> Bool {
        let (exists, transition) = breakers.withLock { breakers -> (Bool, CircuitBreakerState.Transition?) in
            guard breakers.states[name] != nil else { return (false, nil) }
            return (true, breakers.states[name]!.reset())
        }
        if let transition { note(transition, function: name) }
        return exists
    }

    private func note(_ transition: CircuitBreakerState.Transition, function: String) {
        let kind: HostEvent.Kind =
            switch transition.to {
            case .open: .breakerOpen
            case .halfOpen: .breakerHalfOpen
            case .closed: .breakerClosed
            }
        log.record(event: HostEvent(function: function, kind: kind, message: transition.reason))
        logger.notice("BREAKER \(transition.to.rawValue) \(function): \(transition.reason)")
    }

    package func allPools() -> [WorkerPool] {
        pools.withLock { Array($0.values) }.sorted { $0.function.name < $1.function.name }
    }

    /// The function named `name`, if it is loaded.
    package func function(named name: String) -> DeployedFunction? {
        pools.withLock { $0[name]?.function }
    }

    /// How many workers an invocation is offered to when warm workers die before taking it.
    private static let deliveryAttempts = 3

    /// Runs `name` once with `payload` and records the invocation. Failures of the function are results.
    package func invoke(
        _ name: String, payload: ByteBuffer, origin: Origin, clientContext: String? = nil
    ) async throws(DispatchError) -> Result {
        guard var pool = pools.withLock({ $0[name] }) else { throw .functionNotFound(name) }
        let function = pool.function
        var record = InvocationRecord(
            id: RequestID.make(), function: name, version: function.version, trigger: origin.trigger,
            source: origin.source,
            attempt: origin.attempt, start: clock.date, durationMs: 0, status: .ok,
            memorySizeMB: function.config.memoryMB,
            maxMemoryUsedMB: 0, output: "")
        record.eventId = origin.eventId
        record.revision = function.revision
        let gate = enter(name)
        if let gate, !gate.allowed {
            return finish(&record, .breakerOpen(retryAfter: gate.retryAfter), body: nil, gate: gate)
        }
        do {
            let invocation = WorkerInvocation(id: record.id, payload: payload, clientContext: clientContext)
            var result: WorkerResult
            var attempts = 0
            repeat {
                // A warm worker that died before its runtime took the invocation (its zygote was killed, it
                // was stopped from outside) ran nothing of it: the invocation goes to another worker.
                let worker = try await acquire(name, from: &pool)
                record.revision = worker.function.revision
                record.memorySizeMB = worker.function.config.memoryMB  // a reload may have sent it to a new revision
                result = await worker.invoke(invocation)
                pool.release(worker)
                attempts += 1
            } while result.neverDelivered && attempts < Self.deliveryAttempts
            record.durationMs = result.durationMs
            record.initDurationMs = result.initDurationMs
            record.maxMemoryUsedMB = result.maxMemoryUsedMB
            record.output = result.output
            var finished: Result
            switch result.outcome {
            case .success(let body):
                finished = finish(&record, .returned, body: body, gate: gate)
            case .functionError(let type, let body):
                finished = finish(
                    &record, .functionError(type: type, message: Self.errorMessage(in: body)), body: body, gate: gate)
            case .hostError(let status, let type, let message):
                finished = finish(
                    &record, .hostError(status: status, type: type, message: message), body: nil, gate: gate,
                    abortedByHost: result.abortedByHost)
            }
            finished.abortedByHost = result.abortedByHost
            return finished
        } catch .throttled {
            return finish(&record, .throttled(max: function.config.scaling.max), body: nil, gate: gate)
        } catch .cannotStart(let reason) {
            return finish(&record, .cannotStart(reason: reason), body: nil, gate: gate)
        } catch {
            return finish(&record, .hostStopping, body: nil, gate: gate)
        }
    }

    /// A worker from `pool`, or from the pool that replaced it while the caller waited (a reload).
    private func acquire(_ name: String, from pool: inout WorkerPool) async throws(WorkerPool.AcquireError) -> Worker {
        while true {
            do {
                return try await pool.acquire().worker
            } catch .retired {
                guard let next = pools.withLock({ $0[name] }), next !== pool else {
                    throw .cannotStart("function \(name) was removed while the invocation waited for a worker")
                }
                pool = next
            }
        }
    }

    /// A breaker's answer to one call.
    private struct Gate {
        var allowed: Bool
        var retryAfter: Int
        var ticket: CircuitBreakerState.Ticket
        /// Which install of the breaker gave the ticket.
        var generation: Int
    }

    /// Asks `name`'s breaker (if it has one) whether a call may go ahead now.
    private func enter(_ name: String) -> Gate? {
        let now = clock.now
        let decision = breakers.withLock { breakers -> (gate: Gate, transition: CircuitBreakerState.Transition?)? in
            guard breakers.states[name] != nil else { return nil }
            let answer = breakers.states[name]!.allow(now: now)
            let wait = breakers.states[name]!.probeAt.map { max(1, Int(($0 - now).seconds.rounded(.up))) } ?? 1
            let generation = breakers.generations[name] ?? 0
            return (
                Gate(allowed: answer.allowed, retryAfter: wait, ticket: answer.ticket, generation: generation),
                answer.transition
            )
        }
        if let transition = decision?.transition { note(transition, function: name) }
        return decision?.gate
    }

    /// Records how the call ended, tells the breaker (a call that did not run gives its probe slot back), and
    /// answers with the function's bytes or Lambda's error JSON.
    private func finish(
        _ record: inout InvocationRecord, _ ending: InvocationEnding, body: ByteBuffer?, gate: Gate?,
        abortedByHost: Bool = false
    ) -> Result {
        record.end(ending)
        let name = record.function
        if let gate, gate.allowed {
            if ending.ran && !abortedByHost {
                let failure = record.status != .ok
                let transition = breakers.withLock { breakers -> CircuitBreakerState.Transition? in
                    guard breakers.generations[name] == gate.generation else { return nil }
                    return breakers.states[name]?.record(failure: failure, now: clock.now, ticket: gate.ticket)
                }
                if let transition { note(transition, function: name) }
            } else {
                breakers.withLock { breakers in
                    guard breakers.generations[name] == gate.generation else { return }
                    breakers.states[name]?.abandon(gate.ticket)
                }
            }
        }
        log.record(record)
        let payload = body ?? ByteBuffer(bytes: ending.errorBody(function: name) ?? [])
        if case .breakerOpen(let wait) = ending {
            return Result(record: record, payload: payload, retryAfterSeconds: wait)
        }
        return Result(record: record, payload: payload)
    }

    /// Lambda's error JSON for errors the host itself reports.
    package static func errorBody(type: String, message: String) -> ByteBuffer {
        ByteBuffer(bytes: LambdaPayloads.error(type: type, message: message))
    }

    private static func errorMessage(in body: ByteBuffer) -> String? {
        LambdaPayloads.ErrorFields.read(body.readableBytesView)?.errorMessage
            ?? body.getString(at: body.readerIndex, length: min(body.readableBytes, 1024))
    }
}
