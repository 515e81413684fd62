import Foundation
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// `/v1` endpoints for queues and topics.
extension ControlAPI {
    static func registerMessaging(on router: Router<BasicRequestContext>, host: StratusHost) {
        router.get("/v1/queues") { _, _ in try JSONBody.response(["queues": try await queueSummaries(host)]) }
        router.post("/v1/queues") { request, _ in
            let body = try await jsonObject(request)
            guard let name = body["name"] as? String else { throw invalid("'name' (a string) is required") }
            var queue = QueueConfig(name: name)
            try applyQueueSettings(body, to: &queue, host: host)
            let created = try await translate { try await host.queues.create(queue) }
            return try JSONBody.response(["queue": name], status: created ? .created : .ok)
        }
        router.patch("/v1/queues/:name") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await jsonObject(request)
            if let other = body["name"], (other as? String) != name { throw invalid("'name' cannot be changed") }
            let queue = try await translate {
                try await host.queues.update(name) { queue in try applyQueueSettings(body, to: &queue, host: host) }
            }
            return try JSONBody.response(QueueSettingsBody(queue))
        }
        router.post("/v1/queues/:name/messages") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await jsonObject(request, limit: QueueConfig.maxMessageBytes * 2)
            guard let text = body["body"] as? String else { throw invalid("'body' (a string) is required") }
            var message = OutgoingMessage(body: text, attributes: try attributes(body["attributes"]))
            if let delay = body["delay"] { message.delayMs = try durationMs(delay, key: "delay", in: Limits.messageDelay) }
            let ids = try await translate { try await host.queues.send([message], to: name) }
            return try JSONBody.response(["messageId": ids[0]], status: .created)
        }
        router.post("/v1/queues/:name/receive") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await jsonObject(request)
            let max = try body["max"].map { try integer($0, key: "max", in: Limits.receiveMessages) } ?? 1
            let visibility = try body["visibilityTimeout"].map {
                try durationMs($0, key: "visibilityTimeout", in: Limits.visibilityTimeout)
            }
            let wait = try body["wait"].map { try durationMs($0, key: "wait", in: Limits.receiveWait) } ?? 0
            let messages = try await translate {
                try await host.queues.receive(from: name, max: max, visibilityTimeoutMs: visibility, wait: .milliseconds(wait))
            }
            return try JSONBody.response(["messages": messages])
        }
        router.post("/v1/queues/:name/delete") { request, context in
            let name = try context.parameters.decoded("name")
            guard let handles = try await jsonObject(request)["receiptHandles"] as? [String], handles.count <= 10 else {
                throw invalid("'receiptHandles' must be a list of at most 10 strings")
            }
            let deleted = try await translate { try await host.queues.delete(from: name, receiptHandles: handles) }
            return try JSONBody.response(["deleted": deleted])
        }
        router.post("/v1/queues/:name/visibility") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await jsonObject(request)
            guard let handle = body["receiptHandle"] as? String, let timeout = body["timeout"] else {
                throw invalid("'receiptHandle' and 'timeout' are required")
            }
            let ms = try durationMs(timeout, key: "timeout", in: Limits.visibilityTimeout)
            let changed = try await translate { try await host.queues.changeVisibility(in: name, receiptHandle: handle, timeoutMs: ms) }
            guard changed else { throw APIError(.badRequest, code: "ReceiptHandleIsInvalid", message: "receipt handle is not current") }
            return try JSONBody.response(["changed": true])
        }
        router.post("/v1/queues/:name/purge") { _, context in
            let name = try context.parameters.decoded("name")
            let purged = try await translate { try await host.queues.purge(name) }
            return try JSONBody.response(["purged": purged])
        }
        router.post("/v1/queues/:name/redrive") { request, context in
            let name = try context.parameters.decoded("name")
            let body = try await jsonObject(request)
            if let to = body["to"], !(to is String) { throw invalid("'to' must be a queue name") }
            let target = body["to"] as? String
            let moved = try await translate { try await host.queues.redrive(from: name, to: target) }
            return try JSONBody.response(["moved": moved])
        }
        router.get("/v1/topics") { _, _ in try JSONBody.response(["topics": topicSummaries(host)]) }
        router.post("/v1/topics") { request, _ in
            guard let name = try await jsonObject(request)["name"] as? String else { throw invalid("'name' (a string) is required") }
            try await translate { try await host.topics.create(name) }
            return try JSONBody.response(["topic": name], status: .created)
        }
        router.post("/v1/topics/:name/subscriptions") { request, context in
            let topic = try context.parameters.decoded("name")
            let body = try await jsonObject(request)
            let endpoint = try subscriptionEndpoint(body, host: host)
            var subscription = Subscription(id: RequestID.make(), topic: topic, endpoint: endpoint)
            if let raw = body["raw"] {
                guard JSONBody.isBool(raw), let flag = raw as? Bool else { throw invalid("'raw' must be true or false") }
                subscription.raw = flag
            }
            if let dlq = body["deadLetterQueue"] {
                guard let name = dlq as? String, host.queues.config(name) != nil else {
                    throw notFound("queue", "\(dlq)")
                }
                subscription.deadLetterQueue = name
            }
            let scope: FilterPolicy.Scope
            switch body["filterScope"].map({ $0 as? String ?? "" }) {
            case .none, .some("attributes"), .some("MessageAttributes"): scope = .messageAttributes
            case .some("body"), .some("MessageBody"): scope = .messageBody
            default: throw invalid("'filterScope' must be body (MessageBody) or attributes (MessageAttributes)")
            }
            if let filter = body["filter"] {
                guard let policy = filter as? [String: Any], JSONSerialization.isValidJSONObject(policy) else {
                    throw invalid("'filter' must be a filter policy object")
                }
                let data = try JSONSerialization.data(withJSONObject: policy, options: [.sortedKeys])
                do {
                    try subscription.setFilter(json: String(decoding: data, as: UTF8.self), scope: scope)
                } catch {
                    throw invalid("invalid filter policy: \((error as? FilterPolicy.InvalidPolicy)?.message ?? "\(error)")")
                }
            } else {
                subscription.filterScope = scope
            }
            try await translate { try await host.topics.subscribe(subscription) }
            return try JSONBody.response(["subscriptionId": subscription.id], status: .created)
        }
        router.post("/v1/topics/:name/publish") { request, context in
            let topic = try context.parameters.decoded("name")
            let body = try await jsonObject(request, limit: TopicPublisher.maxMessageBytes * 2)
            guard let message = body["message"] as? String else { throw invalid("'message' (a string) is required") }
            if let subject = body["subject"], !(subject is String) { throw invalid("'subject' must be a string") }
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
            case .alreadyExists: throw APIError(.conflict, code: error.code.rawValue, message: error.message)
            case .overLimit: throw APIError(.forbidden, code: error.code.rawValue, message: error.message)
            }
        } catch let error as TopicPublisher.TopicError {
            switch error.code {
            case .notFound: throw APIError(.notFound, code: "TopicNotFound", message: error.message)
            case .tooLarge: throw APIError(.contentTooLarge, code: "MessageTooLong", message: error.message)
            case .invalid: throw APIError(.badRequest, code: error.code.rawValue, message: error.message)
            case .overLimit: throw APIError(.forbidden, code: error.code.rawValue, message: error.message)
            }
        } catch let error as StoreError where error.code == .queueDoesNotExist {
            throw APIError(.notFound, code: "QueueDoesNotExist", message: error.message)
        }
    }

    static func jsonObject(_ request: Request, limit: Int = Limits.requestBytes) async throws -> [String: Any] {
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

    /// The one endpoint a subscription request names: `function`, `queue` or `http` (an http(s) URL with a host).
    static func subscriptionEndpoint(_ body: [String: Any], host: StratusHost) throws -> Subscription.Endpoint {
        let named = ["function", "queue", "http"].filter { body[$0] != nil }
        guard named.count == 1, let kind = named.first, let target = body[kind] as? String, !target.isEmpty else {
            throw invalid("exactly one of 'function', 'queue' or 'http' (a name or an http:// URL) is required")
        }
        switch kind {
        case "function":
            guard host.dispatcher.function(named: target) != nil else { throw APIError.notFound(function: target) }
            return .function(target)
        case "queue":
            return .queue(target)
        default:
            guard let url = URL(string: target), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                let name = url.host, !name.isEmpty
            else {
                throw invalid("'http' must be an http:// or https:// URL with a host (got '\(target.prefix(200))')")
            }
            return .http(target)
        }
    }

    /// Applies the queue settings of a create or update request, each checked against `Limits`.
    static func applyQueueSettings(_ body: [String: Any], to queue: inout QueueConfig, host: StratusHost) throws {
        let known: Set<String> = ["name", "visibilityTimeout", "retention", "delay", "maxReceiveCount", "deadLetterQueue"]
        if let unknown = body.keys.sorted().first(where: { !known.contains($0) }) {
            throw invalid("unknown queue setting '\(unknown.prefix(100))'; expected one of: \(known.sorted().joined(separator: ", "))")
        }
        if let value = body["visibilityTimeout"] {
            queue.visibilityTimeoutMs = try durationMs(value, key: "visibilityTimeout", in: Limits.visibilityTimeout)
        }
        if let value = body["retention"] { queue.retentionMs = try durationMs(value, key: "retention", in: Limits.retention) }
        if let value = body["delay"] { queue.delayMs = try durationMs(value, key: "delay", in: Limits.messageDelay) }
        if let value = body["maxReceiveCount"] {
            queue.maxReceiveCount = try integer(value, key: "maxReceiveCount", in: Limits.maxReceiveCount)
        }
        if let value = body["deadLetterQueue"] {
            if value is NSNull {
                queue.deadLetterQueue = nil
            } else {
                guard let dlq = value as? String else { throw invalid("'deadLetterQueue' must be a queue name or null") }
                guard host.queues.config(dlq) != nil else { throw notFound("queue", dlq) }
                queue.deadLetterQueue = dlq
                queue.maxReceiveCount = queue.maxReceiveCount ?? 5
            }
        }
        // As at load: a consumer's messages must stay hidden while its function may still run them.
        if let consumer = queue.consumer, let function = host.dispatcher.function(named: consumer.function),
            queue.visibilityTimeoutMs < function.config.timeout.milliseconds
        {
            throw invalid(
                "visibilityTimeout must be at least the timeout of the queue's consumer '\(consumer.function)' "
                    + "(\(DurationParser.format(function.config.timeout)))")
        }
    }

    /// `"30s"` or a number of milliseconds, within `range`.
    static func durationMs(_ value: Any, key: String, in range: ClosedRange<Duration>) throws -> Int64 {
        let expected = "'\(key)' must be a duration between \(DurationParser.format(range.lowerBound)) and "
            + "\(DurationParser.format(range.upperBound)) (such as 500ms, 3s, 2m) or a number of milliseconds"
        var duration: Duration?
        if let text = value as? String {
            duration = DurationParser.parse(text)
        } else if let number = JSONBody.number(value), let ms = Int64(exactly: number.doubleValue) {
            duration = .milliseconds(ms)
        }
        guard let duration, range.contains(duration) else { throw invalid(expected) }
        return duration.milliseconds
    }

    /// An integer within `range`; fractions, strings, booleans and huge numbers are refused.
    static func integer(_ value: Any, key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let number = JSONBody.number(value), let int = Int(exactly: number.doubleValue),
            range.contains(int)
        else {
            throw invalid("'\(key)' must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return int
    }

    /// `{"k": "v"}`, `{"k": 5}` or `{"k": {"dataType": "Number", "stringValue": "5"}}`.
    static func attributes(_ value: Any?) throws -> [String: MessageAttribute] {
        guard let value, !(value is NSNull) else { return [:] }
        guard let object = value as? [String: Any] else { throw invalid("'attributes' must be an object") }
        guard object.count <= Limits.messageAttributes else {
            throw invalid("\(object.count) message attributes; at most \(Limits.messageAttributes) are allowed")
        }
        var attributes: [String: MessageAttribute] = [:]
        for (name, raw) in object {
            if let text = raw as? String {
                attributes[name] = MessageAttribute(dataType: "String", stringValue: text)
            } else if let number = JSONBody.number(raw) {
                attributes[name] = MessageAttribute(dataType: "Number", stringValue: number.stringValue)
            } else if let typed = raw as? [String: Any], let type = typed["dataType"] as? String, let text = typed["stringValue"] as? String {
                attributes[name] = MessageAttribute(dataType: type, stringValue: text)
            } else {
                throw invalid("attribute '\(name.prefix(100))' must be a string, a number or {dataType, stringValue}")
            }
        }
        if let problem = MessageAttribute.problem(in: attributes) { throw invalid(problem) }
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

/// A queue's settings as an update answers them.
struct QueueSettingsBody: Encodable, Sendable {
    var name: String
    var visibilityTimeoutMs: Int64
    var retentionMs: Int64
    var delayMs: Int64
    var maxReceiveCount: Int?
    var deadLetterQueue: String?
    var consumer: String?

    init(_ queue: QueueConfig) {
        name = queue.name
        visibilityTimeoutMs = queue.visibilityTimeoutMs
        retentionMs = queue.retentionMs
        delayMs = queue.delayMs
        maxReceiveCount = queue.maxReceiveCount
        deadLetterQueue = queue.deadLetterQueue
        consumer = queue.consumer?.function
    }
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
