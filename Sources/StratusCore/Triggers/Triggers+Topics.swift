import Foundation

extension Triggers {
    mutating func parseTopic(_ name: String, _ item: YAMLValue, functions: Set<String>) throws(ManifestError)
        -> [Subscription]
    {
        if item.isNull { return [] }
        var subscriptions: [Subscription] = []
        for (key, list) in try item.mapping() where !list.isNull {
            if key == "archive" {
                archives[name] = try list.duration(in: Limits.archiveRetention).milliseconds
                continue
            }
            for (index, entry) in try list.sequence().enumerated() {
                subscriptions.append(
                    try parseSubscription(
                        entry, id: Subscription.declaredId(topic: name, index: index), topic: name,
                        functions: functions))
            }
        }
        return subscriptions
    }

    private mutating func parseSubscription(
        _ entry: YAMLValue, id: String, topic: String, functions: Set<String>
    ) throws(ManifestError) -> Subscription {
        let fields = Dictionary(try entry.mapping(), uniquingKeysWith: { a, _ in a })
        var subscription = Subscription(
            id: id, topic: topic, endpoint: try endpoint(entry, fields, functions: functions))
        if let raw = fields["raw"] { subscription.raw = try raw.bool() }
        if let groupFrom = fields["groupFrom"] {
            guard case .queue(let queue) = subscription.endpoint, queue.hasSuffix(".fifo") else {
                throw groupFrom.error("groupFrom is for subscriptions of FIFO queues (a name ending in .fifo)")
            }
            subscription.groupFrom = try groupFrom.string()
        }
        if let dlq = fields["deadLetterQueue"] {
            let queue = try dlq.string()
            references.append((queue, dlq.error("unknown queue '\(queue)'; declare it under queues:")))
            subscription.deadLetterQueue = queue
        }
        var scope = FilterPolicy.Scope.messageAttributes
        if let scopeValue = fields["filterScope"], ["body", "MessageBody"].contains(try scopeValue.string()) {
            scope = .messageBody
        }
        if let filter = fields["filter"] {
            let policy = try filter.jsonValue()
            do {
                try subscription.setFilter(json: policy.jsonText, scope: scope)
            } catch {
                throw filter.error("invalid filter policy: \(error.message)")
            }
        }
        return subscription
    }

    /// The one of `function:`, `queue:` or `http:` a subscription names (the schema has checked there is one).
    private mutating func endpoint(
        _ entry: YAMLValue, _ fields: [String: YAMLValue], functions: Set<String>
    ) throws(ManifestError) -> Subscription.Endpoint {
        let endpoints = ["function", "queue", "http"].compactMap { key in fields[key].map { (key, $0) } }
        guard endpoints.count == 1, let (kind, target) = endpoints.first else {
            throw entry.error("expected exactly one of function:, queue: or http:")
        }
        let targetName = try target.string()
        switch kind {
        case "function":
            guard functions.contains(targetName) else {
                throw target.error(
                    "unknown function '\(targetName)'; expected one of: \(functions.sorted().joined(separator: ", "))")
            }
            return .function(targetName)
        case "queue":
            references.append((targetName, target.error("unknown queue '\(targetName)'; declare it under queues:")))
            return .queue(targetName)
        default:
            if let problem = Subscription.Endpoint.problem(withHTTPURL: targetName) { throw target.error(problem) }
            return .http(targetName)
        }
    }
}
