import Foundation
import Logging
import ServiceLifecycle
import StratusCore
import StratusStore
import Synchronization

/// The invocation log, written behind the hot path: `record` appends to memory, one writer commits
/// batches to the store, and `flush` lets a reader wait until everything recorded so far is committed.
public final class InvocationLog: Service, Sendable {
    /// How long records are kept and how many per function.
    public struct Retention: Sendable {
        public var maxAge: Duration = .seconds(7 * 86_400)
        public var maxRecordsPerFunction = 10_000
        public init() {}
    }

    private struct State {
        var pending: [InvocationRecord] = []
        var pendingEvents: [HostEvent] = []
        var recorded = 0
        var committed = 0
        var waiters: [(target: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var kick: AsyncStream<Void>.Continuation?
    }

    public let store: any Store
    private let retention: Retention
    private let interval: Duration
    private let state = Mutex(State())
    private let logger: Logger

    public init(store: any Store, retention: Retention = .init(), interval: Duration = .milliseconds(100), logger: Logger) {
        self.store = store
        self.retention = retention
        self.interval = interval
        self.logger = logger
    }

    /// Queues a record for the next batch. Never blocks on disk.
    public func record(_ record: InvocationRecord) {
        state.withLock { state in
            state.pending.append(record)
            state.recorded += 1
        }
    }

    /// Queues a host event (scaling, throttling) for the next batch.
    public func record(event: HostEvent) {
        state.withLock { state in
            state.pendingEvents.append(event)
            state.recorded += 1
        }
    }

    /// Events after a flush.
    public func events(matching query: InvocationQuery) async throws -> [HostEvent] {
        await flush()
        return try await store.events(matching: query)
    }

    /// Waits until every record queued before this call is committed.
    public func flush() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.committed < state.recorded else { return true }
                state.waiters.append((state.recorded, continuation))
                state.kick?.yield()
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Queries the log after a flush, so a caller sees its own invocations.
    public func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord] {
        await flush()
        return try await store.invocations(matching: query)
    }

    public func run() async throws {
        let (kicks, kick) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.kick = kick }
        await prune()
        var lastPrune = ContinuousClock.now
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { [interval] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        kick.yield()
                    }
                }
                for await _ in kicks {
                    await commitPending()
                    if ContinuousClock.now - lastPrune > .seconds(600) {
                        await prune()
                        lastPrune = .now
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            kick.finish()
        }
        await commitPending()
    }

    private func commitPending() async {
        let (batch, events) = state.withLock { state in
            defer {
                state.pending.removeAll(keepingCapacity: true)
                state.pendingEvents.removeAll(keepingCapacity: true)
            }
            return (state.pending, state.pendingEvents)
        }
        if !batch.isEmpty || !events.isEmpty {
            do {
                try await store.append(batch)
                try await store.append(events: events)
            } catch {
                logger.error("invocation log write failed; \(batch.count) records lost", metadata: ["error": "\(error)"])
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
    }

    private func prune() async {
        let cutoff = Date().addingTimeInterval(-retention.maxAge.seconds)
        do {
            let deleted = try await store.pruneInvocations(olderThan: cutoff, keepPerFunction: retention.maxRecordsPerFunction)
            if deleted > 0 { logger.info("pruned invocation log", metadata: ["records": "\(deleted)"]) }
        } catch {
            logger.warning("invocation log prune failed", metadata: ["error": "\(error)"])
        }
    }
}
