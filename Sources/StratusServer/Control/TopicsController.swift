import Foundation
import Hummingbird
import StratusCore
import StratusRuntime

/// `/v1/topics`: create, subscribe, publish.
struct TopicsController {
    let host: StratusHost

    func register(on router: Router<ControlContext>) {
        let topics = router.group("/v1/topics")
        topics.get { _, _ in try JSONBody.response(V1.TopicList(topics: Self.summaries(host))) }
        topics.post { request, context in
            let body = try await request.decode(as: V1.CreateTopic.self, context: context)
            try await host.topics.create(body.name)
            return try JSONBody.response(V1.TopicName(topic: body.name), status: .created)
        }
        topics.post(":name/replays") { request, context in
            let topic = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.StartReplay.self, context: context)
            return try JSONBody.response(try await host.startReplay(body, of: topic), status: .created)
        }
        router.get("/v1/replays") { _, _ in try JSONBody.response(V1.Replays(replays: try await host.allReplays())) }
        router.post("/v1/replays/:id/cancel") { _, context in
            let id = try context.parameters.decoded("id")
            guard let replay = try await host.cancelReplay(id) else {
                throw APIError(.notFound, code: "ReplayNotFound", message: "no replay with id '\(id.prefix(100))'")
            }
            return try JSONBody.response(replay)
        }
        topics.post(":name/subscriptions") { request, context in
            let topic = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.Subscribe.self, context: context)
            var subscription = Subscription(id: RequestID.make(), topic: topic, endpoint: try endpoint(body))
            subscription.raw = body.raw ?? false
            if let dlq = body.deadLetterQueue {
                guard host.queues.config(dlq) != nil else {
                    throw APIError(.notFound, code: "QueueDoesNotExist", message: "no queue named '\(dlq.prefix(100))'")
                }
                subscription.deadLetterQueue = dlq
            }
            let scope: FilterPolicy.Scope
            switch body.filterScope {
            case nil, "attributes", "MessageAttributes": scope = .messageAttributes
            case "body", "MessageBody": scope = .messageBody
            default:
                throw APIError.invalid("'filterScope' must be body (MessageBody) or attributes (MessageAttributes)")
            }
            if let filter = body.filter {
                guard case .object = filter else { throw APIError.invalid("'filter' must be a filter policy object") }
                do {
                    try subscription.setFilter(json: filter.jsonText, scope: scope)
                } catch {
                    throw APIError.invalid(
                        "invalid filter policy: \((error as? FilterPolicy.InvalidPolicy)?.message ?? "\(error)")")
                }
            } else {
                subscription.filterScope = scope
            }
            try await host.topics.subscribe(subscription)
            return try JSONBody.response(V1.SubscriptionCreated(subscriptionId: subscription.id), status: .created)
        }
        topics.post(":name/publish") { request, context in
            let topic = try context.parameters.decoded("name")
            let body = try await request.decode(as: V1.Publish.self, context: context)
            let published = try await host.topics.publish(
                to: topic, message: body.message, subject: body.subject,
                attributes: try QueuesController.attributes(body.attributes), groupId: body.group,
                deduplicationId: body.deduplicationId)
            return try JSONBody.response(
                V1.MessageId(messageId: published.messageId, sequenceNumber: published.sequenceNumber),
                status: .created)
        }
    }

    /// The one endpoint a subscription names: `function`, `queue` or `http` (an http(s) URL with a host).
    private func endpoint(_ body: V1.Subscribe) throws -> Subscription.Endpoint {
        let named = [
            body.function.map { ("function", $0) }, body.queue.map { ("queue", $0) }, body.http.map { ("http", $0) },
        ]
        .compactMap { $0 }
        guard named.count == 1, let (kind, target) = named.first, !target.isEmpty else {
            throw APIError.invalid(
                "exactly one of 'function', 'queue' or 'http' (a name or an http:// URL) is required")
        }
        switch kind {
        case "function":
            guard host.dispatcher.function(named: target) != nil else { throw APIError.notFound(function: target) }
            return .function(target)
        case "queue":
            return .queue(target)
        default:
            if let problem = Subscription.Endpoint.problem(withHTTPURL: target) {
                throw APIError.invalid("'http': \(problem)")
            }
            return .http(target)
        }
    }

    /// Every topic and its subscriptions.
    static func summaries(_ host: StratusHost) -> [V1.TopicSummary] {
        host.topics.all().sorted { $0.key < $1.key }.map {
            V1.TopicSummary(name: $0.key, subscriptions: $0.value.map(V1.SubscriptionSummary.init))
        }
    }
}
