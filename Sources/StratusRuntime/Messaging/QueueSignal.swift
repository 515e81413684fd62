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
    fileprivate struct Waiter {
        var continuation: CheckedContinuation<Void, Never>
        var timer: (any ScheduledWork)?
        /// How many messages it takes when woken (a receive's maximum).
        var capacity: Int
        /// Woken before the others (a consumer holding a finished batch to delete with its next receive).
        var first: Bool

        func resume() {
            timer?.cancel()
            continuation.resume()
        }
    }

    /// Waiters taken off the list for messages about to be sent (`claim`): woken once the send is done.
    struct Claim: ~Copyable {
        fileprivate var waiters: [Waiter]
        /// How many messages the claimed waiters take together.
        let capacity: Int

        consuming func wake() {
            for waiter in waiters { waiter.resume() }
        }
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

    /// Wakes everyone waiting on `queue` (with `messages`, only the longest waiting that take that many
    /// together), and everyone waiting on `anyName`; returns how many messages the woken receivers of `queue` take.
    @discardableResult
    func notify(_ queue: String, messages: Int? = nil) -> Int {
        let (woken, capacity) = state.withLock { state -> ([Waiter], Int) in
            state.generations[queue, default: 0] += 1
            var (woken, capacity) =
                messages.map { Self.take($0, of: queue, &state) }
                ?? (state.waiters.removeValue(forKey: queue).map { Array($0.values) } ?? [], .max)
            if queue != Self.anyName {
                state.generations[Self.anyName, default: 0] += 1
                if let watchers = state.waiters.removeValue(forKey: Self.anyName) { woken += watchers.values }
            }
            return (woken, capacity)
        }
        for waiter in woken { waiter.resume() }
        return capacity
    }

    /// Takes the longest-waiting receivers of `queue` that take `messages` together off the list, to wake them
    /// once the messages are sent (`Claim.wake`): a send wakes the receivers it needs, not every one; what they
    /// do not cover is for other hosts' receivers.
    func claim(_ messages: Int, of queue: String) -> Claim {
        let (waiters, capacity) = state.withLock { Self.take(messages, of: queue, &$0) }
        return Claim(waiters: waiters, capacity: capacity)
    }

    private static func take(_ messages: Int, of queue: String, _ state: inout State) -> (
        waiters: [Waiter], capacity: Int
    ) {
        guard let waiting = state.waiters[queue] else { return ([], 0) }
        var taken: [Waiter] = []
        var capacity = 0
        let order = waiting.sorted { a, b in a.value.first != b.value.first ? a.value.first : a.key < b.key }
        for id in order.map(\.key) where capacity < messages {
            guard let waiter = state.waiters[queue]?.removeValue(forKey: id) else { continue }
            taken.append(waiter)
            capacity = capacity.addingReportingOverflow(waiter.capacity).overflow ? .max : capacity + waiter.capacity
        }
        if state.waiters[queue]?.isEmpty == true { state.waiters[queue] = nil }
        return (taken, capacity)
    }

    /// The current generation of `queue`: read it before looking at the queue, pass it to `wait`.
    func generation(_ queue: String) -> Int {
        state.withLock { $0.generations[queue] ?? 0 }
    }

    /// Waits until `queue` is notified after `generation`, `timeout` passes, or the task is cancelled. A
    /// receiver says how many messages it takes (`capacity`), so a send of a few wakes only a few receivers: the
    /// longest waiting, those waiting `first` before them.
    func wait(_ queue: String, since generation: Int, timeout: Duration, capacity: Int = .max, first: Bool = false)
        async
    {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).oldValue
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    if Task.isCancelled || (state.generations[queue] ?? 0) != generation || timeout <= .zero {
                        return false
                    }
                    state.waiters[queue, default: [:]][id] = Waiter(
                        continuation: continuation, capacity: capacity, first: first)
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
        waiter?.resume()
    }
}
