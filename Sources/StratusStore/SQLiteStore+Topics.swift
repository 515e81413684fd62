import Foundation
import GRDB
import StratusCore

// MARK: - Topics and subscriptions

extension SQLiteStore {
    package func putTopic(_ name: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO topic (name) VALUES (?) ON CONFLICT(name) DO NOTHING", arguments: [name])
        }
    }

    package func topics() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM topic ORDER BY name") }
    }

    /// Deletes a topic and its subscriptions; deliveries already committed stay. Returns whether it existed.
    @discardableResult
    package func deleteTopic(_ name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM subscription WHERE topic = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM fifo_dedup WHERE queue = ?", arguments: [FIFOPublish.key(of: name)])
            try db.execute(sql: "DELETE FROM topic WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    /// The settings clients set on each topic (`DisplayName`, …), by topic.
    package func topicAttributes() async throws -> [String: [String: String]] {
        let rows = try await pool.read { db -> [(String, String)] in
            try Row.fetchAll(db, sql: "SELECT name, attributes FROM topic WHERE attributes IS NOT NULL").map {
                ($0["name"], $0["attributes"])
            }
        }
        var all: [String: [String: String]] = [:]
        for (name, text) in rows {
            all[name] = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        }
        return all
    }

    /// Replaces the settings clients set on a topic; throws `TopicDoesNotExist` for an unknown topic.
    package func setTopicAttributes(_ name: String, _ attributes: [String: String]) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(attributes), as: UTF8.self)
        try await pool.write { db in
            try db.execute(sql: "UPDATE topic SET attributes = ? WHERE name = ?", arguments: [text, name])
            if db.changesCount == 0 { throw StoreError.topicDoesNotExist(name) }
        }
    }

    /// Deletes a subscription by id; returns whether it existed.
    @discardableResult
    package func deleteSubscription(_ id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM subscription WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    /// Creates or replaces the subscription; throws `TopicDoesNotExist` when its topic was never put.
    package func putSubscription(_ subscription: Subscription) async throws {
        let record = SubscriptionRecord(subscription)
        try await pool.write { db in
            guard try Self.topicExists(subscription.topic, db) else {
                throw StoreError.topicDoesNotExist(subscription.topic)
            }
            try record.save(db)
        }
    }

    /// The topic's subscriptions in the order they were first put; throws `TopicDoesNotExist` for an unknown topic.
    package func subscriptions(of topic: String) async throws -> [Subscription] {
        let records = try await pool.read { db -> [SubscriptionRecord] in
            guard try Self.topicExists(topic, db) else { throw StoreError.topicDoesNotExist(topic) }
            return try SubscriptionRecord.filter(SubscriptionRecord.Columns.topic == topic).order(Column.rowID)
                .fetchAll(db)
        }
        return try records.map { try $0.subscription() }
    }

    static func topicExists(_ topic: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM topic WHERE name = ?"), arguments: [topic]) ?? false
    }
}

// MARK: - Fan-out and deliveries

extension SQLiteStore {
    /// Commits every queue message and delivery of a publish in one transaction; nothing commits when a
    /// named queue does not exist (`QueueDoesNotExist`).
    package func commit(_ fanOut: [FanOut], nowMs: Int64) async throws {
        guard !fanOut.isEmpty else { return }
        let entries = try FanOutEntry.encode(fanOut)  // off the writer
        try await pool.write { db in try FanOutEntry.insert(entries, nowMs: nowMs, db) }
    }

