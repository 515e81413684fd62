import Foundation

/// The triggers declared across `triggers/*.yaml`.
public struct Triggers: Sendable, Equatable {
    public var routes: [HTTPRoute] = []
    /// Queues by name, in declaration order.
    public var queues: [QueueConfig] = []
    /// Topics by name with their subscriptions.
    public var topics: [String: [Subscription]] = [:]
    /// Where each queue and topic was declared, for errors.
    private var declared: [String: String] = [:]
    /// Queue names referenced by subscriptions and dead-letter settings, checked once every file is merged.
    private var references: [(queue: String, error: ManifestError)] = []

    public static func == (lhs: Triggers, rhs: Triggers) -> Bool {
        lhs.routes == rhs.routes && lhs.queues == rhs.queues && lhs.topics == rhs.topics
    }

    public init() {}

    /// Parses one trigger file and merges it in; `environment` resolves `env:NAME` API keys.
    ///
    /// - Parameters:
    ///   - functions: every function a trigger may name, including those whose directory failed to load
    ///     (their triggers load and wait for them).
    ///   - timeouts: the timeout of each loaded function, to check queue visibility timeouts against.
    public mutating func merge(
        yaml: String, file: String, functions: Set<String>, timeouts: [String: Duration] = [:],
        environment: [String: String]
    ) throws(ManifestError) {
        let root = try YAMLValue.parse(yaml, file: file)
        for (key, value) in try root.mapping(allowed: ["http", "topics", "queues"]) {
            switch key {
            case "http":
                if value.isNull { continue }
                for item in try value.sequence() {
                    let route = try Self.parseRoute(item, functions: functions, environment: environment)
                    if let other = routes.first(where: { $0.shape == route.shape }) {
                        throw item.error(
                            "route '\(route.routeKey)' collides with '\(other.routeKey)' at \(other.file):\(other.line ?? 0)")
                    }
                    routes.append(route)
                }
            case "queues":
                if value.isNull { continue }
                for (name, item) in try value.mapping() {
                    try declare("queue", name, item)
                    guard queues.count < Limits.queues else { throw item.error("more than \(Limits.queues) queues") }
                    queues.append(try parseQueue(name, item, functions: functions, timeouts: timeouts))
                }
            default:
                if value.isNull { continue }
                for (name, item) in try value.mapping() {
                    try declare("topic", name, item)
                    guard topics.count < Limits.topics else { throw item.error("more than \(Limits.topics) topics") }
                    topics[name] = try parseTopic(name, item, functions: functions)
                }
            }
        }
    }

    /// Checks references between files (subscriptions and dead-letter queues naming queues) once all are merged.
    public func validateReferences() throws(ManifestError) {
        let names = Set(queues.map(\.name))
        for reference in references where !names.contains(reference.queue) {
            throw reference.error
        }
    }

    private mutating func declare(_ kind: String, _ name: String, _ item: YAMLValue) throws(ManifestError) {
        guard QueueConfig.isValidName(name) else {
            throw item.error("invalid \(kind) name '\(name)'; expected 1-80 letters, digits, '-' or '_'")
        }
        let key = "\(kind):\(name)"
        if let other = declared[key] { throw item.error("\(kind) '\(name)' is defined twice: here and at \(other)") }
        declared[key] = "\(item.file):\(item.line ?? 0)"
    }

