import Foundation
import Logging
import NIOCore
import StratusCore
import StratusStore
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Delivers topic messages to functions and HTTP endpoints from durable records: a delivery leaves the
/// store only when it succeeded, went to a dead-letter queue, or was given up (recorded as an event).
final class DeliveryRunner: Sendable {
    /// Retry timing for HTTP endpoints (SNS retries 3 times by default; seconds apart suit local work).
    struct HTTPPolicy: Sendable {
        var retries = 3
        var baseDelayMs: Int64 = 1000
        var timeout: TimeInterval = 15
    }

    private let store: any Store
    private let queues: QueueService
    private let dispatcher: Dispatcher
    private let log: InvocationLog
    private let httpPolicy: HTTPPolicy
    private let inFlight = Mutex<Set<Int64>>([])
    /// Set once topics exist, for `onFailure: {topic: …}` destinations.
    private let publisherBox = Mutex<TopicPublisher?>(nil)
    private var publisher: TopicPublisher? { publisherBox.withLock { $0 } }

    func attach(_ publisher: TopicPublisher) {
        publisherBox.withLock { $0 = publisher }
    }
    private let kicks: AsyncStream<Void>.Continuation
    private let kickStream: AsyncStream<Void>
    private let session: URLSession
    private let logger: Logger
    /// Deliveries running at once.
    private let concurrency = 16

    init(store: any Store, queues: QueueService, dispatcher: Dispatcher, log: InvocationLog, httpPolicy: HTTPPolicy = .init(), logger: Logger) {
        self.store = store
        self.queues = queues
        self.dispatcher = dispatcher
        self.log = log
        self.httpPolicy = httpPolicy
        self.logger = logger
        (kickStream, kicks) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = httpPolicy.timeout
        configuration.httpMaximumConnectionsPerHost = 16
        session = URLSession(configuration: configuration)
    }

