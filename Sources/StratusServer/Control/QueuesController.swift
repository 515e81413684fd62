import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// `/v1/queues`: create, update, send, receive, delete, change visibility, purge, redrive.
struct QueuesController {
    let host: StratusHost

    func register(on router: Router<ControlContext>) {
        let queues = router.group("/v1/queues")
        queues.get { _, _ in try JSONBody.response(V1.QueueList(queues: try await Self.summaries(host))) }
        queues.post { request, context in
            let body = try await request.decode(as: V1.QueueSettings.self, context: context)
            guard let name = body.name else { throw APIError.invalid("'name' (a string) is required") }
            // As SQS's FifoQueue: a FIFO queue says so, and its name ends in .fifo.
            guard name.hasSuffix(".fifo") == (body.fifo ?? false) else {
                throw APIError.invalid(
                    name.hasSuffix(".fifo")
                        ? "a queue named .fifo is a FIFO queue: add \"fifo\": true"
                        : "a FIFO queue's name must end in .fifo")
            }
            var queue = QueueConfig(name: name)
            try apply(body, to: &queue)
            let created = try await host.queues.create(queue)
            return try JSONBody.response(V1.QueueName(queue: name), status: created ? .created : .ok)
        }
        queues.patch(":name") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.QueueSettings.self, context: context)
            if let other = body.name, other != name { throw APIError.invalid("'name' cannot be changed") }
            let queue = try await host.queues.update(name) { queue in try apply(body, to: &queue) }
            return try JSONBody.response(V1.QueueSettingsAnswer(queue))
        }
        queues.post(":name/messages") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.SendMessage.self, context: context)
            var message = OutgoingMessage(
                body: body.body, attributes: try Self.attributes(body.attributes), groupId: body.group,
                deduplicationId: body.deduplicationId)
            if let delay = body.delay { message.delayMs = try Self.milliseconds(delay, "delay", Limits.messageDelay) }
            let ids = try await host.queues.send([message], to: name)
            return try JSONBody.response(V1.MessageId(messageId: ids[0].id), status: .created)
        }
        queues.post(":name/receive") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.Receive.self, context: context)
            let max = body.max ?? 1
            guard Limits.receiveMessages.contains(max) else {
                throw APIError.invalid("'max' must be an integer between 1 and 10")
            }
            let visibility = try body.visibilityTimeout.map {
                try Self.milliseconds($0, "visibilityTimeout", Limits.visibilityTimeout)
            }
            let wait = try body.wait.map { try Self.milliseconds($0, "wait", Limits.receiveWait) } ?? 0
            let messages = try await host.queues.receive(
                from: name, max: max, visibilityTimeoutMs: visibility, wait: .milliseconds(wait))
            return try JSONBody.response(V1.Messages(messages: messages))
        }
        queues.post(":name/delete") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.DeleteMessages.self, context: context)
            guard body.receiptHandles.count <= 10 else {
                throw APIError.invalid("'receiptHandles' must be a list of at most 10 strings")
            }
            return try JSONBody.response(
                V1.Count.deleted(try await host.queues.delete(from: name, receiptHandles: body.receiptHandles)))
        }
        queues.post(":name/visibility") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.ChangeVisibility.self, context: context)
            let ms = try Self.milliseconds(body.timeout, "timeout", Limits.visibilityTimeout)
            switch try await host.queues.changeVisibility(in: name, receiptHandle: body.receiptHandle, timeoutMs: ms) {
            case .changed: break
            case .notInFlight:
                throw APIError(
                    .badRequest, code: "MessageNotInflight",
                    message: "the message is visible again (its visibility timeout ran out): receive it again")
            case .unknownHandle:
                throw APIError(.badRequest, code: "ReceiptHandleIsInvalid", message: "receipt handle is not current")
            }
            return try JSONBody.response(V1.Changed())
        }
        queues.post(":name/purge") { _, context in
            let name = try context.parameters.decoded("name")
            return try JSONBody.response(V1.Count.purged(try await host.queues.purge(name)))
        }
        queues.post(":name/redrive") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.Redrive.self, context: context)
            return try JSONBody.response(V1.Count.moved(try await host.queues.redrive(from: name, to: body.to)))
        }
    }

    /// Applies the settings of a create or update request, each checked against `Limits`.
    private func apply(_ body: V1.QueueSettings, to queue: inout QueueConfig) throws {
        if let fifo = body.fifo {
            guard fifo == queue.fifo else {
                throw APIError.invalid(
                    fifo
                        ? "a FIFO queue's name must end in .fifo"
                        : "a queue named .fifo is a FIFO queue ('fifo' cannot be false)")
            }
        }
        if let value = body.contentBasedDeduplication { queue.contentBasedDeduplication = value }
        if let value = body.visibilityTimeout {
            queue.visibilityTimeoutMs = try Self.milliseconds(value, "visibilityTimeout", Limits.visibilityTimeout)
        }
        if let value = body.retention {
            queue.retentionMs = try Self.milliseconds(value, "retention", Limits.retention)
        }
        if let value = body.delay { queue.delayMs = try Self.milliseconds(value, "delay", Limits.messageDelay) }
        if let count = body.maxReceiveCount {
            guard Limits.maxReceiveCount.contains(count) else {
                throw APIError.invalid("'maxReceiveCount' must be an integer between 1 and 1000")
            }
            queue.maxReceiveCount = count
        }
        switch body.deadLetterQueue {
        case .none: break
        case .null?: queue.deadLetterQueue = nil
        case .value(let dlq)?:
            guard host.queues.config(dlq) != nil else {
                throw APIError(.notFound, code: "QueueDoesNotExist", message: "no queue named '\(dlq.prefix(100))'")
            }
            queue.deadLetterQueue = dlq
            queue.maxReceiveCount = queue.maxReceiveCount ?? 5
        }
        // As at load: a consumer's messages must stay hidden while its function may still run them.
        if let consumer = queue.consumer, let function = host.dispatcher.function(named: consumer.function),
            queue.visibilityTimeoutMs < function.config.timeout.milliseconds
        {
            throw APIError.invalid(
                "visibilityTimeout must be at least the timeout of the queue's consumer '\(consumer.function)' "
                    + "(\(DurationParser.format(function.config.timeout)))")
        }
    }

    /// `value` in milliseconds when it lies in `range`, else a 400 naming `key` and the range.
    static func milliseconds(_ value: DurationValue, _ key: String, _ range: ClosedRange<Duration>) throws -> Int64 {
        guard let duration = value.in(range) else {
            throw APIError.invalid(
                "'\(key)' must be a duration between \(DurationParser.format(range.lowerBound)) and "
                    + "\(DurationParser.format(range.upperBound)) (such as 500ms, 3s, 2m) or a number of milliseconds")
        }
        return duration.milliseconds
    }

    /// Message attributes, at most 10, each as SQS checks them.
    static func attributes(_ values: [String: V1.AttributeValue]?) throws -> [String: MessageAttribute] {
        let attributes = (values ?? [:]).mapValues(\.attribute)
        if let problem = MessageAttribute.problem(in: attributes) { throw APIError.invalid(problem) }
        return attributes
    }

    /// Every queue with its counts, for `GET /v1/queues`, `/v1/status` and `/metrics`.
    static func summaries(_ host: StratusHost) async throws -> [V1.QueueSummary] {
        let all = host.queues.all()
        let counts = try await host.queues.allCounts()
        return all.map { queue in
            let dlqCounts = queue.deadLetterQueue.flatMap { counts[$0] }
            return V1.QueueSummary(
                name: queue.name, counts: counts[queue.name] ?? QueueCounts(),
                deadLettered: dlqCounts.map { $0.visible + $0.inFlight + $0.delayed },
                deadLetterQueue: queue.deadLetterQueue,
                maxReceiveCount: queue.maxReceiveCount, visibilityTimeoutMs: queue.visibilityTimeoutMs,
                consumer: queue.consumer?.function, consumerEnabled: queue.consumer?.enabled)
        }
    }
}
