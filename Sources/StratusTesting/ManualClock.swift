import Foundation
import StratusCore
import Synchronization

/// A clock that moves only when a test says so: `advance(by:)` fires every timer and wakes every sleeper
/// whose deadline it passes, in deadline order. Retries, backoff, idle retirement and breaker cooldowns are
/// tested with it without sleeping.
package final class ManualClock: HostClock {
    private struct Pending {
        var deadline: Duration
        var fire: @Sendable () -> Void
    }

    private struct State {
        var elapsed: Duration = .zero
        var pending: [Int: Pending] = [:]
        var nextId = 0
    }

    private let start = ContinuousClock.now
    private let startEpochMs: Int64
    private let state = Mutex(State())

    /// Starts at the real time of now (epoch `startEpochMs` when given).
    package init(startEpochMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        self.startEpochMs = startEpochMs
    }

    package var now: ContinuousClock.Instant { start + state.withLock { $0.elapsed } }

    package var epochMs: Int64 { startEpochMs + state.withLock { $0.elapsed }.milliseconds }

    /// Timers and sleepers not yet due.
    package var pendingCount: Int { state.withLock { $0.pending.count } }

    /// When the timers and sleepers not yet due are due: a test waits until the code under test has armed
    /// the one it expects before it advances the clock past it.
    package var pendingDeadlines: [ContinuousClock.Instant] {
        state.withLock { $0.pending.values.map { start + $0.deadline } }.sorted()
    }

    /// Moves time forward by `duration`, firing what comes due on the way.
    package func advance(by duration: Duration) {
        let due = state.withLock { state -> [Pending] in
            state.elapsed += duration
            let elapsed = state.elapsed
            let due = state.pending.filter { $0.value.deadline <= elapsed }
            for id in due.keys { state.pending[id] = nil }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for pending in due { pending.fire() }
    }

    package func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork {
        let id = add(after: delay, work)
        return Timer(clock: self, id: id)
    }

    package func sleep(until deadline: ContinuousClock.Instant) async throws {
        let sleeper = Sleeper()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                sleeper.wait(continuation)
                let id = add(after: deadline - now) { sleeper.finish(.success(())) }
                sleeper.timer(id)
            }
        } onCancel: {
            cancel(sleeper.timerId)
            sleeper.finish(.failure(CancellationError()))
        }
    }

    private func add(after delay: Duration, _ fire: @escaping @Sendable () -> Void) -> Int {
        let (id, fireNow) = state.withLock { state -> (Int, Bool) in
            let id = state.nextId
            state.nextId += 1
            if delay <= .zero { return (id, true) }
            state.pending[id] = Pending(deadline: state.elapsed + delay, fire: fire)
            return (id, false)
        }
        if fireNow { fire() }
        return id
    }

    fileprivate func cancel(_ id: Int?) {
        guard let id else { return }
        state.withLock { _ = $0.pending.removeValue(forKey: id) }
    }

    private struct Timer: ScheduledWork {
        let clock: ManualClock
        let id: Int
        func cancel() { clock.cancel(id) }
    }

    /// One sleeping task: resumed once, by its timer or by cancellation, whichever comes first.
    private final class Sleeper: Sendable {
        private struct State {
            var continuation: CheckedContinuation<Void, any Error>?
            var result: Result<Void, any Error>?
            var timer: Int?
        }

        private let state = Mutex(State())

        var timerId: Int? { state.withLock { $0.timer } }

        func timer(_ id: Int) { state.withLock { $0.timer = id } }

        func wait(_ continuation: CheckedContinuation<Void, any Error>) {
            let early = state.withLock { state -> Result<Void, any Error>? in
                if let result = state.result { return result }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func finish(_ result: Result<Void, any Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard state.result == nil else { return nil }
                state.result = result
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(with: result)
        }
    }
}
