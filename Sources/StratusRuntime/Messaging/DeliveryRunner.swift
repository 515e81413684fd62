import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StratusCore
import StratusStore
import Synchronization

/// Delivers async invocations and topic messages to functions and HTTP endpoints from durable records: a
/// delivery leaves the store only when it succeeded, went to a dead-letter queue, or was given up (recorded
/// as an event).
///
/// The scheduler sleeps until the earliest due delivery or until new work is committed, whichever comes
/// first; it never polls. It runs at most `concurrency` deliveries at once and at most as many for one
/// function as that function's pool can run (`scaling.max`), so one function's backlog never holds back
/// another's. Every delivery it takes is counted until its attempt has ended, and every way an attempt
/// can end moves the delivery on: finished, rescheduled, dead-lettered, or parked with backoff.
final class DeliveryRunner: Sendable {
    /// Retry timing for HTTP endpoints (SNS retries 3 times by default; seconds apart suit local work).
    struct HTTPPolicy: Sendable {
        var retries = 3
        var baseDelayMs: Int64 = 1000
        var timeout: TimeAmount = .seconds(15)
        /// Deliveries to one URL at once.
        var concurrencyPerEndpoint = 4
    }

    private struct State {
        /// Deliveries being attempted, by id, with their target.
        var inFlight: [Int64: String] = [:]
        /// Attempts running per target (function name or URL).
        var perTarget: [String: Int] = [:]
        /// Every target with pending deliveries, as far as the scheduler knows, and what it last read of it.
        var targets: [String: Target] = [:]
        /// Deliveries whose bookkeeping failed (the store could not be written): left alone until then.
        var parked: [Int64: (target: String, untilMs: Int64)] = [:]
        /// How many times in a row a delivery's bookkeeping failed: its backoff doubles with it.
        var parkFailures: [Int64: Int] = [:]
        /// Functions already reported as not loaded, so the event is written once.
        var pausedFunctions: Set<String> = []
    }

    /// What the scheduler knows of one target's deliveries.
    private struct Target {
        /// Look at it again at once: new deliveries, a freed slot, a parked one coming back.
        var dirty = true
        /// The earliest next attempt of its deliveries not in flight, when last read.
        var nextAtMs: Int64?
    }

    /// Deliveries running at once, all targets together.
    static let concurrency = 64

    private let store: any Store
    private let queues: QueueService
    private let dispatcher: Dispatcher
    private let log: InvocationLog
    private let httpPolicy: HTTPPolicy
    private let state = Mutex(State())
    private let topics: TopicPublisher
    private let logger: Logger

    init(
        store: any Store, queues: QueueService, topics: TopicPublisher, dispatcher: Dispatcher, log: InvocationLog,
        httpPolicy: HTTPPolicy = .init(), logger: Logger
    ) {
        self.store = store
        self.queues = queues
        self.topics = topics
        self.dispatcher = dispatcher
        self.log = log
        self.httpPolicy = httpPolicy
        self.logger = logger
    }

    /// An attempt ended: look now rather than at the next due time. (`QueueService` wakes the scheduler the
    /// same way when deliveries are committed.)
    private func kick() {
        queues.deliveriesCommitted.notify(QueueService.deliveriesKey)
    }

