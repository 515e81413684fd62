import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// `/v1` endpoints for queues and topics.
extension ControlAPI {
    static func registerMessaging(on router: Router<BasicRequestContext>, host: StratusHost) {
        router.get("/v1/queues") { _, _ in try JSONBody.response(["queues": try await queueSummaries(host)]) }
        router.post("/v1/queues") { request, _ in
            let body = try await jsonObject(request)
            guard let name = body["name"] as? String else { throw invalid("'name' is required") }
            var queue = QueueConfig(name: name)
            if let value = body["visibilityTimeout"] { queue.visibilityTimeoutMs = try durationMs(value, key: "visibilityTimeout") }
            if let value = body["retention"] { queue.retentionMs = try durationMs(value, key: "retention") }
            if let value = body["delay"] { queue.delayMs = try durationMs(value, key: "delay") }
            if let value = body["maxReceiveCount"] {
                guard let count = value as? Int, count > 0 else { throw invalid("'maxReceiveCount' must be a positive integer") }
                queue.maxReceiveCount = count
            }
            if let dlq = body["deadLetterQueue"] as? String {
                guard host.queues.config(dlq) != nil else { throw notFound("queue", dlq) }
                queue.deadLetterQueue = dlq
                queue.maxReceiveCount = queue.maxReceiveCount ?? 5
            }
            try await translate { try await host.queues.create(queue) }
            return try JSONBody.response(["queue": name], status: .created)
        }
        router.post("/v1/queues/:name/messages") { request, context in
            let name = try context.parameters.require("name")
            let body = try await jsonObject(request, limit: QueueConfig.maxMessageBytes * 2)
            guard let text = body["body"] as? String else { throw invalid("'body' (a string) is required") }
            var message = OutgoingMessage(body: text, attributes: try attributes(body["attributes"]))
            if let delay = body["delay"] { message.delayMs = try durationMs(delay, key: "delay") }
            let ids = try await translate { try await host.queues.send([message], to: name) }
            return try JSONBody.response(["messageId": ids[0]], status: .created)
        }
        router.post("/v1/queues/:name/receive") { request, context in
            let name = try context.parameters.require("name")
            let body = try await jsonObject(request)
            let max = body["max"] as? Int ?? 1
            guard (1...10).contains(max) else { throw invalid("'max' must be between 1 and 10") }
            let visibility = try body["visibilityTimeout"].map { try durationMs($0, key: "visibilityTimeout") }
            let wait = try body["wait"].map { try durationMs($0, key: "wait") } ?? 0
            guard wait <= 20_000 else { throw invalid("'wait' must be at most 20s") }
            let messages = try await translate {
                try await host.queues.receive(from: name, max: max, visibilityTimeoutMs: visibility, wait: .milliseconds(wait))
            }
            return try JSONBody.response(["messages": messages])
        }
        router.post("/v1/queues/:name/delete") { request, context in
            let name = try context.parameters.require("name")
            let handles = try await jsonObject(request)["receiptHandles"] as? [String] ?? []
            let deleted = try await translate { try await host.queues.delete(from: name, receiptHandles: handles) }
            return try JSONBody.response(["deleted": deleted])
        }
        router.post("/v1/queues/:name/visibility") { request, context in
            let name = try context.parameters.require("name")
            let body = try await jsonObject(request)
            guard let handle = body["receiptHandle"] as? String, let timeout = body["timeout"] else {
                throw invalid("'receiptHandle' and 'timeout' are required")
            }
            let ms = try durationMs(timeout, key: "timeout")
            let changed = try await translate { try await host.queues.changeVisibility(in: name, receiptHandle: handle, timeoutMs: ms) }
            guard changed else { throw APIError(.badRequest, code: "ReceiptHandleIsInvalid", message: "receipt handle is not current") }
            return try JSONBody.response(["changed": true])
        }
        router.post("/v1/queues/:name/purge") { _, context in
            let name = try context.parameters.require("name")
            let purged = try await translate { try await host.queues.purge(name) }
            return try JSONBody.response(["purged": purged])
        }
        router.post("/v1/queues/:name/redrive") { request, context in
            let name = try context.parameters.require("name")
            let target = try await jsonObject(request)["to"] as? String
            let moved = try await translate { try await host.queues.redrive(from: name, to: target) }
            return try JSONBody.response(["moved": moved])
        }
        router.get("/v1/topics") { _, _ in try JSONBody.response(["topics": topicSummaries(host)]) }
        router.post("/v1/topics") { request, _ in
            guard let name = try await jsonObject(request)["name"] as? String else { throw invalid("'name' is required") }
            try await translate { try await host.topics.create(name) }
            return try JSONBody.response(["topic": name], status: .created)
        }
        router.post("/v1/topics/:name/subscriptions") { request, context in
            let topic = try context.parameters.require("name")
            let body = try await jsonObject(request)
            let endpoint: Subscription.Endpoint
            if let function = body["function"] as? String {
                guard host.dispatcher.function(named: function) != nil else { throw APIError.notFound(function: function) }
                endpoint = .function(function)
            } else if let queue = body["queue"] as? String {
                endpoint = .queue(queue)
            } else if let url = body["http"] as? String, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") {
                endpoint = .http(url)
            } else {
                throw invalid("one of 'function', 'queue' or 'http' (an http:// URL) is required")
            }
            var subscription = Subscription(id: RequestID.make(), topic: topic, endpoint: endpoint)
            subscription.raw = body["raw"] as? Bool ?? false
            subscription.deadLetterQueue = body["deadLetterQueue"] as? String
            if let filter = body["filter"] {
                let scope: FilterPolicy.Scope = (body["filterScope"] as? String) == "body" ? .messageBody : .messageAttributes
                let data = try JSONSerialization.data(withJSONObject: filter, options: [.sortedKeys, .fragmentsAllowed])
                do {
                    try subscription.setFilter(json: String(decoding: data, as: UTF8.self), scope: scope)
                } catch {
                    throw invalid("invalid filter policy: \((error as? FilterPolicy.InvalidPolicy)?.message ?? "\(error)")")
                }
            }
            try await translate { try await host.topics.subscribe(subscription) }
            return try JSONBody.response(["subscriptionId": subscription.id], status: .created)
        }
        router.post("/v1/topics/:name/publish") { request, context in
            let topic = try context.parameters.require("name")
            let body = try await jsonObject(request, limit: TopicPublisher.maxMessageBytes * 2)
            guard let message = body["message"] as? String else { throw invalid("'message' (a string) is required") }
            let id = try await translate {
                try await host.topics.publish(
                    to: topic, message: message, subject: body["subject"] as? String, attributes: try attributes(body["attributes"]))
            }
            return try JSONBody.response(["messageId": id], status: .created)
        }
    }

    static func queueSummaries(_ host: StratusHost) async throws -> [QueueSummary] {
        var summaries: [QueueSummary] = []
        let all = host.queues.all()
        var counts: [String: QueueCounts] = [:]
        for queue in all { counts[queue.name] = try await host.queues.counts(queue.name) }
        for queue in all {
            let dlqCounts = queue.deadLetterQueue.flatMap { counts[$0] }
            summaries.append(QueueSummary(
                name: queue.name, counts: counts[queue.name] ?? QueueCounts(),
                deadLettered: dlqCounts.map { $0.visible + $0.inFlight + $0.delayed },
                deadLetterQueue: queue.deadLetterQueue, maxReceiveCount: queue.maxReceiveCount,
                visibilityTimeoutMs: queue.visibilityTimeoutMs, consumer: queue.consumer?.function))
        }
        return summaries
    }

    static func topicSummaries(_ host: StratusHost) -> [TopicSummary] {
        host.topics.all().sorted { $0.key < $1.key }.map { topic, subscriptions in
            TopicSummary(name: topic, subscriptions: subscriptions.map { subscription in
                let (kind, target) = subscription.endpoint.kindAndTarget
                return SubscriptionSummary(
                    id: subscription.id, kind: kind, target: target, filter: subscription.filterPolicy,
                    filterScope: subscription.filterScope.rawValue, raw: subscription.raw, deadLetterQueue: subscription.deadLetterQueue)
            })
        }
    }

    /// Maps the runtime's errors to the `/v1` error shape.
    static func translate<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as QueueService.QueueError {
            switch error.code {
            case .notFound: throw APIError(.notFound, code: error.code.rawValue, message: error.message)
            case .tooLarge: throw APIError(.contentTooLarge, code: error.code.rawValue, message: error.message)
            case .invalid: throw APIError(.badRequest, code: error.code.rawValue, message: error.message)
            }
        } catch let error as TopicPublisher.TopicError {
            switch error.code {
            case .notFound: throw APIError(.notFound, code: "TopicNotFound", message: error.message)
            case .tooLarge: throw APIError(.contentTooLarge, code: "MessageTooLong", message: error.message)
            case .invalid: throw APIError(.badRequest, code: error.code.rawValue, message: error.message)
            }
        }
    }

    static func jsonObject(_ request: Request, limit: Int = 1 << 20) async throws -> [String: Any] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "RequestTooLarge", message: "request body exceeds \(limit) bytes")
        }
        if buffer.readableBytes == 0 { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw invalid("request body must be a JSON object")
        }
        return object
    }

    /// `"30s"` or a number of milliseconds.
    static func durationMs(_ value: Any, key: String) throws -> Int64 {
        if let number = value as? Int, number >= 0 { return Int64(number) }
        if let text = value as? String, let duration = DurationParser.parse(text) { return duration.milliseconds }
        throw invalid("'\(key)' must be \(DurationParser.expected) or milliseconds")
    }

    /// `{"k": "v"}`, `{"k": 5}` or `{"k": {"dataType": "Number", "stringValue": "5"}}`.
    static func attributes(_ value: Any?) throws -> [String: MessageAttribute] {
        guard let value else { return [:] }
        guard let object = value as? [String: Any] else { throw invalid("'attributes' must be an object") }
        var attributes: [String: MessageAttribute] = [:]
        for (name, raw) in object {
            if let text = raw as? String {
                attributes[name] = MessageAttribute(dataType: "String", stringValue: text)
            } else if let number = raw as? NSNumber, !(raw is Bool) {
                attributes[name] = MessageAttribute(dataType: "Number", stringValue: number.stringValue)
            } else if let typed = raw as? [String: Any], let type = typed["dataType"] as? String, let text = typed["stringValue"] as? String {
                attributes[name] = MessageAttribute(dataType: type, stringValue: text)
            } else {
                throw invalid("attribute '\(name)' must be a string, a number or {dataType, stringValue}")
            }
        }
        return attributes
    }

    static func invalid(_ message: String) -> APIError {
        APIError(.badRequest, code: "InvalidParameter", message: message)
    }

    static func notFound(_ kind: String, _ name: String) -> APIError {
        APIError(.notFound, code: kind == "queue" ? "QueueDoesNotExist" : "TopicNotFound", message: "no \(kind) named '\(name)'")
    }
}

struct QueueSummary: Encodable, Sendable {
    var name: String
    var counts: QueueCounts
    var deadLettered: Int?
    var deadLetterQueue: String?
    var maxReceiveCount: Int?
    var visibilityTimeoutMs: Int64
    var consumer: String?
}

struct TopicSummary: Encodable, Sendable {
    var name: String
    var subscriptions: [SubscriptionSummary]
}

struct SubscriptionSummary: Encodable, Sendable {
    var id: String
    var kind: String
    var target: String
    var filter: String?
    var filterScope: String
    var raw: Bool
    var deadLetterQueue: String?
}
