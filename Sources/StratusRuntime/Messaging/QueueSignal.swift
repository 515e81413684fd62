import StratusCore
import Synchronization

/// Wakes long-polling receivers when a queue gets a message, so nobody polls in a loop. Also the wake-up
/// of the delivery scheduler, the log's long polls and consumers waiting for a function: any "wait for news
/// on this name, at most this long".
///
/// The timeout is a timer of the host's clock (SwiftNIO's scheduled tasks on the real one), cancelled as soon
/// as the waiter is woken. (A `Task.sleep` raced against the signal and cancelled would keep its memory
/// until its deadline passed on Linux: with long timeouts and frequent wake-ups the host grew by megabytes
/// a minute.)
final class QueueSignal: Sendable {
    private struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: (any ScheduledWork)?
    }

    private struct State {
        var waiters: [String: [Int: Waiter]] = [:]
        /// Bumped by every notify, so a waiter that looked before a notify does not sleep through it.
        var generations: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let nextId = Atomic<Int>(0)
    private let clock: any HostClock

    init(clock: any HostClock = SystemClock()) {
        self.clock = clock
    }

    /// Waiting on this name wakes on a notify of any name.
    static let anyName = "*"

    /// Wakes everyone waiting on `queue`, and on `anyName`.
    func notify(_ queue: String) {
        let woken = state.withLock { state in
            state.generations[queue, default: 0] += 1
            var woken = state.waiters.removeValue(forKey: queue) ?? [:]
            if queue != Self.anyName {
                state.generations[Self.anyName, default: 0] += 1
                if let watchers = state.waiters.removeValue(forKey: Self.anyName) {
                    woken.merge(watchers) { first, _ in first }
                }
            }
            return woken
        }
        for waiter in woken.values {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    /// The current generation of `queue`: read it before looking at the queue, pass it to `wait`.
    func generation(_ queue: String) -> Int {
        state.withLock { $0.generations[queue] ?? 0 }
    }

    /// Waits until `queue` is notified after `generation`, `timeout` passes, or the task is cancelled.
    func wait(_ queue: String, since generation: Int, timeout: Duration) async {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    if Task.isCancelled || (state.generations[queue] ?? 0) != generation || timeout <= .zero {
                        return false
                    }
                    state.waiters[queue, default: [:]][id] = Waiter(continuation: continuation)
                    return true
                }
                guard registered else { return continuation.resume() }
                let timer = clock.schedule(after: timeout) { self.wake(queue, id) }
                let stillWaiting = state.withLock { state -> Bool in
                    guard state.waiters[queue]?[id] != nil else { return false }
                    state.waiters[queue]?[id]?.timer = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }
            }
        } onCancel: {
            wake(queue, id)
        }
    }

    /// Resumes one waiter (its timeout passed, or its task was cancelled), if it is still waiting.
    private func wake(_ queue: String, _ id: Int) {
        let waiter = state.withLock { state -> Waiter? in
            let waiter = state.waiters[queue]?.removeValue(forKey: id)
            if state.waiters[queue]?.isEmpty == true { state.waiters[queue] = nil }
            return waiter
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume()
    }
}