    package func commitFIFOPublish(
        to topic: String, deduplicationId: String, messageId: String, nowMs: Int64,
        fanOut: @escaping @Sendable (Int64) throws -> [FanOut]
    ) async throws -> FIFOPublish {
        let key = FIFOPublish.key(of: topic)
        return try await pool.write { db in
            if let first = try Row.fetchOne(
                db,
                sql: "SELECT message_id, sequence FROM fifo_dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?",
                arguments: [key, deduplicationId, nowMs])
            {
                return .duplicate(messageId: first["message_id"], sequence: first["sequence"] ?? 0)
            }
            let sequence = try NewMessage.takeSequence(key, db)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO fifo_dedup (queue, dedup_id, message_id, expires_at, sequence)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key, deduplicationId, messageId, nowMs.saturatingAdd(QueueConfig.deduplicationIntervalMs), sequence,
                ])
            let committed = try fanOut(sequence)
            try FanOutEntry.insert(try FanOutEntry.encode(committed), nowMs: nowMs, db)
            return .committed(sequence: sequence, fanOut: committed)
        }
    }

    package func dueDeliveries(nowMs: Int64, limit: Int, excluding: DeliveryExclusion) async throws -> [PendingDelivery]
    {
        guard limit > 0 else { return [] }
        let request = Self.deliveries(excluding: excluding)
            .filter(DeliveryRecord.Columns.nextAttemptAt <= nowMs)
            .order(DeliveryRecord.Columns.nextAttemptAt, DeliveryRecord.Columns.id)
            .limit(limit)
        let records = try await pool.read { db in try request.fetchAll(db) }
        return try records.map { try $0.delivery() }
    }

    package func nextDeliveryAtMs(excluding: DeliveryExclusion) async throws -> Int64? {
        let request = Self.deliveries(excluding: excluding).select(
            min(DeliveryRecord.Columns.nextAttemptAt), as: Int64.self)
        return try await pool.read { db in try request.fetchOne(db) }
    }

    package func deliveryTargets() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT target FROM delivery")) }
    }

    package func dueDeliveries(
        for target: String, nowMs: Int64, limit: Int, excludingIds: Set<Int64>
    ) async throws -> (due: [PendingDelivery], nextAtMs: Int64?) {
        let ofTarget = Self.deliveries(excluding: DeliveryExclusion(ids: excludingIds)).filter(
            DeliveryRecord.Columns.target == target)
        let due = ofTarget.filter(DeliveryRecord.Columns.nextAttemptAt <= nowMs)
            .order(DeliveryRecord.Columns.nextAttemptAt, DeliveryRecord.Columns.id).limit(Swift.max(0, limit))
        let next = ofTarget.filter(DeliveryRecord.Columns.nextAttemptAt > nowMs)
            .select(min(DeliveryRecord.Columns.nextAttemptAt), as: Int64.self)
        let (records, nextAtMs) = try await pool.read { db in
            let records = limit > 0 ? try due.fetchAll(db) : []
            return (records, records.count < limit ? try next.fetchOne(db) : nil)
        }
        return (try records.map { try $0.delivery() }, nextAtMs)
    }

    private static func deliveries(excluding: DeliveryExclusion) -> QueryInterfaceRequest<DeliveryRecord> {
        var request = DeliveryRecord.all()
        if !excluding.ids.isEmpty { request = request.filter(!excluding.ids.contains(DeliveryRecord.Columns.id)) }
        if !excluding.targets.isEmpty {
            request = request.filter(!excluding.targets.contains(DeliveryRecord.Columns.target))
        }
        return request
    }

    package func finishDelivery(_ id: Int64) async throws {
        try await pool.write { db in _ = try DeliveryRecord.deleteOne(db, key: id) }
    }

    package func rescheduleDelivery(_ id: Int64, attempts: Int, nextAttemptAtMs: Int64) async throws {
        try await pool.write { db in
            try db.cachedStatement(sql: "UPDATE delivery SET attempts = ?, next_attempt_at = ? WHERE id = ?")
                .execute(arguments: [attempts, nextAttemptAtMs, id])
        }
    }

    /// Deletes the delivery and sends `message` to `queue` in one transaction. A delivery that is already gone
    /// (finished or dead-lettered before) sends nothing, so a repeated call does not duplicate the message.
    package func deadLetterDelivery(_ id: Int64, into queue: String, message: OutgoingMessage, nowMs: Int64)
        async throws
    {
        let encoded = try NewMessage.encode([message])
        try await pool.write { db in
            guard try DeliveryRecord.deleteOne(db, key: id) else { return }
            _ = try NewMessage.insert(encoded, into: queue, nowMs: nowMs, db)
        }
    }
}

// MARK: Schedules

