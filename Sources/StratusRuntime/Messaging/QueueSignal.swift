import Foundation
import Synchronization

/// Wakes long-polling receivers when a queue gets a message, so nobody polls in a loop.
final class QueueSignal: Sendable {
    private struct State {
        var waiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
        /// Bumped by every notify, so a waiter that looked before a notify does not sleep through it.
        var generations: [String: Int] = [:]
    }

    private let state = Mutex(State())
    private let nextId = Atomic<Int>(0)

    /// Wakes everyone waiting on `queue`.
    func notify(_ queue: String) {
        let woken = state.withLock { state in
            state.generations[queue, default: 0] += 1
            return state.waiters.removeValue(forKey: queue) ?? [:]
        }
        woken.values.forEach { $0.resume() }
    }

    /// The current generation of `queue`: read it before looking at the queue, pass it to `wait`.
    func generation(_ queue: String) -> Int {
        state.withLock { $0.generations[queue] ?? 0 }
    }

    /// Waits until `queue` is notified after `generation`, `timeout` passes, or the task is cancelled.
    func wait(_ queue: String, since generation: Int, timeout: Duration) async {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = self.state.withLock { state -> Bool in
                            if Task.isCancelled || (state.generations[queue] ?? 0) != generation { return true }
                            state.waiters[queue, default: [:]][id] = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    let continuation = self.state.withLock { $0.waiters[queue]?.removeValue(forKey: id) }
                    continuation?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
