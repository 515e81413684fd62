import Foundation
import GRDB
import StratusCore

// MARK: - Schema

extension SQLiteStore {
    /// Registers the topic, subscription and delivery tables (called from `registerQueueMigrations`).
    static func registerTopicMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-topics") { db in
            try db.execute(
                sql: """
                    CREATE TABLE topic (
                        name TEXT PRIMARY KEY NOT NULL
                    );
                    CREATE TABLE subscription (
                        id TEXT PRIMARY KEY NOT NULL,
                        topic TEXT NOT NULL,
                        endpoint_kind TEXT NOT NULL,
                        endpoint TEXT NOT NULL,
                        filter_policy TEXT,
                        filter_scope TEXT NOT NULL,
                        raw INTEGER NOT NULL,
                        dead_letter_queue TEXT
                    );
                    CREATE INDEX subscription_topic ON subscription(topic);
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        subscription_id TEXT NOT NULL,
                        target_kind TEXT NOT NULL,
                        target TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        dead_letter_queue TEXT
                    );
                    CREATE INDEX delivery_due ON delivery(next_attempt_at, id);
                    """)
        }
    }
}

// MARK: - Topics and subscriptions

extension SQLiteStore {
    public func putTopic(_ name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO topic (name) VALUES (?) ON CONFLICT(name) DO NOTHING", arguments: [name])
        }
    }

    public func topics() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM topic ORDER BY name")
        }
    }

    /// Creates or replaces the subscription; throws `TopicDoesNotExist` when its topic was never put.
    public func putSubscription(_ subscription: Subscription) async throws {
        let (kind, endpoint) = subscription.endpoint.kindAndTarget
        try await pool.write { db in
            guard try Self.topicExists(subscription.topic, db) else {
                throw StoreError.topicDoesNotExist(subscription.topic)
            }
            try db.execute(
                sql: """
                    INSERT INTO subscription (id, topic, endpoint_kind, endpoint, filter_policy, filter_scope, raw,
                        dead_letter_queue)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET topic = excluded.topic, endpoint_kind = excluded.endpoint_kind,
                        endpoint = excluded.endpoint, filter_policy = excluded.filter_policy,
                        filter_scope = excluded.filter_scope, raw = excluded.raw,
                        dead_letter_queue = excluded.dead_letter_queue
                    """,
                arguments: [
                    subscription.id, subscription.topic, kind, endpoint, subscription.filterPolicy,
                    subscription.filterScope.rawValue, subscription.raw, subscription.deadLetterQueue,
                ])
        }
    }

    /// The topic's subscriptions in the order they were first put; throws `TopicDoesNotExist` for an unknown topic.
    public func subscriptions(of topic: String) async throws -> [Subscription] {
        let rows = try await pool.read { db -> [SubscriptionRow] in
            guard try Self.topicExists(topic, db) else { throw StoreError.topicDoesNotExist(topic) }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT id, endpoint_kind, endpoint, filter_policy, filter_scope, raw, dead_letter_queue
                    FROM subscription WHERE topic = ? ORDER BY rowid
                    """, arguments: [topic]
            ).map { row in
                SubscriptionRow(
                    id: row[0], kind: row[1], endpoint: row[2], filterPolicy: row[3], filterScope: row[4], raw: row[5],
                    deadLetterQueue: row[6])
            }
        }
        return try rows.map { try $0.subscription(of: topic) }
    }

    static func topicExists(_ topic: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM topic WHERE name = ?"), arguments: [topic]) ?? false
    }

}

/// A subscription row read in the database, rebuilt (parsing its filter policy) outside it.
struct SubscriptionRow: Sendable {
    var id: String
    var kind: String
    var endpoint: String
    var filterPolicy: String?
    var filterScope: String
    var raw: Bool
    var deadLetterQueue: String?

    func subscription(of topic: String) throws -> Subscription {
        let endpoint: Subscription.Endpoint
        switch kind {
        case "function": endpoint = .function(self.endpoint)
        case "queue": endpoint = .queue(self.endpoint)
        case "http": endpoint = .http(self.endpoint)
        default:
            throw StoreError(
                code: .invalidRecord, message: "Subscription '\(id)' has an unknown endpoint kind '\(kind)'.")
        }
        var subscription = Subscription(id: id, topic: topic, endpoint: endpoint)
        subscription.raw = raw
        subscription.deadLetterQueue = deadLetterQueue
        let scope = FilterPolicy.Scope(rawValue: filterScope) ?? .messageAttributes
        if let filterPolicy {
            do {
                try subscription.setFilter(json: filterPolicy, scope: scope)
            } catch {
                throw StoreError(
                    code: .invalidRecord,
                    message: "Subscription '\(id)' has a filter policy that no longer parses: \(error)",
                    underlying: error)
            }
        } else {
            subscription.filterScope = scope
        }
        return subscription
    }
}

// MARK: - Fan-out and deliveries

extension SQLiteStore {
    /// Commits every queue message and delivery of a publish in one transaction; nothing commits when a
    /// named queue does not exist (`QueueDoesNotExist`).
    public func commit(_ fanOut: [FanOut], nowMs: Int64) async throws {
        guard !fanOut.isEmpty else { return }
        enum Entry: Sendable {
            case queue(String, SQLiteStore.EncodedMessage)
            case delivery(PendingDelivery)
        }
        let entries: [Entry] = try fanOut.map { item in
            switch item {
            case .queue(let name, let message): .queue(name, try Self.encode([message])[0])
            case .delivery(let delivery): .delivery(delivery)
            }
        }
        try await pool.write { db in
            for entry in entries {
                switch entry {
                case .queue(let name, let message): _ = try Self.insert([message], into: name, nowMs: nowMs, db)
                case .delivery(let delivery): try Self.insert(delivery, db)
                }
            }
        }
    }

    public func dueDeliveries(nowMs: Int64, limit: Int, excluding: DeliveryExclusion) async throws -> [PendingDelivery] {
        guard limit > 0 else { return [] }
        let (clause, arguments) = Self.exclusionClause(excluding)
        let rows = try await pool.read { db -> [DeliveryRow] in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, subscription_id, target_kind, target, payload, attempts, next_attempt_at, created_at,
                        dead_letter_queue
                    FROM delivery WHERE next_attempt_at <= ?\(clause) ORDER BY next_attempt_at, id LIMIT ?
                    """, arguments: StatementArguments([nowMs.databaseValue] + arguments + [limit.databaseValue])
            ).map(DeliveryRow.init(row:))
        }
        return try rows.map { try $0.delivery() }
    }

    public func nextDeliveryAtMs(excluding: DeliveryExclusion) async throws -> Int64? {
        let (clause, arguments) = Self.exclusionClause(excluding)
        return try await pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(next_attempt_at) FROM delivery WHERE 1\(clause)",
                arguments: StatementArguments(arguments))
        }
    }

    /// ` AND id NOT IN (…) AND target NOT IN (…)` and its arguments.
    private static func exclusionClause(_ excluding: DeliveryExclusion) -> (String, [DatabaseValue]) {
        var clause = ""
        var arguments: [DatabaseValue] = []
        if !excluding.ids.isEmpty {
            clause += " AND id NOT IN (" + Array(repeating: "?", count: excluding.ids.count).joined(separator: ",") + ")"
            arguments += excluding.ids.sorted().map(\.databaseValue)
        }
        if !excluding.targets.isEmpty {
            clause += " AND target NOT IN (" + Array(repeating: "?", count: excluding.targets.count).joined(separator: ",") + ")"
            arguments += excluding.targets.sorted().map(\.databaseValue)
        }
        return (clause, arguments)
    }

    public func finishDelivery(_ id: Int64) async throws {
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM delivery WHERE id = ?").execute(arguments: [id])
        }
    }

    public func rescheduleDelivery(_ id: Int64, attempts: Int, nextAttemptAtMs: Int64) async throws {
        try await pool.write { db in
            try db.cachedStatement(sql: "UPDATE delivery SET attempts = ?, next_attempt_at = ? WHERE id = ?")
                .execute(arguments: [attempts, nextAttemptAtMs, id])
        }
    }

    /// Deletes the delivery and sends `message` to `queue` in one transaction. A delivery that is already gone
    /// (finished or dead-lettered before) sends nothing, so a repeated call does not duplicate the message.
    public func deadLetterDelivery(_ id: Int64, into queue: String, message: OutgoingMessage, nowMs: Int64) async throws
    {
        let encoded = try Self.encode([message])
        try await pool.write { db in
            try db.cachedStatement(sql: "DELETE FROM delivery WHERE id = ?").execute(arguments: [id])
            guard db.changesCount > 0 else { return }
            _ = try Self.insert(encoded, into: queue, nowMs: nowMs, db)
        }
    }

    static func insert(_ delivery: PendingDelivery, _ db: Database) throws {
        let (kind, target): (String, String) =
            switch delivery.target {
            case .function(let name): ("function", name)
            case .http(let url): ("http", url)
            }
        try db.cachedStatement(
            sql: """
                INSERT INTO delivery (subscription_id, target_kind, target, payload, attempts, next_attempt_at,
                    created_at, dead_letter_queue)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            delivery.subscriptionId, kind, target, delivery.payload, delivery.attempts, delivery.nextAttemptAtMs,
            delivery.createdAtMs, delivery.deadLetterQueue,
        ])
    }
}

/// A delivery row read in the database, turned into a `PendingDelivery` outside it.
struct DeliveryRow: Sendable {
    var id: Int64
    var subscriptionId: String
    var kind: String
    var target: String
    var payload: String
    var attempts: Int
    var nextAttemptAtMs: Int64
    var createdAtMs: Int64
    var deadLetterQueue: String?

    init(row: Row) {
        id = row[0]
        subscriptionId = row[1]
        kind = row[2]
        target = row[3]
        payload = row[4]
        attempts = row[5]
        nextAttemptAtMs = row[6]
        createdAtMs = row[7]
        deadLetterQueue = row[8]
    }

    func delivery() throws -> PendingDelivery {
        let target: PendingDelivery.Target
        switch kind {
        case "function": target = .function(self.target)
        case "http": target = .http(self.target)
        default:
            throw StoreError(code: .invalidRecord, message: "Delivery \(id) has an unknown target kind '\(kind)'.")
        }
        return PendingDelivery(
            id: id, subscriptionId: subscriptionId, target: target, payload: payload, attempts: attempts,
            nextAttemptAtMs: nextAttemptAtMs, createdAtMs: createdAtMs, deadLetterQueue: deadLetterQueue)
    }
}
