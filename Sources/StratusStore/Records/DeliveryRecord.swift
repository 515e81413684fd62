import GRDB
import StratusCore

/// A row of `delivery`: an async invoke (`event_id`) or a topic delivery (`subscription_id`, `topic`).
package struct DeliveryRecord: FetchableRecord, PersistableRecord, Sendable {
    package static let databaseTableName = "delivery"

    package enum Columns {
        static let id = Column("id")
        static let subscriptionId = Column("subscription_id")
        static let topic = Column("topic")
        static let eventId = Column("event_id")
        static let messageId = Column("message_id")
        static let raw = Column("raw")
        static let targetKind = Column("target_kind")
        static let target = Column("target")
        static let payload = Column("payload")
        static let attempts = Column("attempts")
        static let nextAttemptAt = Column("next_attempt_at")
        static let createdAt = Column("created_at")
        static let deadLetterQueue = Column("dead_letter_queue")
    }

    package var id: Int64?
    package var subscriptionId: String
    package var topic: String?
    package var eventId: String?
    package var targetKind: String
    package var target: String
    package var payload: String
    package var attempts: Int
    package var nextAttemptAt: Int64
    package var createdAt: Int64
    package var deadLetterQueue: String?
    package var messageId: String?
    package var raw = false

    package init(_ delivery: PendingDelivery) {
        id = nil
        switch delivery.source {
        case .asyncInvoke(let eventId):
            subscriptionId = ""
            self.eventId = eventId
        case .subscription(let subscription, let topic):
            subscriptionId = subscription
            self.topic = topic
        }
        switch delivery.target {
        case .function(let name): (targetKind, target) = ("function", name)
        case .http(let url): (targetKind, target) = ("http", url)
        }
        payload = delivery.payload
        attempts = delivery.attempts
        nextAttemptAt = delivery.nextAttemptAtMs
        createdAt = delivery.createdAtMs
        deadLetterQueue = delivery.deadLetterQueue
        messageId = delivery.messageId
        raw = delivery.raw
    }

    package init(
        id: Int64, subscriptionId: String, topic: String?, eventId: String?, targetKind: String, target: String,
        payload: String, attempts: Int, nextAttemptAt: Int64, createdAt: Int64, deadLetterQueue: String?,
        messageId: String?, raw: Bool
    ) {
        self.id = id
        self.subscriptionId = subscriptionId
        self.topic = topic
        self.eventId = eventId
        self.targetKind = targetKind
        self.target = target
        self.payload = payload
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.createdAt = createdAt
        self.deadLetterQueue = deadLetterQueue
        self.messageId = messageId
        self.raw = raw
    }

    package init(row: Row) {
        id = row[Columns.id]
        subscriptionId = row[Columns.subscriptionId]
        topic = row[Columns.topic]
        eventId = row[Columns.eventId]
        targetKind = row[Columns.targetKind]
        target = row[Columns.target]
        payload = row[Columns.payload]
        attempts = row[Columns.attempts]
        nextAttemptAt = row[Columns.nextAttemptAt]
        createdAt = row[Columns.createdAt]
        deadLetterQueue = row[Columns.deadLetterQueue]
        messageId = row[Columns.messageId]
        raw = row[Columns.raw]
    }

    package func encode(to container: inout PersistenceContainer) {
        container[Columns.id] = id
        container[Columns.subscriptionId] = subscriptionId
        container[Columns.topic] = topic
        container[Columns.eventId] = eventId
        container[Columns.targetKind] = targetKind
        container[Columns.target] = target
        container[Columns.payload] = payload
        container[Columns.attempts] = attempts
        container[Columns.nextAttemptAt] = nextAttemptAt
        container[Columns.createdAt] = createdAt
        container[Columns.deadLetterQueue] = deadLetterQueue
        container[Columns.messageId] = messageId
        container[Columns.raw] = raw
    }

    package func delivery() throws -> PendingDelivery {
        let target: PendingDelivery.Target
        switch targetKind {
        case "function": target = .function(self.target)
        case "http": target = .http(self.target)
        default:
            throw StoreError(
                code: .invalidRecord, message: "Delivery \(id ?? 0) has an unknown target kind '\(targetKind)'.")
        }
        let source: PendingDelivery.Source =
            if let eventId { .asyncInvoke(eventId: eventId) } else {
                .subscription(id: subscriptionId, topic: topic ?? "")
            }
        var delivery = PendingDelivery(
            id: id ?? 0, source: source, target: target, payload: payload, attempts: attempts,
            nextAttemptAtMs: nextAttemptAt,
            createdAtMs: createdAt, deadLetterQueue: deadLetterQueue)
        delivery.messageId = messageId
        delivery.raw = raw
        return delivery
    }
}
