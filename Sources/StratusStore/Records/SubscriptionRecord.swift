import GRDB
import StratusCore

/// A row of `subscription`: the endpoint as a kind and a target, the filter policy as its JSON text.
package struct SubscriptionRecord: FetchableRecord, PersistableRecord, Sendable {
    package static let databaseTableName = "subscription"

    package enum Columns {
        static let id = Column("id")
        static let topic = Column("topic")
        static let endpointKind = Column("endpoint_kind")
        static let endpoint = Column("endpoint")
        static let filterPolicy = Column("filter_policy")
        static let filterScope = Column("filter_scope")
        static let raw = Column("raw")
        static let deadLetterQueue = Column("dead_letter_queue")
        static let groupFrom = Column("group_from")
    }

    package var id: String
    package var topic: String
    package var endpointKind: String
    package var endpoint: String
    package var filterPolicy: String?
    package var filterScope: String
    package var raw: Bool
    package var deadLetterQueue: String?
    package var groupFrom: String?

    package init(_ subscription: Subscription) {
        let (kind, target) = subscription.endpoint.kindAndTarget
        id = subscription.id
        topic = subscription.topic
        endpointKind = kind
        endpoint = target
        filterPolicy = subscription.filterPolicy
        filterScope = subscription.filterScope.rawValue
        raw = subscription.raw
        deadLetterQueue = subscription.deadLetterQueue
        groupFrom = subscription.groupFrom
    }

    package init(
        id: String, topic: String, endpointKind: String, endpoint: String, filterPolicy: String?, filterScope: String,
        raw: Bool, deadLetterQueue: String?, groupFrom: String?
    ) {
        self.id = id
        self.topic = topic
        self.endpointKind = endpointKind
        self.endpoint = endpoint
        self.filterPolicy = filterPolicy
        self.filterScope = filterScope
        self.raw = raw
        self.deadLetterQueue = deadLetterQueue
        self.groupFrom = groupFrom
    }

    package init(row: Row) {
        id = row[Columns.id]
        topic = row[Columns.topic]
        endpointKind = row[Columns.endpointKind]
        endpoint = row[Columns.endpoint]
        filterPolicy = row[Columns.filterPolicy]
        filterScope = row[Columns.filterScope]
        raw = row[Columns.raw]
        deadLetterQueue = row[Columns.deadLetterQueue]
        groupFrom = row[Columns.groupFrom]
    }

    package func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.topic] = topic
        container[Columns.endpointKind] = endpointKind
        container[Columns.endpoint] = endpoint
        container[Columns.filterPolicy] = filterPolicy
        container[Columns.filterScope] = filterScope
        container[Columns.raw] = raw
        container[Columns.deadLetterQueue] = deadLetterQueue
        container[Columns.groupFrom] = groupFrom
    }

    /// The subscription, its filter policy parsed again (off the reader).
    package func subscription() throws -> Subscription {
        let endpoint: Subscription.Endpoint
        switch endpointKind {
        case "function": endpoint = .function(self.endpoint)
        case "queue": endpoint = .queue(self.endpoint)
        case "http": endpoint = .http(self.endpoint)
        default:
            throw StoreError(
                code: .invalidRecord, message: "Subscription '\(id)' has an unknown endpoint kind '\(endpointKind)'.")
        }
        var subscription = Subscription(id: id, topic: topic, endpoint: endpoint)
        subscription.raw = raw
        subscription.deadLetterQueue = deadLetterQueue
        subscription.groupFrom = groupFrom
        let scope = FilterPolicy.Scope(rawValue: filterScope) ?? .messageAttributes
        guard let filterPolicy else {
            subscription.filterScope = scope
            return subscription
        }
        do {
            try subscription.setFilter(json: filterPolicy, scope: scope)
        } catch {
            throw StoreError(
                code: .invalidRecord,
                message: "Subscription '\(id)' has a filter policy that no longer parses: \(error)",
                underlying: error)
        }
        return subscription
    }
}
