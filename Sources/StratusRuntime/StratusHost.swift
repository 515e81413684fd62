import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import StratusCore
import StratusStore
import Synchronization

/// The running host: the store, the invocation log, the dispatcher and every function's worker pool.
///
/// `run()` keeps the pools at their warm floor and retires idle workers; on graceful shutdown it stops
/// every worker. Servers that call the dispatcher are started after it and stopped before it.
package final class StratusHost: Service, Sendable {
    package struct Configuration: Sendable {
        package var retention = InvocationLog.Retention()
        /// Cap on all workers of the host together (`--max-workers`).
        package var maxWorkers = WorkerBudget.machineDefault
        /// On SIGTERM/SIGINT, how long in-flight invocations may still run before they are killed and
        /// recorded as `crashed` (`--drain-timeout`).
        package var drainTimeout: Duration = .seconds(30)
        /// Time for every decision (pools, breakers, retries, queues); tests pass a `ManualClock`.
        package var clock: any HostClock = SystemClock()
        /// Where `stratus deploy` keeps functions and their revisions; `nil`: the host takes no deploys.
        package var deployments: Deployments?
        /// The control plane address other hosts see for this one (shown by `stratus status` with a shared store).
        package var controlAddress: String?

        package init() {}
    }

    package let configuration: Configuration
    package let dispatcher: Dispatcher
    package let log: InvocationLog
    package let queues: QueueService
    package let topics: TopicPublisher
    private let deliveries: DeliveryRunner
    let scheduler: Scheduler
    let replays: ReplayRunner
    private let launcher: WorkerLauncher
    let budget: WorkerBudget
    let logger: Logger
    private let drainStarts: AsyncStream<Void>.Continuation
    private let drainStartRequests: AsyncStream<Void>
    /// What serves now: the project as last loaded (a bad edit keeps the last good part) and its routes.
    let loaded: Mutex<(project: ProjectLoader.Project, routes: RouteTable)>
    /// Pools installed by a reload, for `run()` to run.
    let poolStarts: AsyncStream<WorkerPool>.Continuation
    private let poolStartRequests: AsyncStream<WorkerPool>
    let reloads = AsyncMutex()
    /// Pools replaced or removed by a reload whose running invocations have not all ended: a shutdown stops them too.
    private let retiringPools = Mutex<[ObjectIdentifier: WorkerPool]>([:])
    private let reclaim: @Sendable (String) -> Bool
    /// Whether this host runs the singleton duties (always, alone on SQLite; when elected, on a shared store).
    package let leadership: Leadership
    /// The store when several hosts share it.
    package let shared: (any SharedStore)?
    let startedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
    /// The revision of each deployed function last made live here through the shared store (or from here).
    let appliedDeployments = Mutex<[String: String]>([:])

    /// The project as it serves now.
    package var project: ProjectLoader.Project { loaded.withLock { $0.project } }

    /// The HTTP routes as they serve now.
    package var routes: RouteTable { loaded.withLock { $0.routes } }

    /// A host for a loaded `project` on an open `store`; both are built by the caller (`stratus serve`).
    package init(
        project: ProjectLoader.Project, store: any Store, configuration: Configuration = .init(), logger: Logger
    ) {
        shared = store as? any SharedStore
        leadership = Leadership(leading: shared == nil)
        self.configuration = configuration
        loaded = Mutex((project, RouteTable(routes: project.triggers.routes)))
        (poolStartRequests, poolStarts) = AsyncStream.makeStream(of: WorkerPool.self)
        self.logger = logger
        (drainStartRequests, drainStarts) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        log = InvocationLog(
            store: store, retention: configuration.retention, leadership: leadership, logger: logger)
        let clock = configuration.clock
        dispatcher = Dispatcher(log: log, clock: clock, logger: logger)
        launcher = WorkerLauncher(group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        budget = WorkerBudget(limit: configuration.maxWorkers)
        let dispatcher = self.dispatcher
        reclaim = { starved in
            dispatcher.allPools().contains { $0.function.name != starved && $0.reclaimIdleWorker(for: starved) }
        }
        queues = QueueService(store: store, clock: clock)
        topics = TopicPublisher(store: store, queues: queues)
        scheduler = Scheduler(queues: queues, log: log, logger: logger)
        replays = ReplayRunner(queues: queues, topics: topics, logger: logger)
        scheduler.update(project.triggers.schedules)
        deliveries = DeliveryRunner(
            store: store, queues: queues, topics: topics, dispatcher: dispatcher, log: log, logger: logger)
        for function in project.functions { _ = dispatcher.install(makePool(function)) }
    }

    /// Lets `pool`'s running invocations finish, then stops its workers; a shutdown meanwhile stops them at once.
    func retireInBackground(_ pool: WorkerPool) {
        let key = ObjectIdentifier(pool)
        retiringPools.withLock { $0[key] = pool }
        Task {
            await pool.retire()
            _ = retiringPools.withLock { $0.removeValue(forKey: key) }
        }
    }

    func makePool(_ function: DeployedFunction) -> WorkerPool {
        WorkerPool(
            function: function, launcher: launcher, budget: budget, log: log, clock: configuration.clock,
            logger: logger, reclaim: reclaim)
    }

    /// Loads durable state (queues, topics, subscriptions) and declares those of the trigger files.
    /// Call before serving requests.
    package func prepare() async throws {
        // The Python zygote starts meanwhile (resolving the interpreter can take a pyenv shim's 100 ms), so
        // that the first cold start after Ready finds it running.
        let (launcher, functions) = (launcher, project.functions)
        Task.detached { await launcher.prepare(for: functions) }
        try await queues.load(declared: project.triggers.queues, pruning: true)
        try await topics.load(declared: project.triggers.topics, pruning: true)
        topics.setArchives(project.triggers.archives)
    }

    package func run() async throws {
        let pools = dispatcher.allPools()
        let (queues, dispatcher, log, logger) = (queues, dispatcher, log, logger)
        let consumers = ConsumerSupervisor(queues: queues) {
            QueuePoller(queue: $0, queues: queues, dispatcher: dispatcher, log: log, logger: logger)
        }
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask {
                await cancelWhenGracefulShutdown {
                    await withTaskGroup(of: Void.self) { group in
                        for pool in pools { group.addTask { await pool.run() } }
                        group.addTask { [poolStartRequests = self.poolStartRequests] in
                            await withDiscardingTaskGroup { reloaded in
                                for await pool in poolStartRequests { reloaded.addTask { await pool.run() } }
                            }
                        }
                        group.addTask { await consumers.run() }
                        group.addTask { await self.deliveries.run() }
                        group.addTask { await self.leadership.whileLeading { await self.scheduler.run() } }
                        group.addTask { await self.leadership.whileLeading { await self.replays.run() } }
                        group.addTask { await self.leadership.whileLeading { await self.expireMessages() } }
                        group.addTask { await self.sampleTimeline() }
                        if let shared = self.shared { self.joinCluster(shared, group: &group) }
                    }
                }
            }
            // Once a shutdown begins, in-flight work has `drainTimeout` to finish; this task never ends on its
            // own, it is cancelled as soon as everything above has ended.
            outer.addTask { await self.enforceDrainDeadline() }
            await outer.next()
            outer.cancelAll()
        }
        await stopWorkers()
        await log.flush()
        if let shared { await leaveCluster(shared) }
    }

    /// Starts the drain clock: called when SIGTERM or SIGINT arrives, before the servers stop taking requests
    /// (`DrainDeadline`, the last service of the group, calls it).
    package func beginDrain() {
        // Long polls (`logs --follow`, receives with a wait) answer now: the servers wait for open requests.
        log.endLongPolls()
        queues.endLongPolls()
        drainStarts.yield()
    }

    private func enforceDrainDeadline() async {
        for await _ in drainStartRequests {
            do {
                try await configuration.clock.sleep(for: configuration.drainTimeout)
            } catch {
                return
            }
            let timeout = DurationParser.format(configuration.drainTimeout)
            var aborted = 0
            for pool in dispatcher.allPools() + retiringPools.withLock({ Array($0.values) }) {
                aborted += await pool.shutdown(abort: "host shut down: still running after --drain-timeout \(timeout)")
            }
            if aborted > 0 {
                log.record(
                    event: HostEvent(
                        function: "host", kind: .shutdown,
                        message: "\(aborted) invocations still running after the drain timeout (\(timeout)) were killed"
                    ))
                logger.warning("drain timeout reached: killed \(aborted) running invocations")
            }
            // Stay until the host's own shutdown ends this task: returning now would end `run()` before the
            // servers have finished, which the service group takes for a failure.
        }
    }

    /// Accepts an async (`Event`) invocation: answered with its event id only after it is committed; the
    /// function runs soon after, with retries and `async.onFailure` as configured.
    package func invokeAsync(_ name: String, payload: String) async throws -> String {
        guard dispatcher.function(named: name) != nil else { throw Dispatcher.DispatchError.functionNotFound(name) }
        let eventId = RequestID.make()
        let nowMs = queues.nowMs
        try await queues.commit([
            .delivery(
                PendingDelivery(
                    source: .asyncInvoke(eventId: eventId), target: .function(name), payload: payload,
                    nextAttemptAtMs: nowMs,
                    createdAtMs: nowMs))
        ])
        return eventId
    }

    /// Deletes messages past their queue's retention, and archived messages past their topic's, once a minute.
    private func expireMessages() async {
        while !Task.isCancelled {
            do {
                let expired = try await queues.expire()
                if expired > 0 { logger.info("expired messages past retention", metadata: ["messages": "\(expired)"]) }
                for (topic, retentionMs) in topics.allArchives() {
                    let pruned = try await queues.store.pruneArchive(of: topic, before: queues.nowMs - retentionMs)
                    if pruned > 0 {
                        logger.info("pruned topic archive", metadata: ["topic": "\(topic)", "messages": "\(pruned)"])
                    }
                }
            } catch {
                logger.warning("message expiry failed", metadata: ["error": "\(error)"])
            }
            try? await configuration.clock.sleep(for: .seconds(60))
        }
    }

    /// Points the AWS SDKs in functions at this host's control plane, listening at `address` (wildcard
    /// addresses are reached on loopback); workers started from now on get `AWS_ENDPOINT_URL_SQS`, `_SNS` and
    /// `_LAMBDA`.
    package func pointFunctionSDKs(atControl host: String, port: Int, token: String?) {
        let name =
            switch host {
            case "0.0.0.0", "": "127.0.0.1"
            case "::", "[::]": "[::1]"
            case let other where other.contains(":") && !other.hasPrefix("["): "[\(other)]"
            case let other: other
            }
        launcher.pointSDKs(at: "http://\(name):\(port)", token: token)
    }

    /// The control plane's port is chosen when it binds: workers wait for `pointFunctionSDKs` before they start.
    package func holdWorkersUntilSDKsArePointed() { launcher.holdStartsUntilSDKsArePointed() }

    /// Stops every worker of every function and waits for their processes to exit.
    package func stopWorkers() async {
        launcher.releaseHeldStarts()  // a start held for the control plane's port must not hold up the stop
        for pool in dispatcher.allPools() + retiringPools.withLock({ Array($0.values) }) { await pool.shutdown() }
        await launcher.stop()
        WorkerCgroups.available?.removeIfEmpty()
    }

    /// How workers are contained: `cgroup` (each its own cgroup v2, which also catches processes that left
    /// their group with `setsid`) or `process group` (where the host may not create cgroups).
    package var isolation: String {
        guard let cgroups = WorkerCgroups.available else { return "process group" }
        let failures = cgroups.failures.load(ordering: .relaxed)
        return failures == 0 ? "cgroup" : "cgroup (\(failures) workers could not join theirs: process group only)"
    }

    /// Triggers that name a function that failed to load: they load, and wait for it.
    package func waitingTriggers() -> [String] {
        let failed = project.failedFunctions
        guard !failed.isEmpty else { return [] }
        var lines: [String] = []
        for queue in project.triggers.queues {
            if let consumer = queue.consumer, failed.contains(consumer.function) {
                lines.append(
                    "queue \(queue.name): consumer '\(consumer.function)' failed to load; the consumer is paused (messages stay in the queue) until it loads"
                )
            }
        }
        for (topic, subscriptions) in project.triggers.topics.sorted(by: { $0.key < $1.key }) {
            for subscription in subscriptions {
                if case .function(let name) = subscription.endpoint, failed.contains(name) {
                    lines.append(
                        "topic \(topic): subscriber '\(name)' failed to load; its deliveries wait (nothing is dropped) until it loads"
                    )
                }
            }
        }
        for route in project.triggers.routes where failed.contains(route.function) {
            lines.append(
                "route \(route.routeKey): '\(route.function)' failed to load; the route answers 502 until it loads")
        }
        return lines
    }

    /// Per-function figures for `stratus status`.
    package func functionStatus() -> [V1.FunctionStatus] {
        dispatcher.allPools().map { pool in
            let snapshot = pool.snapshot
            let scaling = pool.function.config.scaling
            let breaker = dispatcher.breakerStatus(pool.function.name)
            return V1.FunctionStatus(
                breaker: breaker?.state.rawValue ?? "OFF", nextProbe: breaker?.probeAt,
                name: pool.function.name, runtime: pool.function.config.runtime.rawValue,
                revision: pool.function.revision,
                workers: snapshot.total, busy: snapshot.busy, idle: snapshot.idle, starting: snapshot.starting,
                waiting: snapshot.waiting, min: scaling.min, max: scaling.max, reserved: scaling.reserved,
                coldStarts: snapshot.counters.coldStarts, throttles: snapshot.counters.throttles,
                scaleUps: snapshot.counters.scaleUps, scaleDowns: snapshot.counters.scaleDowns,
                replaced: snapshot.counters.replaced)
        }
    }

    /// The host-wide worker cap.
    package var maxWorkers: Int { budget.limit }
}

/// The last service of a host's group: when SIGTERM or SIGINT arrives it is told first, and starts the host's
/// drain clock before the servers begin waiting for their in-flight requests.
package struct DrainDeadline: Service {
    let host: StratusHost

    package init(host: StratusHost) {
        self.host = host
    }

    package func run() async throws {
        try? await gracefulShutdown()
        host.beginDrain()
    }
}
