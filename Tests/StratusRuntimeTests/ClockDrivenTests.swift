import Foundation
import Logging
import NIOCore
import StratusCore
import StratusStore
import StratusTesting
import Synchronization
import Testing

@testable import StratusRuntime

/// Idle retirement, breaker cooldowns, retries with backoff and timed waits, driven by a `ManualClock`:
/// time moves only when the test says so, and nothing sleeps to prove that something did not happen.
@Suite(.serialized, .timeLimit(.minutes(1))) struct ClockDrivenTests {
    static let fails = "def handler(event, context):\n    raise ValueError('down')\n"

    func host(_ project: TemporaryProject, clock: ManualClock) throws -> StratusHost {
        var configuration = StratusHost.Configuration()
        configuration.clock = clock
        return try project.host(configuration)
    }

    func invoke(_ host: StratusHost, _ name: String) async throws -> Dispatcher.Result {
        try await host.dispatcher.invoke(name, payload: ByteBuffer(string: "{}"), origin: .init(trigger: .cli))
    }

    @Test func idleWorkersRetireWhenTheClockSaysSo() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "idler", code: "def handler(event, context):\n    return 1\n",
            manifest: "scaling: {idle: 2m, prewarm: false}\n")
        let clock = ManualClock()
        let host = try host(project, clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await host.run() }
            let first = try await invoke(host, "idler")
            let idleSince = clock.now
            #expect(first.record.status == .ok)
            #expect(host.functionStatus()[0].workers == 1)
            // The pool sleeps until the worker's idle deadline: just before it, the worker stays.
            #expect(await waitUntil { clock.pendingDeadlines.contains(idleSince + .seconds(120)) })
            clock.advance(by: .seconds(119))
            #expect(host.functionStatus()[0].workers == 1)
            clock.advance(by: .seconds(1))
            #expect(await waitUntil { host.functionStatus()[0].workers == 0 }, "retired at 2m")
            #expect(host.functionStatus()[0].scaleDowns == 1)
            group.cancelAll()
        }
        await host.stopWorkers()
    }

    @Test func anOpenBreakerProbesAfterItsCooldown() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        try project.addPython(
            "fragile", code: Self.fails,
            manifest: "circuitBreaker: {failureRate: 50, minimumCalls: 2, window: 2, cooldown: 30s, halfOpenCalls: 1}\n"
        )
        let clock = ManualClock()
        let host = try host(project, clock: clock)
        for _ in 0..<2 {
            let failed = try await invoke(host, "fragile")
            #expect(failed.record.status == .error)
        }
        let rejected = try await invoke(host, "fragile")
        #expect(rejected.record.status == .rejected)
        #expect(rejected.retryAfterSeconds == 30)
        #expect(host.dispatcher.blockedFunctions()["fragile"] == clock.epochMs + 30_000)
        clock.advance(by: .seconds(29))
        let cooling = try await invoke(host, "fragile")
        #expect(cooling.record.status == .rejected, "still cooling down")
        clock.advance(by: .seconds(1))
        let probe = try await invoke(host, "fragile")
        #expect(probe.record.status == .error, "the probe ran (and failed)")
        #expect(host.dispatcher.breakerStatus("fragile")?.state == .open, "a failed probe re-opens it")
        await host.stopWorkers()
    }

    @Test func httpDeliveriesRetryOnTheirBackoff() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let store = try SQLiteStore(path: project.path + "/s.sqlite")
        let logger = Logger(label: "test")
        let clock = ManualClock()
        let log = InvocationLog(store: store, logger: logger)
        let queues = QueueService(store: store, clock: clock)
        let runner = DeliveryRunner(
            store: store, queues: queues, topics: TopicPublisher(store: store, queues: queues),
            dispatcher: Dispatcher(log: log, clock: clock, logger: logger), log: log, logger: logger)
        let endpoint = try DeliveryRunnerTests.RudeEndpoint()
        defer { endpoint.stop() }
        let start = clock.epochMs
        try await queues.commit([
            .delivery(
                PendingDelivery(
                    source: .subscription(id: "t:0", topic: "t"), target: .http("http://127.0.0.1:\(endpoint.port)/"),
                    payload: "{}", nextAttemptAtMs: start, createdAtMs: start))
        ])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runner.run() }
            // SNS-like schedule: retry n waits n seconds.
            for (attempt, wait) in [(1, 0), (2, 1), (3, 2), (4, 3)] {
                if wait > 0 {
                    // The next attempt is scheduled `wait` seconds after the failed one.
                    let due = try await store.dueDeliveries(nowMs: .max, limit: 1)
                    #expect(
                        due.first?.nextAttemptAtMs == clock.epochMs + Int64(wait) * 1000,
                        "attempt \(attempt) is due \(wait) s on")
                    // The scheduler sleeps until then: advance once its timer is armed.
                    let deadline = clock.now + .seconds(wait)
                    #expect(await waitUntil { clock.pendingDeadlines.contains(deadline) })
                    clock.advance(by: .seconds(wait))
                }
                // The attempt ran: its failure is recorded (the last one ends the delivery).
                #expect(
                    await waitUntil {
                        guard let pending = try? await store.dueDeliveries(nowMs: .max, limit: 1) else { return false }
                        return pending.first.map { $0.attempts == attempt } ?? (attempt == 4)
                    }, "attempt \(attempt)")
            }
            #expect(
                await waitUntil { (try? await store.dueDeliveries(nowMs: .max, limit: 1).isEmpty) == true },
                "given up after 4")
            // The endpoint saw the attempts (one that failed before its request was written is not seen).
            #expect((1...4).contains(endpoint.accepted.load(ordering: .relaxed)))
            group.cancelAll()
        }
    }

    @Test func timedWaitsEndAtTheirDeadlineOrWhenNotified() async throws {
        let clock = ManualClock()
        let signal = QueueSignal(clock: clock)
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let count = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await signal.wait("q", since: signal.generation("q"), timeout: .seconds(10))
                count.value.wrappingAdd(1, ordering: .relaxed)
            }
            #expect(await waitUntil { clock.pendingCount == 1 })
            clock.advance(by: .seconds(9))
            #expect(count.value.load(ordering: .relaxed) == 0)
            clock.advance(by: .seconds(1))
            #expect(await waitUntil { count.value.load(ordering: .relaxed) == 1 }, "timed out at 10 s")
            group.addTask {
                await signal.wait("q", since: signal.generation("q"), timeout: .seconds(10))
                count.value.wrappingAdd(1, ordering: .relaxed)
            }
            #expect(await waitUntil { clock.pendingCount == 1 })
            signal.notify("q")
            #expect(await waitUntil { count.value.load(ordering: .relaxed) == 2 }, "woken by a notify")
            #expect(clock.pendingCount == 0, "its timer is cancelled")
            // A notify between reading the generation and waiting is not slept through.
            let generation = signal.generation("q")
            signal.notify("q")
            await signal.wait("q", since: generation, timeout: .seconds(10))
            try await group.waitForAll()
        }
    }

    @Test func aSendWakesTheReceiversItNeedsOldestFirst() async throws {
        let clock = ManualClock()
        let signal = QueueSignal(clock: clock)
        final class Woken: Sendable { let names = Mutex<[String]>([]) }
        let woken = Woken()
        @Sendable func names() -> [String] { woken.names.withLock { $0 } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Three receivers of 10 messages each, in this order, and one watcher of every queue.
            for name in ["a", "b", "c"] {
                group.addTask {
                    await signal.wait("q", since: signal.generation("q"), timeout: .seconds(20), capacity: 10)
                    woken.names.withLock { $0.append(name) }
                }
                #expect(await waitUntil { clock.pendingCount == ["a", "b", "c"].firstIndex(of: name)! + 1 })
            }
            group.addTask {
                await signal.wait(
                    QueueSignal.anyName, since: signal.generation(QueueSignal.anyName), timeout: .seconds(20))
                woken.names.withLock { $0.append("watcher") }
            }
            #expect(await waitUntil { clock.pendingCount == 4 })

            signal.notify("q", messages: 1)
            #expect(await waitUntil { Set(names()) == ["a", "watcher"] }, "one message: the oldest receiver")
            // A send claims the receivers that take its messages before it commits, and wakes them after.
            let claim = signal.claim(11, of: "q")
            #expect(claim.capacity == 20)
            try await Task.sleep(for: .milliseconds(50))
            #expect(names().count == 2, "nobody is woken before the send is done")
            claim.wake()
            #expect(await waitUntil { names().count == 4 })
            #expect(Set(names().suffix(2)) == ["b", "c"])
            #expect(signal.claim(5, of: "q").capacity == 0, "nobody waits any more")
            #expect(await waitUntil { clock.pendingCount == 0 }, "the timers of the woken are cancelled")
            try await group.waitForAll()
        }
    }

    @Test func aNotifyWithoutACountWakesEveryReceiver() async throws {
        let clock = ManualClock()
        let signal = QueueSignal(clock: clock)
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let count = Count()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Receivers of 10 and waiters that take anything (the log's followers, the scheduler).
            for capacity in [10, .max, .max] {
                group.addTask {
                    await signal.wait("q", since: signal.generation("q"), timeout: .seconds(20), capacity: capacity)
                    count.value.wrappingAdd(1, ordering: .relaxed)
                }
            }
            #expect(await waitUntil { clock.pendingCount == 3 })
            signal.notify("q", messages: 0)
            try await Task.sleep(for: .milliseconds(50))
            #expect(count.value.load(ordering: .relaxed) == 0, "no message, nobody woken")
            signal.notify("q")
            #expect(await waitUntil { count.value.load(ordering: .relaxed) == 3 })
            try await group.waitForAll()
        }
    }
}