    /// Deliveries being attempted now (for status and tests).
    var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    /// Runs until cancelled, then waits for the attempts in flight, which are not cancelled: their outcome
    /// is written down whatever happens to the host (a shutdown only stops new attempts). The HTTP client
    /// for endpoint deliveries lives as long as this call.
    func run() async {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: httpPolicy.timeout)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = httpPolicy.concurrencyPerEndpoint
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let known = try await store.deliveryTargets()
            state.withLock { state in for target in known { state.targets[target] = Target() } }
        } catch is CancellationError {
            // Stopped before it started: the loop below does not run.
        } catch {
            logger.error("reading delivery targets failed", metadata: ["error": "\(error)"])
        }
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let generation = queues.deliveriesCommitted.generation(QueueService.deliveriesKey)
                let sleep = await startDue { delivery, target in
                    group.addTask {
                        // Not cancelled with the scheduler: an attempt that started records how it ended.
                        await Task { await self.attempt(delivery, http: http) }.value
                        self.finished(delivery.id, target: target)
                    }
                }
                await queues.deliveriesCommitted.wait(QueueService.deliveriesKey, since: generation, timeout: sleep)
            }
        }
        try? await http.shutdown()
    }

    /// Starts every due delivery there is room for, target by target (each an index seek, so a backlog for one
    /// target costs the others nothing); returns how long to sleep before looking again (a completion or a
    /// commit wakes the scheduler earlier).
    private func startDue(_ start: (PendingDelivery, String) -> Void) async -> Duration {
        let idle: Duration = .seconds(3600)
        let nowMs = queues.nowMs
        let blocked = dispatcher.blockedFunctions()
        let committed = queues.takeCommittedTargets()
        let candidates = state.withLock { state -> [String] in
            for target in committed { state.targets[target, default: Target()].dirty = true }
            for (id, parked) in state.parked where parked.untilMs <= nowMs {
                state.parked[id] = nil
                state.targets[parked.target, default: Target()].dirty = true
            }
            return state.targets.filter { $0.value.dirty || ($0.value.nextAtMs.map { $0 <= nowMs } ?? false) }.keys
                .sorted()
        }
        var full: Set<String> = []
        for target in candidates where blocked[target] == nil {
            while !Task.isCancelled {
                let room = room(for: target)
                guard room > 0 else {
                    full.insert(target)  // a completion marks it dirty and wakes the scheduler
                    break
                }
                let excluded = state.withLock { state in
                    Set(state.inFlight.filter { $0.value == target }.keys).union(
                        state.parked.filter { $0.value.target == target }.keys)
                }
                let read: (due: [PendingDelivery], nextAtMs: Int64?)
                do {
                    read = try await store.dueDeliveries(
                        for: target, nowMs: nowMs, limit: min(room, 32), excludingIds: excluded)
                } catch is CancellationError {
                    return .seconds(1)
                } catch {
                    logger.error("reading deliveries failed; trying again in 1 s", metadata: ["error": "\(error)"])
                    return .seconds(1)
                }
                for delivery in read.due where take(delivery, target: target) { start(delivery, target) }
                if read.due.count < min(room, 32) {
                    state.withLock { $0.targets[target] = Target(dirty: false, nextAtMs: read.nextAtMs) }
                    break
                }
            }
        }
        // Sleep until the earliest next attempt, parked delivery or breaker probe; a full target waits for a
        // completion instead.
        let wakeAt = state.withLock { state -> Int64? in
            let next = state.targets.compactMap { target, known -> Int64? in
                guard blocked[target] == nil, !full.contains(target) else { return nil }
                return known.dirty ? nowMs : known.nextAtMs
            }
            return (next + state.parked.values.map(\.untilMs) + blocked.values).min()
        }
        guard let wakeAt else { return idle }
        return .milliseconds(Swift.max(1, Swift.min(wakeAt.saturatingSubtract(nowMs), 3_600_000)))
    }

    /// How many more deliveries `target` takes now: its own limit and the host-wide one.
    private func room(for target: String) -> Int {
        let capacity = capacity(ofKey: target)
        return state.withLock { state in
            Swift.min(capacity - state.perTarget[target, default: 0], Self.concurrency - state.inFlight.count)
        }
    }

    /// Counts `delivery` in flight, if there is room.
    private func take(_ delivery: PendingDelivery, target: String) -> Bool {
        let capacity = capacity(ofKey: target)
        return state.withLock { state in
            guard state.inFlight.count < Self.concurrency, state.inFlight[delivery.id] == nil,
                state.perTarget[target, default: 0] < capacity
            else { return false }
            state.inFlight[delivery.id] = target
            state.perTarget[target, default: 0] += 1
            return true
        }
    }

    private func finished(_ id: Int64, target: String) {
        state.withLock { state in
            state.inFlight[id] = nil
            state.perTarget[target, default: 1] -= 1
            if state.perTarget[target] == 0 { state.perTarget[target] = nil }
            state.targets[target, default: Target()].dirty = true
        }
        kick()
    }

    /// How many deliveries one target takes at once: a function's pool ceiling, or the per-endpoint limit.
    private func capacity(ofKey key: String) -> Int {
        if key.contains("://") { return httpPolicy.concurrencyPerEndpoint }
        return dispatcher.function(named: key)?.config.scaling.max ?? 1
    }

    private func attempt(_ delivery: PendingDelivery, http: HTTPClient) async {
        do {
            switch delivery.target {
            case .function(let name): try await deliverToFunction(name, delivery)
            case .http(let url): try await deliverToHTTP(url, delivery, http: http)
            }
            state.withLock { _ = $0.parkFailures.removeValue(forKey: delivery.id) }
        } catch {
            // The store could not be written: leave this delivery alone for a while (doubling, up to a minute)
            // rather than run it again at once; its record is unchanged, so nothing is lost.
            let nowMs = queues.nowMs
            let (backoff, failures) = state.withLock { state -> (Int64, Int) in
                let failures = (state.parkFailures[delivery.id] ?? 0) + 1
                let backoff = Swift.min(60_000, Int64(500) << Int64(Swift.min(failures, 7)))
                state.parkFailures[delivery.id] = failures
                state.parked[delivery.id] = (delivery.target.key, nowMs + backoff)
                return (backoff, failures)
            }
            logger.error(
                "delivery bookkeeping failed; trying it again later",
                metadata: [
                    "delivery": "\(delivery.id)", "retry.ms": "\(backoff)", "failures": "\(failures)",
                    "error": "\(error)",
                ])
        }
    }

    private func deliverToFunction(_ name: String, _ delivery: PendingDelivery) async throws {
        let nowMs = queues.nowMs
        let (trigger, source, eventId) = Self.origin(of: delivery)
        guard let function = dispatcher.function(named: name) else {
            return try await waitForFunction(name, delivery, nowMs: nowMs)
        }
        if state.withLock({ $0.pausedFunctions.remove(name) }) != nil {
            log.record(
                event: HostEvent(function: name, kind: .resumed, message: "\(name) is loaded: its deliveries run again")
            )
        }
        let config = function.config.async
        if nowMs - delivery.createdAtMs > config.maxEventAge.milliseconds {
            return try await exhausted(
                delivery, function: function, condition: .eventAgeExceeded, eventId: eventId, last: nil,
                reason: "event older than maxEventAge (\(DurationParser.format(config.maxEventAge)))")
        }
        let result: Dispatcher.Result
        do {
            result = try await dispatcher.invoke(
                name, payload: ByteBuffer(string: delivery.payload),
                origin: .init(trigger: trigger, source: source, attempt: delivery.attempts + 1, eventId: eventId))
        } catch {
            return try await waitForFunction(name, delivery, nowMs: nowMs)
        }
        if result.abortedByHost {
            // The host stopped while it ran (the drain timeout passed): not the function's fault, no retry spent;
            // it runs again when a host is back.
            return try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs)
        }
        switch result.record.status {
        case .ok:
            try await store.finishDelivery(delivery.id)
            log.metrics.delivery(to: "function", outcome: "delivered")
        case .throttled, .rejected:
            // Not the function's fault: try again soon without spending a retry (an open breaker's probe time
            // is when the scheduler looks at this function again).
            try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs + 1000)
        case .error, .timeout, .crashed:
            let attempts = delivery.attempts + 1
            if attempts > config.retries {
                return try await exhausted(
                    delivery, function: function, condition: .retriesExhausted, eventId: eventId, last: result,
                    reason: "\(attempts) attempts failed, last: \(result.record.errorType ?? "error")")
            }
            log.metrics.delivery(to: "function", outcome: "retried")
            try await store.rescheduleDelivery(
                delivery.id, attempts: attempts,
                nextAttemptAtMs: nowMs + Self.backoffMs(attempt: attempts, async: config))
        }
    }

    /// The function is not loaded (its directory failed to load, or it is gone): the delivery waits for it
    /// without spending an attempt, looked at again after a backoff that grows with its age (1 s to 1 min),
    /// and is dropped once older than the default `maxEventAge`.
    private func waitForFunction(_ name: String, _ delivery: PendingDelivery, nowMs: Int64) async throws {
        let age = nowMs.saturatingSubtract(delivery.createdAtMs)
        if age > FunctionConfig.Async().maxEventAge.milliseconds {
            return try await giveUp(delivery, reason: "function '\(name)' was not loaded within maxEventAge")
        }
        if state.withLock({ $0.pausedFunctions.insert(name).inserted }) {
            let message = "\(name) is not loaded: its deliveries wait for it (nothing is spent or dropped)"
            log.record(event: HostEvent(function: name, kind: .paused, message: message))
            logger.warning("\(message)")
        }
        let backoff = Swift.min(60_000, Swift.max(1000, age / 2))
        try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs + backoff)
    }

    /// How the attempt is recorded: an async invoke carries its event id; a topic delivery its topic, and an id
    /// of its own that links its attempts.
    private static func origin(of delivery: PendingDelivery) -> (
        trigger: InvocationRecord.Trigger, source: String, eventId: String?
    ) {
        switch delivery.source {
        case .asyncInvoke(let eventId): (.async, "", eventId)
        case .subscription(_, let topic): (.topic, topic, "delivery-\(delivery.id)")
        }
    }

    /// Retries or age ran out: Lambda's destination record to `async.onFailure`, or dropped loudly.
    private func exhausted(
        _ delivery: PendingDelivery, function: DeployedFunction, condition: LambdaPayloads.Condition, eventId: String?,
        last: Dispatcher.Result?, reason: String
    ) async throws {
        guard let destination = function.config.async.onFailure else {
            return try await giveUp(delivery, reason: reason)
        }
        let record = LambdaPayloads.destinationRecord(
            eventId: eventId ?? "", functionArn: function.arn, condition: condition,
            approximateInvokeCount: delivery.attempts + (last == nil ? 0 : 1),
            requestPayload: Array(delivery.payload.utf8),
            lastError: last.map { Array($0.payload.readableBytesView) }, timestamp: Date())
        let json = String(decoding: record, as: UTF8.self)
        switch destination {
        case .queue(let queue):
            guard queues.config(queue) != nil else {
                return try await giveUp(delivery, reason: "\(reason); onFailure queue '\(queue)' does not exist")
            }
            try await store.deadLetterDelivery(
                delivery.id, into: queue, message: OutgoingMessage(body: json), nowMs: queues.nowMs)
            queues.signal.notify(queue)
            log.metrics.delivery(to: "function", outcome: "dead_lettered")
            log.record(
                event: HostEvent(
                    function: function.name, kind: .deadLettered,
                    message: "event \(eventId ?? "") \(condition.rawValue) to queue \(queue): \(reason)"))
        case .topic(let topic):
            guard topics.all()[topic] != nil else {
                return try await giveUp(delivery, reason: "\(reason); onFailure topic '\(topic)' does not exist")
            }
            do {
                _ = try await topics.publish(to: topic, message: json)
            } catch let error as TopicPublisher.TopicError {
                // The destination refused the record (too large for a topic, say): it cannot take it later
                // either, so the event is given up now rather than run again.
                return try await giveUp(
                    delivery, reason: "\(reason); onFailure topic '\(topic)' refused the record: \(error.message)")
            }
            try await store.finishDelivery(delivery.id)
            log.metrics.delivery(to: "function", outcome: "dead_lettered")
            log.record(
                event: HostEvent(
                    function: function.name, kind: .deadLettered,
                    message: "event \(eventId ?? "") \(condition.rawValue) to topic \(topic): \(reason)"))
        }
    }

    private func deliverToHTTP(_ url: String, _ delivery: PendingDelivery, http: HTTPClient) async throws {
        guard case .subscription(let subscriptionId, let topic) = delivery.source else {
            return try await giveUp(delivery, reason: "an async invoke cannot go to an HTTP endpoint")
        }
        // Stored by an older version that did not check endpoints: such a URL would trap the HTTP client.
        if let problem = Subscription.Endpoint.problem(withHTTPURL: url) {
            return try await giveUp(delivery, reason: problem)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = [
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": "Amazon Simple Notification Service Agent",
            "x-amz-sns-message-type": "Notification",
            "x-amz-sns-topic-arn": AWS.topicArn(topic),
            "x-amz-sns-subscription-arn": AWS.subscriptionArn(topic: topic, id: subscriptionId),
        ]
        if let messageId = delivery.messageId { request.headers.add(name: "x-amz-sns-message-id", value: messageId) }
        if delivery.raw { request.headers.add(name: "x-amz-sns-rawdelivery", value: "true") }
        request.body = .bytes(ByteBuffer(string: delivery.payload))
        var status = 0
        do {
            let response = try await http.execute(request, timeout: httpPolicy.timeout)
            status = Int(response.status.code)
            // The endpoint's answer body is not read: an endpoint that trickles it must not hold the delivery
            // (dropping the body closes the connection).
        } catch {
            status = 0
        }
        if (200..<300).contains(status) {
            log.metrics.delivery(to: "http", outcome: "delivered")
            return try await store.finishDelivery(delivery.id)
        }
        let attempts = delivery.attempts + 1
        // SNS retries what the endpoint's host may fix (5xx, no answer); a client error (4xx) would fail again.
        if (400..<500).contains(status) {
            return try await giveUp(delivery, reason: "HTTP \(status) (a client error: not retried, as SNS)")
        }
        if attempts > httpPolicy.retries {
            return try await giveUp(
                delivery,
                reason: "HTTP \(status == 0 ? "connection failed" : String(status)) after \(attempts) attempts")
        }
        let delay = httpPolicy.baseDelayMs * Int64(attempts)
        log.metrics.delivery(to: "http", outcome: "retried")
        try await store.rescheduleDelivery(
            delivery.id, attempts: attempts, nextAttemptAtMs: queues.nowMs + delay)
    }

    /// Retries exhausted: to the dead-letter queue if there is one, else dropped loudly.
    private func giveUp(_ delivery: PendingDelivery, reason: String) async throws {
        let target: String
        let kind: String
        switch delivery.target {
        case .function(let name): (target, kind) = ("function \(name)", "function")
        case .http(let url): (target, kind) = (url, "http")
        }
        if let queue = delivery.deadLetterQueue, queues.config(queue) != nil {
            try await queues.deadLetter(delivery, into: queue, message: OutgoingMessage(body: delivery.payload))
            log.metrics.delivery(to: kind, outcome: "dead_lettered")
            log.record(
                event: HostEvent(
                    function: target, kind: .deadLettered, message: "delivery to \(target) moved to \(queue): \(reason)"
                ))
        } else {
            try await store.finishDelivery(delivery.id)
            log.metrics.delivery(to: kind, outcome: "dropped")
            log.record(
                event: HostEvent(function: target, kind: .dropped, message: "delivery to \(target) dropped: \(reason)"))
            logger.warning("delivery dropped", metadata: ["target": "\(target)", "reason": "\(reason)"])
        }
    }

    /// Exponential backoff with full jitter: up to base, 2×base, 4×base … capped (defaults 1 s and 30 s).
    static func backoffMs(attempt: Int, async: FunctionConfig.Async) -> Int64 {
        let base = async.retryBase.milliseconds
        let ceiling = min(async.retryCap.milliseconds, base << Int64(min(attempt - 1, 20)))
        return Int64.random(in: 0...max(0, ceiling))
    }
}

extension PendingDelivery.Target {
    /// The function name or URL: what concurrency is counted by.
    var key: String { name }
}