extension SQLiteStore {
    package func scheduleStates() async throws -> [ScheduleState] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM schedule ORDER BY name").map { row in
                ScheduleState(
                    name: row["name"], fingerprint: row["fingerprint"], anchorMs: row["anchor_ms"],
                    nextMs: row["next_ms"], lastMs: row["last_ms"], lastEventId: row["last_event_id"])
            }
        }
    }

    package func putScheduleStates(_ states: [ScheduleState], keepingOnly names: Set<String>) async throws {
        try await pool.write { db in
            let stored = try String.fetchAll(db, sql: "SELECT name FROM schedule")
            for name in stored where !names.contains(name) {
                try db.execute(sql: "DELETE FROM schedule WHERE name = ?", arguments: [name])
            }
            for state in states { try Self.put(state, db) }
        }
    }

    fileprivate static func put(_ state: ScheduleState, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO schedule (name, fingerprint, anchor_ms, next_ms, last_ms, last_event_id)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET fingerprint = excluded.fingerprint, anchor_ms = excluded.anchor_ms,
                    next_ms = excluded.next_ms, last_ms = excluded.last_ms, last_event_id = excluded.last_event_id
                """,
            arguments: [
                state.name, state.fingerprint, state.anchorMs, state.nextMs, state.lastMs, state.lastEventId,
            ])
    }
}

// MARK: Archives and replays

extension SQLiteStore {
    package func archivedMessages(
        of topic: String, after seq: Int64, through lastSeq: Int64, fromMs: Int64, untilMs: Int64, limit: Int
    ) async throws -> [ArchivedMessage] {
        let decoder = JSONDecoder()
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM archive WHERE topic = ? AND seq > ? AND seq <= ? AND published_at >= ?
                        AND published_at < ? ORDER BY seq LIMIT ?
                    """, arguments: [topic, seq, lastSeq, fromMs, untilMs, limit]
            ).map { row in
                ArchivedMessage(
                    seq: row["seq"], topic: row["topic"], messageId: row["message_id"], message: row["message"],
                    subject: row["subject"],
                    attributes: try decoder.decode(
                        [String: MessageAttribute].self, from: Data((row["attributes"] as String).utf8)),
                    perProtocol: try decoder.decode(
                        [String: String].self, from: Data((row["per_protocol"] as String).utf8)),
                    publishedAtMs: row["published_at"])
            }
        }
    }

    package func archiveExtent(of topic: String, fromMs: Int64, untilMs: Int64) async throws -> (
        count: Int, lastSeq: Int64
    ) {
        try await pool.read { db in
            let count =
                try Int.fetchOne(
                    db,
                    sql: "SELECT count(*) FROM archive WHERE topic = ? AND published_at >= ? AND published_at < ?",
                    arguments: [topic, fromMs, untilMs]) ?? 0
            let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM archive") ?? 0
            return (count, last)
        }
    }

    package func pruneArchive(of topic: String, before ms: Int64) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM archive WHERE topic = ? AND published_at < ?", arguments: [topic, ms])
            return db.changesCount
        }
    }

    package func putReplay(_ job: ReplayJob) async throws {
        try await pool.write { db in try Self.put(job, db) }
    }

    package func replays() async throws -> [ReplayJob] {
        let decoder = JSONDecoder()
        return try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT job FROM replay").map {
                try decoder.decode(ReplayJob.self, from: Data($0.utf8))
            }.sorted { $0.createdAtMs < $1.createdAtMs }
        }
    }

    package func replay(id: String) async throws -> ReplayJob? {
        try await pool.read { db in try Self.replay(id, db) }
    }

    package func runningReplayIds() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM replay WHERE json_extract(job, '$.status') = 'running' ORDER BY rowid")
        }
    }

    fileprivate static func replay(_ id: String, _ db: Database) throws -> ReplayJob? {
        try String.fetchOne(db, sql: "SELECT job FROM replay WHERE id = ?", arguments: [id]).map {
            try JSONDecoder().decode(ReplayJob.self, from: Data($0.utf8))
        }
    }

    fileprivate static func put(_ job: ReplayJob, _ db: Database) throws {
        let text = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        try db.execute(
            sql: "INSERT INTO replay (id, job) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET job = excluded.job",
            arguments: [job.id, text])
    }
}

/// A fan-out item encoded for its insert.
private enum FanOutEntry: Sendable {
    case queue(String, NewMessage)
    case delivery(DeliveryRecord)
    case schedule(ScheduleState)
    case archive(ArchivedMessage, attributes: String, perProtocol: String)
    case replay(id: String, cursor: Int64, delivered: Int)

    static func encode(_ fanOut: [FanOut]) throws -> [FanOutEntry] {
        try fanOut.map { item in
            switch item {
            case .queue(let name, let message): .queue(name, try NewMessage.encode([message])[0])
            case .delivery(let delivery): .delivery(DeliveryRecord(delivery))
            case .schedule(let state): .schedule(state)
            case .archive(let message):
                .archive(
                    message, attributes: String(decoding: try JSONEncoder().encode(message.attributes), as: UTF8.self),
                    perProtocol: String(decoding: try JSONEncoder().encode(message.perProtocol), as: UTF8.self))
            case .replayProgress(let id, let cursor, let delivered):
                .replay(id: id, cursor: cursor, delivered: delivered)
            }
        }
    }

    static func insert(_ entries: [FanOutEntry], nowMs: Int64, _ db: Database) throws {
        for entry in entries {
            switch entry {
            case .queue(let name, let message): _ = try NewMessage.insert([message], into: name, nowMs: nowMs, db)
            case .delivery(let delivery): try delivery.insert(db)
            case .schedule(let state): try SQLiteStore.put(state, db)
            case .archive(let message, let attributes, let perProtocol):
                try db.execute(
                    sql: """
                        INSERT INTO archive (topic, message_id, message, subject, attributes, per_protocol, published_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        message.topic, message.messageId, message.message, message.subject, attributes, perProtocol,
                        message.publishedAtMs,
                    ])
            case .replay(let id, let cursor, let delivered):
                guard var job = try SQLiteStore.replay(id, db) else { continue }
                job.cursor = cursor
                job.delivered = delivered
                try SQLiteStore.put(job, db)
            }
        }
    }
}