    private mutating func parseQueue(
        _ name: String, _ item: YAMLValue, functions: Set<String>, timeouts: [String: Duration]
    ) throws(ManifestError) -> QueueConfig {
        var queue = QueueConfig(name: name)
        var consumerLine: YAMLValue?
        if item.isNull { return queue }
        let keys: Set<String> = ["visibilityTimeout", "maxReceiveCount", "deadLetterQueue", "retention", "delay", "consumer"]
        for (key, value) in try item.mapping(allowed: keys) {
            switch key {
            case "visibilityTimeout": queue.visibilityTimeoutMs = try value.duration(in: Limits.visibilityTimeout).milliseconds
            case "maxReceiveCount": queue.maxReceiveCount = try value.int(in: Limits.maxReceiveCount)
            case "deadLetterQueue":
                let target = try value.string()
                queue.deadLetterQueue = target
                references.append((target, value.error("unknown queue '\(target)'; declare it under queues:")))
            case "retention": queue.retentionMs = try value.duration(in: Limits.retention).milliseconds
            case "delay": queue.delayMs = try value.duration(in: Limits.messageDelay).milliseconds
            default:
                var consumer: QueueConfig.Consumer?
                for (field, entry) in try value.mapping(allowed: ["function", "batchSize", "batchWindow", "maxConcurrency"]) {
                    switch field {
                    case "function":
                        let function = try entry.string()
                        guard functions.contains(function) else {
                            throw entry.error("unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))")
                        }
                        consumer = consumer ?? QueueConfig.Consumer(function: function)
                        consumer?.function = function
                    case "batchSize":
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.batchSize = try entry.int(in: Limits.batchSize)
                    case "batchWindow":
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.batchWindowMs = try entry.duration(in: Limits.batchWindow).milliseconds
                    default:
                        consumer = consumer ?? QueueConfig.Consumer(function: "")
                        consumer?.maxConcurrency = try entry.int(in: Limits.consumerConcurrency)
                    }
                }
                guard let consumer, !consumer.function.isEmpty else { throw value.error("missing 'function'") }
                if consumer.batchSize > 10 && consumer.batchWindowMs < 1000 {
                    throw value.error(
                        "batchSize \(consumer.batchSize) needs a batchWindow of at least 1s (as Lambda requires above 10)")
                }
                consumerLine = value
                queue.consumer = consumer
            }
        }
        if queue.deadLetterQueue != nil && queue.maxReceiveCount == nil { queue.maxReceiveCount = 5 }
        if queue.deadLetterQueue == name { throw item.error("queue '\(name)' cannot be its own deadLetterQueue") }
        // Lambda refuses an event source mapping whose queue would show a message again while the function
        // may still be running it: the message would run twice.
        if let consumer = queue.consumer, let timeout = timeouts[consumer.function],
            queue.visibilityTimeoutMs < timeout.milliseconds
        {
            throw (consumerLine ?? item).error(
                "queue '\(name)' has a visibilityTimeout of \(DurationParser.format(.milliseconds(queue.visibilityTimeoutMs))), "
                    + "shorter than the timeout of its consumer '\(consumer.function)' "
                    + "(\(DurationParser.format(timeout))); a message would run twice. Set visibilityTimeout to at least "
                    + "the function's timeout (AWS recommends 6 times it)")
        }
        return queue
    }

