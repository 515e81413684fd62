import GRDB
import StratusCore

/// A row of `delivery`: an async invoke (`event_id`) or a topic delivery (`subscription_id`, `topic`).
struct DeliveryRecord: FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "delivery"

    enum Columns {
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

    var id: Int64?
    var subscriptionId: String
    var topic: String?
    var eventId: String?
    var targetKind: String
    var target: String
    var payload: String
    var attempts: Int
    var nextAttemptAt: Int64
    var createdAt: Int64
    var deadLetterQueue: String?
    var messageId: String?
    var raw = false

    init(_ delivery: PendingDelivery) {
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

    init(row: Row) {
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

    func encode(to container: inout PersistenceContainer) {
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

    func delivery() throws -> PendingDelivery {
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