/// The host-wide worker cap with reservations.
@Suite struct WorkerBudgetTests {
    @Test func reservationsAreKeptAndTheRestIsShared() {
        let budget = WorkerBudget(limit: 4)
        budget.reserve(1, for: "a")
        #expect(budget.available(for: "a") == 4 && budget.available(for: "b") == 3)
        #expect(budget.take(for: "b") && budget.take(for: "b") && budget.take(for: "b"))
        #expect(!budget.take(for: "b"), "the shared part is used up")
        #expect(budget.available(for: "a") == 1, "a's reservation is still there")
        #expect(budget.take(for: "a"))
        #expect(!budget.take(for: "a"))
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let freed = Count()
        budget.onRelease { freed.value.wrappingAdd(1, ordering: .relaxed) }
        budget.give(for: "b")
        #expect(freed.value.load(ordering: .relaxed) == 1, "waiting pools are told")
        #expect(budget.available(for: "a") == 1 && budget.take(for: "a"))
    }

    @Test func backoffHasFullJitterUpToItsCap() {
        var async = FunctionConfig.Async()
        async.retryBase = .seconds(1)
        async.retryCap = .seconds(30)
        for attempt in 1...12 {
            let ceiling = min(Int64(30_000), Int64(1000) << Int64(attempt - 1))
            for _ in 0..<50 {
                #expect((0...ceiling).contains(DeliveryRunner.backoffMs(attempt: attempt, async: async)))
            }
        }
        #expect(
            (0...30_000).contains(DeliveryRunner.backoffMs(attempt: 1000, async: async)),
            "no overflow for absurd attempts")
    }
}

/// Queue settings stored by an older version, outside today's limits.
@Suite struct StoredQueueSettingsTests {
    @Test func outOfRangeSettingsArePinnedInTheStoreToo() async throws {
        let project = try TemporaryProject()
        defer { project.remove() }
        let store = try SQLiteStore(path: project.path + "/s.sqlite")
        var old = QueueConfig(name: "old")
        old.retentionMs = 0
        old.visibilityTimeoutMs = .max
        try await store.putQueue(old)
        let queues = QueueService(store: store)
        try await queues.load(declared: [])
        #expect(queues.config("old")?.retentionMs == 60_000)
        let stored = try await store.queues().first { $0.name == "old" }
        #expect(
            stored?.retentionMs == 60_000 && stored?.visibilityTimeoutMs == 43_200_000, "what receive and expiry read")
        _ = try await queues.send([OutgoingMessage(body: "kept")], to: "old")
        #expect(try await queues.receive(from: "old", max: 10).map(\.body) == ["kept"])
    }
}