    private mutating func parseTopic(_ name: String, _ item: YAMLValue, functions: Set<String>) throws(ManifestError) -> [Subscription] {
        if item.isNull { return [] }
        var subscriptions: [Subscription] = []
        for (_, list) in try item.mapping(allowed: ["subscriptions"]) where !list.isNull {
            for (index, entry) in try list.sequence().enumerated() {
                guard index < Limits.subscriptionsPerTopic else {
                    throw entry.error("more than \(Limits.subscriptionsPerTopic) subscriptions on topic '\(name)'")
                }
                let fields = Dictionary(
                    try entry.mapping(allowed: ["function", "queue", "http", "filter", "filterScope", "raw", "deadLetterQueue"]),
                    uniquingKeysWith: { a, _ in a })
                let endpoints = ["function", "queue", "http"].compactMap { key in fields[key].map { (key, $0) } }
                guard endpoints.count == 1, let (kind, target) = endpoints.first else {
                    throw entry.error("expected exactly one of function:, queue: or http:")
                }
                let targetName = try target.string()
                let endpoint: Subscription.Endpoint
                switch kind {
                case "function":
                    guard functions.contains(targetName) else {
                        throw target.error("unknown function '\(targetName)'; expected one of: \(functions.sorted().joined(separator: ", "))")
                    }
                    endpoint = .function(targetName)
                case "queue":
                    references.append((targetName, target.error("unknown queue '\(targetName)'; declare it under queues:")))
                    endpoint = .queue(targetName)
                default:
                    guard let url = URL(string: targetName), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                        throw target.error("expected an http:// or https:// URL (got '\(targetName)')")
                    }
                    endpoint = .http(targetName)
                }
                var subscription = Subscription(id: "\(name):\(index)", topic: name, endpoint: endpoint)
                if let raw = fields["raw"] { subscription.raw = try raw.bool() }
                if let dlq = fields["deadLetterQueue"] {
                    let queue = try dlq.string()
                    references.append((queue, dlq.error("unknown queue '\(queue)'; declare it under queues:")))
                    subscription.deadLetterQueue = queue
                }
                var scope = FilterPolicy.Scope.messageAttributes
                if let scopeValue = fields["filterScope"] {
                    switch try scopeValue.string() {
                    case "body", "MessageBody": scope = .messageBody
                    case "attributes", "MessageAttributes": scope = .messageAttributes
                    case let other: throw scopeValue.error("expected body or attributes (got '\(other)')")
                    }
                }
                if let filter = fields["filter"] {
                    guard case .mapping = filter.node else { throw filter.error("expected a filter policy mapping") }
                    let policy = try filter.jsonValue()
                    do {
                        try subscription.setFilter(json: policy.jsonText, scope: scope)
                    } catch {
                        throw filter.error("invalid filter policy: \(error.message)")
                    }
                }
                subscriptions.append(subscription)
            }
        }
        return subscriptions
    }

    private static let methods: Set<String> = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    private static func parseRoute(
        _ item: YAMLValue, functions: Set<String>, environment: [String: String]
    ) throws(ManifestError) -> HTTPRoute {
        let entries = Dictionary(try item.mapping(allowed: ["route", "function", "cors", "auth"]), uniquingKeysWith: { a, _ in a })
        guard let routeValue = entries["route"] else { throw item.error("missing 'route'; expected e.g. route: GET /hello/{name}") }
        guard let functionValue = entries["function"] else { throw item.error("missing 'function'") }
        let text = try routeValue.string()
        let method: String
        let path: String
        if text == "$default" {
            (method, path) = ("ANY", "$default")
        } else {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2, methods.contains(parts[0].uppercased()), parts[1].hasPrefix("/") else {
                throw routeValue.error("expected 'METHOD /path' (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY) or $default (got '\(text)')")
            }
            (method, path) = (parts[0].uppercased(), String(parts[1]))
            let segments = path.split(separator: "/")
            for (index, segment) in segments.enumerated() where segment.hasPrefix("{") || segment.hasSuffix("}") {
                let valid = segment.hasPrefix("{") && segment.hasSuffix("}") && segment.count > 2
                let greedyNotLast = segment.hasSuffix("+}") && index != segments.count - 1
                if !valid || greedyNotLast {
                    throw routeValue.error("invalid path parameter '\(segment)': use {name}, or {name+} as the last segment")
                }
            }
        }
        let function = try functionValue.string()
        guard functions.contains(function) else {
            throw functionValue.error("unknown function '\(function)'; expected one of: \(functions.sorted().joined(separator: ", "))")
        }
        var route = HTTPRoute(method: method, path: path, function: function, file: item.file, line: item.line)
        if let cors = entries["cors"] { route.cors = try parseCORS(cors) }
        if let auth = entries["auth"] {
            for (_, keys) in try auth.mapping(allowed: ["apiKeys"]) {
                route.apiKeys = try keys.sequence().map { key throws(ManifestError) -> String in
                    let text = try key.string()
                    guard text.hasPrefix("env:") else { return text }
                    guard let value = environment[String(text.dropFirst(4))], !value.isEmpty else {
                        throw key.error("environment variable \(text.dropFirst(4)) is not set")
                    }
                    return value
                }
            }
        }
        return route
    }

    private static func parseCORS(_ value: YAMLValue) throws(ManifestError) -> HTTPRoute.CORS {
        var cors = HTTPRoute.CORS()
        let keys: Set<String> = ["allowOrigins", "allowMethods", "allowHeaders", "exposeHeaders", "maxAge", "allowCredentials"]
        for (key, item) in try value.mapping(allowed: keys) {
            switch key {
            case "maxAge": cors.maxAge = try item.int(in: 0...86_400)
            case "allowCredentials": cors.allowCredentials = try item.bool()
            default:
                let list = try item.sequence().map { entry throws(ManifestError) in try entry.string() }
                switch key {
                case "allowOrigins": cors.allowOrigins = list
                case "allowMethods": cors.allowMethods = list.map { $0.uppercased() }
                case "allowHeaders": cors.allowHeaders = list.map { $0.lowercased() }
                default: cors.exposeHeaders = list.map { $0.lowercased() }
                }
            }
        }
        return cors
    }
}
