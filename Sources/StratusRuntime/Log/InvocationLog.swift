import Foundation
import Logging
import ServiceLifecycle
import StratusCore
import StratusStore
import Synchronization

/// The invocation log, written behind the hot path: `record` appends to memory, one writer commits
/// batches to the store, and `flush` lets a reader wait until everything recorded so far is committed.
package final class InvocationLog: Service, Sendable {
    /// How long records are kept and how many per function.
    package struct Retention: Sendable {
        package var maxAge: Duration = .seconds(7 * 86_400)
        package var maxRecordsPerFunction = 10_000
        package init() {}
    }

    private struct State {
        var pending: [InvocationRecord] = []
        var pendingEvents: [HostEvent] = []
        var recorded = 0
        var committed = 0
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// Set while a flush waits: the writer commits at once instead of gathering a batch.
        var flushWanted = false
        /// Whether `run()` is committing; when it is not (not started, or ended), a flush commits itself.
        var writing = false
    }

    package let store: any Store
    private let retention: Retention
    private let interval: Duration
    private let state = Mutex(State())
    private let logger: Logger
    private let kicks: AsyncStream<Void>.Continuation
    private let kickStream: AsyncStream<Void>
    /// Notified after every commit, so `logs --follow` waits for news instead of polling.
    private let commits = QueueSignal()
    private let draining = Atomic<Bool>(false)

    /// Every invocation and host event recorded here is counted here too (`/metrics`).
    package let metrics: HostMetrics
    /// And kept for the dashboard's last 15 minutes.
    package let timeline = Timeline()

    /// Records held in memory while a shared store cannot be reached, to be written when it comes back.
    static let heldWhileUnavailable = 50_000

    /// Pruning is a singleton duty: only the leader prunes a shared store.
    private let leadership: Leadership

    package init(
        store: any Store, retention: Retention = .init(), interval: Duration = .milliseconds(100),
        metrics: HostMetrics = HostMetrics(), leadership: Leadership = Leadership(), logger: Logger
    ) {
        self.leadership = leadership
        self.metrics = metrics
        self.store = store
        self.retention = retention
        self.interval = interval
        self.logger = logger
        (kickStream, kicks) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a record for the next batch. Never blocks on disk.
    package func record(_ record: InvocationRecord) {
        metrics.note(record)
        timeline.note(record)
        let first = state.withLock { state in
            state.pending.append(record)
            state.recorded += 1
            return state.pending.count + state.pendingEvents.count == 1
        }
        if first { kicks.yield() }
    }

    /// Queues a host event (scaling, throttling) for the next batch.
    package func record(event: HostEvent) {
        metrics.note(event)
        timeline.note(event)
        let first = state.withLock { state in
            state.pendingEvents.append(event)
            state.recorded += 1
            return state.pending.count + state.pendingEvents.count == 1
        }
        if first { kicks.yield() }
    }

    /// The current commit generation: read it before a query, pass it to `waitForCommit`.
    package var commitGeneration: Int { commits.generation("log") }

    /// Waits until something is committed after `generation`, or `timeout` passes.
    package func waitForCommit(since generation: Int, timeout: Duration) async {
        guard !draining.load(ordering: .relaxed) else { return }
        await commits.wait("log", since: generation, timeout: timeout)
    }

    /// Ends every long poll of the log, now and from now on: a shutdown does not wait for them.
    package func endLongPolls() {
        draining.store(true, ordering: .relaxed)
        commits.notify("log")
    }

    /// Events after a flush.
    package func events(matching query: InvocationQuery) async throws -> [HostEvent] {
        await flush()
        return try await store.events(matching: query)
    }

    /// Waits until every record queued before this call is committed.
    package func flush() async {
        if !state.withLock({ $0.writing }) {
            await commitPending()
            return
        }
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.committed < state.recorded else { return true }
                state.waiters.append((state.recorded, continuation))
                state.flushWanted = true
                return false
            }
            if done { continuation.resume() } else { kicks.yield() }
        }
    }

    /// Queries the log after a flush, so a caller sees its own invocations.
    package func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord] {
        await flush()
        return try await store.invocations(matching: query)
    }

    /// Commits in batches: the first record after a quiet spell opens a batch, which is committed `interval`
    /// later (at once when someone flushes). Nothing runs while nothing is recorded.
    package func run() async throws {
        state.withLock { $0.writing = true }
        defer { state.withLock { $0.writing = false } }
        await prune()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while (try? await Task.sleep(for: .seconds(600))) != nil {
                        await self.prune()
                    }
                }
                var sincePrune = 0
                for await _ in kickStream {
                    if !state.withLock({ $0.flushWanted }) { try? await Task.sleep(for: interval) }
                    sincePrune += await commitPending()
                    // Under sustained load the bound holds between the 10-minute prunes too, in small steps
                    // (each a short write) rather than one long one.
                    if sincePrune >= Swift.max(100, retention.maxRecordsPerFunction / 5) {
                        await prune()
                        sincePrune = 0
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.kicks.finish()
        }
        await commitPending()
    }

    /// Commits what is pending; returns how many invocation records it committed.
    @discardableResult
    private func commitPending() async -> Int {
        let (batch, events) = state.withLock { state in
            defer {
                state.pending.removeAll(keepingCapacity: true)
                state.pendingEvents.removeAll(keepingCapacity: true)
                state.flushWanted = false
            }
            return (state.pending, state.pendingEvents)
        }
        if !batch.isEmpty || !events.isEmpty {
            do {
                // Shielded from cancellation: records already accepted are committed even when the task that
                // flushes them (a test, a host stopped by cancellation rather than a signal) is cancelled.
                let store = store
                try await Task {
                    try await store.append(batch)
                    try await store.append(events: events)
                }.value
            } catch let error as StoreError where error.code == .unavailable {
                // The shared database is out of reach: keep the records (up to a bound) and try again in a second.
                let kept = state.withLock { state in
                    let room = Swift.max(0, Self.heldWhileUnavailable - state.pending.count)
                    state.pending.insert(contentsOf: batch.prefix(room), at: 0)
                    state.pendingEvents.insert(contentsOf: events.prefix(room), at: 0)
                    return Swift.min(room, batch.count)
                }
                if kept < batch.count {
                    logger.error(
                        "invocation log: the store is unavailable; \(batch.count - kept) records lost beyond \(Self.heldWhileUnavailable) held"
                    )
                }
                Task { [kicks] in
                    try? await Task.sleep(for: .seconds(1))
                    kicks.yield()
                }
            } catch {
                logger.error(
                    "invocation log write failed; \(batch.count) records lost", metadata: ["error": "\(error)"])
            }
        }
        let ready = state.withLock { state in
            state.committed += batch.count + events.count
            let committed = state.committed
            let ready = state.waiters.filter { $0.target <= committed }
            state.waiters.removeAll { $0.target <= committed }
            return ready
        }
        ready.forEach { $0.continuation.resume() }
        if !batch.isEmpty || !events.isEmpty { commits.notify("log") }
        return batch.count
    }

    private func prune() async {
        guard leadership.isLeader else { return }
        let cutoff = Date().addingTimeInterval(-retention.maxAge.seconds)
        do {
            let deleted = try await store.pruneInvocations(
                olderThan: cutoff, keepPerFunction: retention.maxRecordsPerFunction)
            if deleted > 0 { logger.info("pruned invocation log", metadata: ["records": "\(deleted)"]) }
        } catch {
            logger.warning("invocation log prune failed", metadata: ["error": "\(error)"])
        }
    }
}
