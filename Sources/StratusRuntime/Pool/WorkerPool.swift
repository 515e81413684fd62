import Logging
import NIOCore
import StratusCore
import Synchronization

/// The worker processes of one function: reuses warm workers, starts one per concurrent call up to
/// `scaling.max`, queues callers briefly beyond that, and retires workers idle longer than `scaling.idle`.
package final class WorkerPool: Sendable {
    /// Why a worker could not be had.
    package enum AcquireError: Error, Sendable {
        /// The pool is at its ceiling and its wait queue is full.
        case throttled
        /// The runtime could not be started at all (missing interpreter, bootstrap not executable).
        case cannotStart(String)
        case stopped
    }

    package struct Configuration: Sendable {
        /// Callers allowed to wait for a busy worker once the pool is at `max`; beyond that, throttle.
        package var maxWaiting = 128
    }

    private enum Lease: Sendable {
        case warm(Worker)
        case spawn
    }

    private struct State {
        var idle: [(worker: Worker, since: ContinuousClock.Instant)] = []
        /// Workers starting, busy or idle.
        var total = 0
        var waiters: [CheckedContinuation<Lease, any Error>] = []
        var stopped = false
        var all: [ObjectIdentifier: Worker] = [:]
    }

    package let function: DeployedFunction
    private let launcher: WorkerLauncher
    private let configuration: Configuration
    private let state = Mutex(State())
    private let logger: Logger

    package init(function: DeployedFunction, launcher: WorkerLauncher, configuration: Configuration = .init(), logger: Logger) {
        self.function = function
        self.launcher = launcher
        self.configuration = configuration
        self.logger = logger
    }

    /// Counts for `status`: workers in the pool, idle ones, and callers waiting.
    package var counts: (total: Int, idle: Int, waiting: Int) {
        state.withLock { ($0.total, $0.idle.count, $0.waiters.count) }
    }

    /// Takes a worker for one invocation; `cold` when it was started for this call.
    package func acquire() async throws(AcquireError) -> (worker: Worker, cold: Bool) {
        let lease: Lease
        do {
            lease = try await withCheckedThrowingContinuation { continuation in
                let decision = state.withLock { state -> Result<Lease, AcquireError>? in
                    if state.stopped { return .failure(.stopped) }
                    while let (worker, _) = state.idle.popLast() {
                        if worker.isAlive { return .success(.warm(worker)) }
                        state.total -= 1
                        state.all[ObjectIdentifier(worker)] = nil
                    }
                    if state.total < function.config.scaling.max {
                        state.total += 1
                        return .success(.spawn)
                    }
                    if state.waiters.count < configuration.maxWaiting {
                        state.waiters.append(continuation)
                        return nil
                    }
                    return .failure(.throttled)
                }
                if let decision { continuation.resume(with: decision) }
            }
        } catch let error as AcquireError {
            throw error
        } catch {
            throw .stopped
        }
        switch lease {
        case .warm(let worker): return (worker, false)
        case .spawn: return (try await spawn(), true)
        }
    }

    /// Returns a worker after an invocation; a dead one is dropped and its place offered to a waiter.
    package func release(_ worker: Worker) {
        let handOff = state.withLock { state -> (CheckedContinuation<Lease, any Error>, Lease)? in
            let lease: Lease
            if worker.isAlive && !state.stopped {
                lease = .warm(worker)
            } else {
                state.all[ObjectIdentifier(worker)] = nil
                state.total -= 1
                guard !state.waiters.isEmpty else { return nil }
                state.total += 1
                lease = .spawn
            }
            guard !state.waiters.isEmpty else {
                state.idle.append((worker, .now))
                return nil
            }
            return (state.waiters.removeFirst(), lease)
        }
        if !worker.isAlive || state.withLock({ $0.stopped }) { worker.stop() }
        if let (waiter, lease) = handOff { waiter.resume(returning: lease) }
    }

    private func spawn() async throws(AcquireError) -> Worker {
        do {
            let worker = try await launcher.launch(function)
            state.withLock { $0.all[ObjectIdentifier(worker)] = worker }
            return worker
        } catch {
            let waiter = state.withLock { state -> CheckedContinuation<Lease, any Error>? in
                state.total -= 1
                return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
            }
            waiter?.resume(throwing: AcquireError.cannotStart("\(error)"))
            throw .cannotStart("\(error)")
        }
    }

    /// Starts workers until the warm floor (`scaling.min`) is met.
    package func fillWarmFloor() async {
        let needed = state.withLock { state -> Int in
            let missing = max(0, function.config.scaling.min - state.total)
            state.total += missing
            return missing
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<needed {
                group.addTask {
                    guard let worker = try? await self.spawn() else { return }
                    self.release(worker)
                }
            }
        }
    }

    /// Retires workers idle for longer than `scaling.idle`, keeping the warm floor.
    package func retireIdle(now: ContinuousClock.Instant = .now) {
        let retired = state.withLock { state -> [Worker] in
            var retired: [Worker] = []
            state.idle.removeAll { entry in
                let expired = now - entry.since >= function.config.scaling.idle || !entry.worker.isAlive
                guard expired, state.total > function.config.scaling.min || !entry.worker.isAlive else { return false }
                state.total -= 1
                state.all[ObjectIdentifier(entry.worker)] = nil
                retired.append(entry.worker)
                return true
            }
            return retired
        }
        retired.forEach { $0.stop() }
    }

    /// Stops every worker and fails waiting callers; busy workers are killed after `grace`.
    package func shutdown() async {
        let (workers, waiters) = state.withLock { state in
            state.stopped = true
            defer { state.waiters = [] }
            return (Array(state.all.values), state.waiters)
        }
        waiters.forEach { $0.resume(throwing: AcquireError.stopped) }
        for worker in workers { worker.stop() }
        for worker in workers { await worker.waitForExit() }
    }
}