    /// New deliveries were committed: look now rather than at the next timer.
    func kick() {
        kicks.yield()
    }

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [kicks] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    kicks.yield()
                }
            }
            for await _ in kickStream {
                if Task.isCancelled { break }
                let room = concurrency - inFlight.withLock { $0.count }
                guard room > 0 else { continue }
                let due: [PendingDelivery]
                do {
                    due = try await store.dueDeliveries(nowMs: QueueService.nowMs(), limit: concurrency * 2)
                } catch {
                    logger.error("reading deliveries failed", metadata: ["error": "\(error)"])
                    continue
                }
                let started = inFlight.withLock { set in
                    due.filter { set.insert($0.id).inserted }.prefix(room)
                }
                for delivery in started {
                    group.addTask {
                        await self.attempt(delivery)
                        self.inFlight.withLock { _ = $0.remove(delivery.id) }
                        self.kicks.yield()
                    }
                }
            }
            group.cancelAll()
        }
    }

    func stop() {
        kicks.finish()
    }

    private func attempt(_ delivery: PendingDelivery) async {
        do {
            switch delivery.target {
            case .function(let name): try await deliverToFunction(name, delivery)
            case .http(let url): try await deliverToHTTP(url, delivery)
            }
        } catch {
            logger.error("delivery bookkeeping failed; it will be retried", metadata: ["error": "\(error)"])
        }
    }

    private func deliverToFunction(_ name: String, _ delivery: PendingDelivery) async throws {
        guard let function = dispatcher.function(named: name) else {
            return try await giveUp(delivery, reason: "function '\(name)' is not loaded")
        }
        let config = function.config.async
        let nowMs = QueueService.nowMs()
        let (trigger, source, eventId) = Self.origin(of: delivery)
        if nowMs - delivery.createdAtMs > config.maxEventAge.milliseconds {
            return try await exhausted(
                delivery, function: function, condition: "EventAgeExceeded", eventId: eventId, last: nil,
                reason: "event older than maxEventAge (\(DurationParser.format(config.maxEventAge)))")
        }
        // While the function's breaker is open, wait: no retry and no event age is spent on the outage
        // (the age still bounds the wait).
        if !dispatcher.breakerAllows(name) {
            return try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs + 500)
        }
        let result = try await dispatcher.invoke(
            name, payload: ByteBuffer(string: delivery.payload),
            origin: .init(trigger: trigger, source: source, attempt: delivery.attempts + 1, eventId: eventId))
        switch result.record.status {
        case .ok:
            try await store.finishDelivery(delivery.id)
        case .throttled, .rejected:
            // Not the function's fault: try again soon without spending a retry.
            try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs + 1000)
        case .error, .timeout, .crashed:
            let attempts = delivery.attempts + 1
            if attempts > config.retries {
                return try await exhausted(
                    delivery, function: function, condition: "RetriesExhausted", eventId: eventId, last: result,
                    reason: "\(attempts) attempts failed, last: \(result.record.errorType ?? "error")")
            }
            try await store.rescheduleDelivery(
                delivery.id, attempts: attempts, nextAttemptAtMs: nowMs + Self.backoffMs(attempt: attempts, async: config))
        }
    }

    /// Async invokes are `invoke:<event id>`; topic deliveries `<topic>:<index>`.
    private static func origin(of delivery: PendingDelivery) -> (trigger: String, source: String, eventId: String?) {
        if delivery.subscriptionId.hasPrefix("invoke:") {
            let id = String(delivery.subscriptionId.dropFirst("invoke:".count))
            return ("async", "", id)
        }
        let topic = delivery.subscriptionId.split(separator: ":").first.map(String.init) ?? ""
        return ("topic", topic, "delivery-\(delivery.id)")
    }

    /// Retries or age ran out: Lambda's destination record to `async.onFailure`, or dropped loudly.
    private func exhausted(
        _ delivery: PendingDelivery, function: DeployedFunction, condition: String, eventId: String?,
        last: Dispatcher.Result?, reason: String
    ) async throws {
        guard let destination = function.config.async.onFailure else {
            return try await giveUp(delivery, reason: reason)
        }
        var json = "{\"version\":\"1.0\",\"timestamp\":\"\(MessagingEvents.isoTimestamp(Date()))\""
        json += ",\"requestContext\":{\"requestId\":\"\(eventId ?? "")\",\"functionArn\":\"\(function.arn):$LATEST\""
        json += ",\"condition\":\"\(condition)\",\"approximateInvokeCount\":\(delivery.attempts + (last == nil ? 0 : 1))}"
        json += ",\"requestPayload\":\(Self.isJSON(delivery.payload) ? delivery.payload : Self.quoted(delivery.payload))"
        if let last {
            json += ",\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"$LATEST\",\"functionError\":\"Unhandled\"}"
            let body = String(buffer: last.payload)
            json += ",\"responsePayload\":\(Self.isJSON(body) ? body : Self.quoted(body))"
        }
        json += "}"
        switch destination {
        case .queue(let queue):
            guard queues.config(queue) != nil else { return try await giveUp(delivery, reason: "\(reason); onFailure queue '\(queue)' does not exist") }
            try await store.deadLetterDelivery(delivery.id, into: queue, message: OutgoingMessage(body: json), nowMs: QueueService.nowMs())
            queues.signal.notify(queue)
            log.record(event: HostEvent(function: function.name, kind: .deadLettered, message: "event \(eventId ?? "") \(condition) to queue \(queue): \(reason)"))
        case .topic(let topic):
            guard let publisher else { return try await giveUp(delivery, reason: reason) }
            _ = try await publisher.publish(to: topic, message: json)
            try await store.finishDelivery(delivery.id)
            log.record(event: HostEvent(function: function.name, kind: .deadLettered, message: "event \(eventId ?? "") \(condition) to topic \(topic): \(reason)"))
        }
    }

    private static func isJSON(_ text: String) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil
    }

    private static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }

    private func deliverToHTTP(_ url: String, _ delivery: PendingDelivery) async throws {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = "POST"
        request.httpBody = Data(delivery.payload.utf8)
        request.setValue("text/plain; charset=UTF-8", forHTTPHeaderField: "Content-Type")
        request.setValue("Amazon Simple Notification Service Agent", forHTTPHeaderField: "User-Agent")
        request.setValue("Notification", forHTTPHeaderField: "x-amz-sns-message-type")
        let topic = delivery.subscriptionId.split(separator: ":").first.map(String.init) ?? ""
        request.setValue(MessagingEvents.topicArn(topic), forHTTPHeaderField: "x-amz-sns-topic-arn")
        request.setValue("\(MessagingEvents.topicArn(topic)):\(delivery.subscriptionId)", forHTTPHeaderField: "x-amz-sns-subscription-arn")
        var status = 0
        do {
            let (_, response) = try await session.data(for: request)
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            status = 0
        }
        if (200..<300).contains(status) { return try await store.finishDelivery(delivery.id) }
        let attempts = delivery.attempts + 1
        if attempts > httpPolicy.retries {
            return try await giveUp(delivery, reason: "HTTP \(status == 0 ? "connection failed" : String(status)) after \(attempts) attempts")
        }
        let delay = httpPolicy.baseDelayMs * Int64(attempts)
        try await store.rescheduleDelivery(delivery.id, attempts: attempts, nextAttemptAtMs: QueueService.nowMs() + delay)
    }

    /// Retries exhausted: to the dead-letter queue if there is one, else dropped loudly.
    private func giveUp(_ delivery: PendingDelivery, reason: String) async throws {
        let target: String
        switch delivery.target {
        case .function(let name): target = "function \(name)"
        case .http(let url): target = url
        }
        if let queue = delivery.deadLetterQueue, queues.config(queue) != nil {
            try await store.deadLetterDelivery(
                delivery.id, into: queue, message: OutgoingMessage(body: delivery.payload), nowMs: QueueService.nowMs())
            queues.signal.notify(queue)
            log.record(event: HostEvent(function: target, kind: .deadLettered, message: "delivery to \(target) moved to \(queue): \(reason)"))
        } else {
            try await store.finishDelivery(delivery.id)
            log.record(event: HostEvent(function: target, kind: .dropped, message: "delivery to \(target) dropped: \(reason)"))
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
