import Foundation

/// The triggers declared across `triggers/*.yaml`.
package struct Triggers: Sendable, Equatable {
    package var routes: [HTTPRoute] = []
    /// Queues by name, in declaration order.
    package var queues: [QueueConfig] = []
    /// Topics by name with their subscriptions.
    package var topics: [String: [Subscription]] = [:]
    /// Schedules, in declaration order.
    package var schedules: [ScheduleConfig] = []
    /// How long each topic with `archive:` keeps its messages, in milliseconds, by topic.
    package var archives: [String: Int64] = [:]
    /// Where each queue and topic was declared (`file:line` by `queue:NAME` or `topic:NAME`), for errors.
    var declared: [String: String] = [:]

    /// Where the queue `name` is declared (`triggers/x.yaml:3`), or `nil` when no trigger file declares it.
    package func declaration(ofQueue name: String) -> String? { declared["queue:\(name)"] }

    /// Where the topic `name` is declared, or `nil` when no trigger file declares it.
    package func declaration(ofTopic name: String) -> String? { declared["topic:\(name)"] }
    /// Queue names referenced by subscriptions and dead-letter settings, checked once every file is merged.
    var references: [(queue: String, error: ManifestError)] = []

    package static func == (lhs: Triggers, rhs: Triggers) -> Bool {
        lhs.routes == rhs.routes && lhs.queues == rhs.queues && lhs.topics == rhs.topics
            && lhs.schedules == rhs.schedules && lhs.archives == rhs.archives
    }

    package init() {}

    /// The methods a route may name, `ANY` for all of them.
    package static let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"]

    /// Parses one trigger file and merges it in: checks it against `Schemas.triggers`, then reads it and checks
    /// what needs more than the file (functions that exist, routes that collide, names declared twice, queue
    /// timeouts against their consumer's). `environment` resolves `env:NAME` API keys.
    ///
    /// - Parameters:
    ///   - functions: every function a trigger may name, including those whose directory failed to load
    ///     (their triggers load and wait for them).
    ///   - timeouts: the timeout of each loaded function, to check queue visibility timeouts against.
    package mutating func merge(
        yaml: String, file: String, functions: Set<String>, timeouts: [String: Duration] = [:],
        environment: [String: String]
    ) throws(ManifestError) {
        let root = try YAMLValue.parse(yaml, file: file)
        try Schemas.triggers.validate(root)
        for (key, value) in try root.mapping() {
            switch key {
            case "http":
                if value.isNull { continue }
                for item in try value.sequence() {
                    let route = try Self.parseRoute(item, functions: functions, environment: environment)
                    if let other = routes.first(where: { $0.shape == route.shape }) {
                        throw item.error(
                            "route '\(route.routeKey)' collides with '\(other.routeKey)' at \(other.file):\(other.line ?? 0)"
                        )
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
            case "topics":
                if value.isNull { continue }
                for (name, item) in try value.mapping() {
                    try declare("topic", name, item)
                    guard topics.count < Limits.topics else { throw item.error("more than \(Limits.topics) topics") }
                    topics[name] = try parseTopic(name, item, functions: functions)
                }
            case "schedules":
                if value.isNull { continue }
                for (name, item) in try value.mapping() {
                    if let other = declared["schedule:\(name)"] {
                        throw item.error("schedule '\(name)' is defined twice: here and at \(other)")
                    }
                    declared["schedule:\(name)"] = "\(item.file):\(item.line ?? 0)"
                    guard schedules.count < Limits.schedules else {
                        throw item.error("more than \(Limits.schedules) schedules")
                    }
                    schedules.append(try parseSchedule(name, item, functions: functions))
                }
            default:
                break
            }
        }
    }

    /// Checks references between files (subscriptions and dead-letter queues naming queues) once all are merged.
    package func validateReferences() throws(ManifestError) {
        let names = Set(queues.map(\.name))
        for reference in references where !names.contains(reference.queue) {
            throw reference.error
        }
    }

    /// Records where a queue or topic (whose name the schema has checked) is declared; one name, one place.
    private mutating func declare(_ kind: String, _ name: String, _ item: YAMLValue) throws(ManifestError) {
        let key = "\(kind):\(name)"
        if let other = declared[key] { throw item.error("\(kind) '\(name)' is defined twice: here and at \(other)") }
        declared[key] = "\(item.file):\(item.line ?? 0)"
    }
}
