import Foundation
import Synchronization

/// Wakes long-polling receivers when a queue gets a message, so nobody polls in a loop.
final class QueueSignal: Sendable {
    private let waiters = Mutex<[String: [Int: CheckedContinuation<Void, Never>]]>([:])
    private let nextId = Atomic<Int>(0)

    /// Wakes everyone waiting on `queue`.
    func notify(_ queue: String) {
        let woken = waiters.withLock { $0.removeValue(forKey: queue) } ?? [:]
        woken.values.forEach { $0.resume() }
    }

    /// Waits until `queue` is notified, `timeout` passes, or the task is cancelled.
    func wait(_ queue: String, timeout: Duration) async {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let cancelled = self.waiters.withLock { waiters -> Bool in
                            if Task.isCancelled { return true }
                            waiters[queue, default: [:]][id] = continuation
                            return false
                        }
                        if cancelled { continuation.resume() }
                    }
                } onCancel: {
                    let continuation = self.waiters.withLock { $0[queue]?.removeValue(forKey: id) }
                    continuation?.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
