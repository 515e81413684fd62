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
        if nowMs - delivery.createdAtMs > config.maxEventAge.milliseconds {
            return try await giveUp(delivery, reason: "event older than maxEventAge (\(DurationParser.format(config.maxEventAge)))")
        }
        let topic = delivery.subscriptionId.split(separator: ":").first.map(String.init) ?? ""
        let result = try await dispatcher.invoke(
            name, payload: ByteBuffer(string: delivery.payload),
            origin: .init(trigger: "topic", source: topic, attempt: delivery.attempts + 1))
        switch result.record.status {
        case .ok:
            try await store.finishDelivery(delivery.id)
        case .throttled, .rejected:
            // Not the function's fault: try again soon without spending a retry.
            try await store.rescheduleDelivery(delivery.id, attempts: delivery.attempts, nextAttemptAtMs: nowMs + 1000)
        case .error, .timeout, .crashed:
            let attempts = delivery.attempts + 1
            if attempts > config.retries {
                return try await giveUp(delivery, reason: "\(attempts) attempts failed, last: \(result.record.errorType ?? "error")")
            }
            try await store.rescheduleDelivery(delivery.id, attempts: attempts, nextAttemptAtMs: nowMs + Self.backoffMs(attempt: attempts))
        }
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

    /// Exponential backoff with full jitter: up to 1 s, 2 s, 4 s … capped at 30 s.
    static func backoffMs(attempt: Int) -> Int64 {
        let cap = min(30_000, 1000 << min(attempt - 1, 10))
        return Int64.random(in: Int64(cap / 2)...Int64(cap))
    }
}
