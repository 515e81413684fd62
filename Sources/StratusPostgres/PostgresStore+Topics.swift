import Foundation
import PostgresNIO
import StratusCore
import StratusStore

// MARK: - Topics and subscriptions

extension PostgresStore {
    package func putTopic(_ name: String) async throws {
        try await rows(
            """
            WITH put AS (INSERT INTO topic (name) VALUES (\(name)) ON CONFLICT (name) DO NOTHING RETURNING 1)
            SELECT pg_notify('stratus', \(Self.notify("c", "definitions", host: hostId))) FROM put
            """)
    }

    package func topics() async throws -> [String] {
        try await rows("SELECT name FROM topic ORDER BY name").map { try $0.decode(String.self) }
    }

    @discardableResult
    package func deleteTopic(_ name: String) async throws -> Bool {
        try await transaction { connection in
            try await connection.query("DELETE FROM subscription WHERE topic = \(name)", logger: self.logger)
            try await connection.query(
                "DELETE FROM fifo_dedup WHERE queue = \(FIFOPublish.key(of: name))", logger: self.logger)
            let deleted = try await connection.query(
                "DELETE FROM topic WHERE name = \(name) RETURNING 1", logger: self.logger
            ).collect()
            try await connection.query(self.notifyDefinitions(), logger: self.logger)
            return !deleted.isEmpty
        }
    }

    package func topicAttributes() async throws -> [String: [String: String]] {
        var all: [String: [String: String]] = [:]
        for row in try await rows("SELECT name, attributes FROM topic WHERE attributes IS NOT NULL") {
            let (name, text) = try row.decode((String, String).self)
            all[name] = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        }
        return all
    }

    package func setTopicAttributes(_ name: String, _ attributes: [String: String]) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(attributes), as: UTF8.self)
        let updated = try await rows("UPDATE topic SET attributes = \(text) WHERE name = \(name) RETURNING 1")
        if updated.isEmpty { throw StoreError.topicDoesNotExist(name) }
        try await rows(notifyDefinitions())
    }

    @discardableResult
    package func deleteSubscription(_ id: String) async throws -> Bool {
        let deleted = try await rows("DELETE FROM subscription WHERE id = \(id) RETURNING 1")
        try await rows(notifyDefinitions())
        return !deleted.isEmpty
    }

    package func putSubscription(_ subscription: Subscription) async throws {
        let r = SubscriptionRecord(subscription)
        try await transaction { connection in
            guard
                try await !connection.query(
                    "SELECT 1 FROM topic WHERE name = \(r.topic) FOR SHARE", logger: self.logger
                ).collect().isEmpty
            else { throw StoreError.topicDoesNotExist(r.topic) }
            try await connection.query(
                """
                INSERT INTO subscription (id, topic, endpoint_kind, endpoint, filter_policy, filter_scope, raw,
                    dead_letter_queue, group_from)
                VALUES (\(r.id), \(r.topic), \(r.endpointKind), \(r.endpoint), \(r.filterPolicy), \(r.filterScope),
                    \(r.raw), \(r.deadLetterQueue), \(r.groupFrom))
                ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, endpoint_kind = excluded.endpoint_kind,
                    endpoint = excluded.endpoint, filter_policy = excluded.filter_policy,
                    filter_scope = excluded.filter_scope, raw = excluded.raw,
                    dead_letter_queue = excluded.dead_letter_queue, group_from = excluded.group_from
                """, logger: self.logger)
            try await connection.query(self.notifyDefinitions(), logger: self.logger)
        }
    }

    package func subscriptions(of topic: String) async throws -> [Subscription] {
        let found = try await rows(
            """
            SELECT t.name, s.id, s.topic, s.endpoint_kind, s.endpoint, s.filter_policy, s.filter_scope, s.raw,
                s.dead_letter_queue, s.group_from
            FROM topic t LEFT JOIN subscription s ON s.topic = t.name WHERE t.name = \(topic) ORDER BY s.ord
            """)
        guard !found.isEmpty else { throw StoreError.topicDoesNotExist(topic) }
        return try found.compactMap { row -> Subscription? in
            let r = row.makeRandomAccess()
            guard let id = try r[1].decode(String?.self) else { return nil }
            return try SubscriptionRecord(
                id: id, topic: try r[2].decode(String.self), endpointKind: try r[3].decode(String.self),
                endpoint: try r[4].decode(String.self), filterPolicy: try r[5].decode(String?.self),
                filterScope: try r[6].decode(String.self), raw: try r[7].decode(Bool.self),
                deadLetterQueue: try r[8].decode(String?.self), groupFrom: try r[9].decode(String?.self)
            ).subscription()
        }
    }
}

// MARK: - Fan-out and deliveries

extension PostgresStore {
    /// Inserts messages into `queue` on `connection` (inside the caller's transaction), FIFO rules included: a
    /// deduplication id sent in the last 5 minutes inserts nothing and answers the first message's id; each FIFO
    /// message takes the queue's next sequence number. Returns the message ids, in order.
    @discardableResult
    func insert(_ messages: [NewMessage], into queue: String, nowMs: Int64, _ connection: PostgresConnection)
        async throws -> [SentMessage]
    {
        guard
            let delay = try await connection.query(
                "SELECT delay_ms FROM queue WHERE name = \(queue)", logger: logger
            ).collect().first?.decode(Int64.self)
        else { throw StoreError.queueDoesNotExist(queue) }
        let fifo = queue.hasSuffix(".fifo")
        var sql = SQL(
            "INSERT INTO message (id, queue, body, attributes, sent_at, visible_at, group_id, dedup_id, sequence) VALUES "
        )
        var sent: [SentMessage] = []
        var count = 0
        for message in messages {
            let id = RequestID.make()
            var sequence: Int64?
            if fifo {
                // The number first, so that the deduplication row keeps it (a duplicate leaves a gap: SQS's
                // sequence numbers grow, they need not be consecutive).
                sequence = try await connection.query(
                    """
                    INSERT INTO fifo_sequence (queue, last) VALUES (\(queue), 1)
                    ON CONFLICT (queue) DO UPDATE SET last = fifo_sequence.last + 1 RETURNING last
                    """, logger: logger
                ).collect().first?.decode(Int64.self)
                if let dedup = message.deduplicationKey {
                    let claimed = try await connection.query(
                        """
                        INSERT INTO fifo_dedup (queue, dedup_id, message_id, expires_at, sequence)
                        VALUES (\(queue), \(dedup), \(id), \(nowMs.saturatingAdd(QueueConfig.deduplicationIntervalMs)),
                            \(sequence))
                        ON CONFLICT (queue, dedup_id) DO UPDATE SET message_id = excluded.message_id,
                            expires_at = excluded.expires_at, sequence = excluded.sequence
                        WHERE fifo_dedup.expires_at <= \(nowMs) RETURNING 1
                        """, logger: logger
                    ).collect()
                    if claimed.isEmpty {
                        let first = try await connection.query(
                            """
                            SELECT message_id, coalesce(sequence, (SELECT m.sequence FROM message m
                                WHERE m.queue = fifo_dedup.queue AND m.id = fifo_dedup.message_id))
                            FROM fifo_dedup WHERE queue = \(queue) AND dedup_id = \(dedup)
                            """,
                            logger: logger
                        ).collect().first?.decode((String, Int64?).self)
                        sent.append(SentMessage(id: first?.0 ?? id, sequence: first?.1))
                        continue
                    }
                }
            }
            if count > 0 { sql.append(",") }
            count += 1
            sent.append(SentMessage(id: id, sequence: sequence))
            sql.append(
                "(\(sql.bind(id)), \(sql.bind(queue)), \(sql.bind(message.body)), "
                    + "\(sql.bind(message.attributes)), \(sql.bind(nowMs)), "
                    + "\(sql.bind(nowMs.saturatingAdd(message.delayMs ?? delay))), "
                    + "\(sql.bind(fifo ? message.groupId : nil)), \(sql.bind(fifo ? message.deduplicationId : nil)), "
                    + "\(sql.bind(sequence)))")
        }
        if count > 0 { try await connection.query(sql.query, logger: logger) }
        try await connection.query(notifyQueue(queue), logger: logger)
        return sent
    }

    /// Inserts deliveries on `connection`, leased to nobody, and tells every host their targets have work.
    func insert(_ deliveries: [PendingDelivery], _ connection: PostgresConnection) async throws {
        guard !deliveries.isEmpty else { return }
        var sql = SQL(
            """
            INSERT INTO delivery (subscription_id, topic, event_id, message_id, raw, target_kind, target, payload,
                attempts, next_attempt_at, created_at, dead_letter_queue) VALUES
            """)
        for (index, delivery) in deliveries.enumerated() {
            let r = DeliveryRecord(delivery)
            if index > 0 { sql.append(",") }
            sql.append(
                "(\(sql.bind(r.subscriptionId)), \(sql.bind(r.topic)), \(sql.bind(r.eventId)), "
                    + "\(sql.bind(r.messageId)), \(sql.bind(r.raw)), \(sql.bind(r.targetKind)), \(sql.bind(r.target)), "
                    + "\(sql.bind(r.payload)), \(sql.bind(Int64(r.attempts))), \(sql.bind(r.nextAttemptAt)), "
                    + "\(sql.bind(r.createdAt)), \(sql.bind(r.deadLetterQueue)))")
        }
        try await connection.query(sql.query, logger: logger)
        for target in Set(deliveries.map(\.target.name)) {
            try await connection.query(
                "SELECT pg_notify('stratus', \(Self.notify("d", target, host: hostId)))", logger: logger)
        }
    }

    package func commit(_ fanOut: [FanOut], nowMs: Int64) async throws {
        guard !fanOut.isEmpty else { return }
        let batch = try FanOutBatch(fanOut)
        try await transaction { connection in try await self.write(batch, nowMs: nowMs, connection) }
    }

    package func commitFIFOPublish(
        to topic: String, deduplicationId: String, messageId: String, nowMs: Int64,
        fanOut: @escaping @Sendable (Int64) throws -> [FanOut]
    ) async throws -> FIFOPublish {
        let key = FIFOPublish.key(of: topic)
        return try await transaction { connection in
            // The sequence number first: its row stays locked until the commit, so publishes to the topic (from
            // any host) commit in the order of their numbers, and a duplicate waits to see the first one's id.
            let sequence =
                try await connection.query(
                    """
                    INSERT INTO fifo_sequence (queue, last) VALUES (\(key), 1)
                    ON CONFLICT (queue) DO UPDATE SET last = fifo_sequence.last + 1 RETURNING last
                    """, logger: self.logger
                ).collect().first?.decode(Int64.self) ?? 1
            let claimed = try await connection.query(
                """
                INSERT INTO fifo_dedup (queue, dedup_id, message_id, expires_at, sequence)
                VALUES (\(key), \(deduplicationId), \(messageId),
                    \(nowMs.saturatingAdd(QueueConfig.deduplicationIntervalMs)), \(sequence))
                ON CONFLICT (queue, dedup_id) DO UPDATE SET message_id = excluded.message_id,
                    expires_at = excluded.expires_at, sequence = excluded.sequence
                WHERE fifo_dedup.expires_at <= \(nowMs) RETURNING 1
                """, logger: self.logger
            ).collect()
            guard !claimed.isEmpty else {
                let first = try await connection.query(
                    "SELECT message_id, sequence FROM fifo_dedup WHERE queue = \(key) AND dedup_id = \(deduplicationId)",
                    logger: self.logger
                ).collect().first?.decode((String, Int64?).self)
                return .duplicate(messageId: first?.0 ?? messageId, sequence: first?.1 ?? sequence)
            }
            let committed = try fanOut(sequence)
            try await self.write(try FanOutBatch(committed), nowMs: nowMs, connection)
            return .committed(sequence: sequence, fanOut: committed)
        }
    }

    /// Writes a publish's fan-out in the transaction of `connection`.
    private func write(_ batch: FanOutBatch, nowMs: Int64, _ connection: PostgresConnection) async throws {
        for (queue, messages) in batch.queues {
            try await insert(messages, into: queue, nowMs: nowMs, connection)
        }
        try await insert(batch.deliveries, connection)
        let encoder = JSONEncoder()
        for item in batch.others {
            switch item {
            case .schedule(let state): try await put(state, connection)
            case .archive(let message):
                let attributes = String(decoding: try encoder.encode(message.attributes), as: UTF8.self)
                let perProtocol = String(decoding: try encoder.encode(message.perProtocol), as: UTF8.self)
                try await connection.query(
                    """
                    INSERT INTO archive (topic, message_id, message, subject, attributes, per_protocol, published_at)
                    VALUES (\(message.topic), \(message.messageId), \(message.message), \(message.subject),
                        \(attributes), \(perProtocol), \(message.publishedAtMs))
                    """, logger: logger)
            case .replayProgress(let id, let cursor, let delivered):
                guard var job = try await replay(id, connection) else { continue }
                job.cursor = cursor
                job.delivered = delivered
                try await put(job, connection)
            case .queue, .delivery: break
            }
        }
    }

    /// The columns a delivery is read with, in `delivery(_:)`'s order.
    static let deliveryColumns = """
        id, subscription_id, topic, event_id, target_kind, target, payload, attempts, next_attempt_at, created_at,
        dead_letter_queue, message_id, raw
        """

    static func delivery(_ row: PostgresRow) throws -> PendingDelivery {
        let (id, subscriptionId, topic, eventId, targetKind, target, payload, attempts) = try row.decode(
            (Int64, String, String?, String?, String, String, String, Int64).self)
        let r = row.makeRandomAccess()
        return try DeliveryRecord(
            id: id, subscriptionId: subscriptionId, topic: topic, eventId: eventId, targetKind: targetKind,
            target: target, payload: payload, attempts: Int(attempts), nextAttemptAt: try r[8].decode(Int64.self),
            createdAt: try r[9].decode(Int64.self), deadLetterQueue: try r[10].decode(String?.self),
            messageId: try r[11].decode(String?.self), raw: try r[12].decode(Bool.self)
        ).delivery()
    }

    /// When a delivery can next be taken by this host: its next attempt, or when another host's lease on it ends.
    private var takeableAt: String {
        "CASE WHEN lease_owner IS NOT NULL AND lease_owner <> $1 THEN greatest(next_attempt_at, lease_until) ELSE next_attempt_at END"
    }

    package func dueDeliveries(nowMs: Int64, limit: Int, excluding: DeliveryExclusion) async throws -> [PendingDelivery]
    {
        guard limit > 0 else { return [] }
        var sql = SQL("SELECT \(Self.deliveryColumns) FROM delivery WHERE ")
        _ = sql.bind(hostId)
        sql.append("\(takeableAt) <= \(sql.bind(nowMs))")
        append(excluding, to: &sql)
        sql.append(" ORDER BY next_attempt_at, id LIMIT \(sql.bind(Int64(limit)))")
        return try await rows(sql.query).map(Self.delivery)
    }

    package func nextDeliveryAtMs(excluding: DeliveryExclusion) async throws -> Int64? {
        var sql = SQL("SELECT min(\(takeableAt)) FROM delivery WHERE true")
        _ = sql.bind(hostId)
        append(excluding, to: &sql)
        return try await rows(sql.query).first?.decode(Int64?.self)
    }

    private func append(_ excluding: DeliveryExclusion, to sql: inout SQL) {
        if !excluding.ids.isEmpty { sql.append(" AND id <> ALL(\(sql.bind(Array(excluding.ids))))") }
        if !excluding.targets.isEmpty { sql.append(" AND target <> ALL(\(sql.bind(Array(excluding.targets))))") }
    }

    package func deliveryTargets() async throws -> Set<String> {
        Set(try await rows("SELECT DISTINCT target FROM delivery").map { try $0.decode(String.self) })
    }

    /// Takes `target`'s due deliveries that no other host holds, leasing them to this host until `leaseMs` from
    /// now (its heartbeat renews the lease while they run).
    package func dueDeliveries(
        for target: String, nowMs: Int64, limit: Int, excludingIds: Set<Int64>
    ) async throws -> (due: [PendingDelivery], nextAtMs: Int64?) {
        let excluded = Array(excludingIds)
        let leaseUntil = nowMs.saturatingAdd(leaseMs)
        return try await transaction { connection in
            var due: [PendingDelivery] = []
            if limit > 0 {
                due = try await connection.query(
                    """
                    WITH picked AS (
                        SELECT id FROM delivery
                        WHERE target = \(target) AND next_attempt_at <= \(nowMs) AND id <> ALL(\(excluded))
                            AND (lease_owner IS NULL OR lease_owner = \(self.hostId) OR lease_until <= \(nowMs))
                        ORDER BY next_attempt_at, id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                    UPDATE delivery d SET lease_owner = \(self.hostId), lease_until = \(leaseUntil)
                    FROM picked WHERE d.id = picked.id
                    RETURNING d.id, d.subscription_id, d.topic, d.event_id, d.target_kind, d.target, d.payload,
                        d.attempts, d.next_attempt_at, d.created_at, d.dead_letter_queue, d.message_id, d.raw
                    """, logger: self.logger
                ).collect().map(Self.delivery).sorted { ($0.nextAttemptAtMs, $0.id) < ($1.nextAttemptAtMs, $1.id) }
            }
            guard due.count < limit else { return (due, nil) }
            let taken = excluded + due.map(\.id)
            let next = try await connection.query(
                """
                SELECT min(CASE WHEN lease_owner IS NOT NULL AND lease_owner <> \(self.hostId)
                    AND lease_until > \(nowMs) THEN greatest(next_attempt_at, lease_until) ELSE next_attempt_at END)
                FROM delivery WHERE target = \(target) AND id <> ALL(\(taken))
                """, logger: self.logger
            ).collect().first?.decode(Int64?.self)
            // Those due now were all taken (or are held by this host): only later ones count.
            return (due, next.map { Swift.max($0, nowMs + 1) })
        }
    }

    package func finishDelivery(_ id: Int64) async throws {
        try await rows("DELETE FROM delivery WHERE id = \(id)")
    }

    package func rescheduleDelivery(_ id: Int64, attempts: Int, nextAttemptAtMs: Int64) async throws {
        try await rows(
            """
            UPDATE delivery SET attempts = \(Int64(attempts)), next_attempt_at = \(nextAttemptAtMs),
                lease_owner = NULL, lease_until = NULL
            WHERE id = \(id)
            """)
    }

    package func deadLetterDelivery(_ id: Int64, into queue: String, message: OutgoingMessage, nowMs: Int64)
        async throws
    {
        let encoded = try NewMessage.encode([message])
        try await transaction { connection in
            guard
                try await !connection.query("DELETE FROM delivery WHERE id = \(id) RETURNING 1", logger: self.logger)
                    .collect().isEmpty
            else { return }
            try await self.insert(encoded, into: queue, nowMs: nowMs, connection)
        }
    }

    /// Extends this host's leases on the deliveries it holds; returns how many.
    @discardableResult
    package func renewLeases(nowMs: Int64) async throws -> Int {
        try await rows(
            """
            WITH renewed AS (
                UPDATE delivery SET lease_until = \(nowMs.saturatingAdd(leaseMs)) WHERE lease_owner = \(hostId)
                RETURNING 1)
            SELECT count(*) FROM renewed
            """
        ).first.map { Int(try $0.decode(Int64.self)) } ?? 0
    }
}

// MARK: Schedules

extension PostgresStore {
    package func scheduleStates() async throws -> [ScheduleState] {
        try await rows(
            "SELECT name, fingerprint, anchor_ms, next_ms, last_ms, last_event_id FROM schedule ORDER BY name"
        )
        .map { row in
            let (name, fingerprint, anchor, next, last, lastEventId) = try row.decode(
                (String, String, Int64, Int64?, Int64?, String?).self)
            return ScheduleState(
                name: name, fingerprint: fingerprint, anchorMs: anchor, nextMs: next, lastMs: last,
                lastEventId: lastEventId)
        }
    }

    package func putScheduleStates(_ states: [ScheduleState], keepingOnly names: Set<String>) async throws {
        try await transaction { connection in
            try await connection.query(
                "DELETE FROM schedule WHERE name <> ALL(\(Array(names)))", logger: self.logger)
            for state in states { try await self.put(state, connection) }
        }
    }

    func put(_ state: ScheduleState, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO schedule (name, fingerprint, anchor_ms, next_ms, last_ms, last_event_id)
            VALUES (\(state.name), \(state.fingerprint), \(state.anchorMs), \(state.nextMs), \(state.lastMs),
                \(state.lastEventId))
            ON CONFLICT (name) DO UPDATE SET fingerprint = excluded.fingerprint, anchor_ms = excluded.anchor_ms,
                next_ms = excluded.next_ms, last_ms = excluded.last_ms, last_event_id = excluded.last_event_id
            """, logger: logger)
    }
}

// MARK: Archives and replays

extension PostgresStore {
    package func archivedMessages(
        of topic: String, after seq: Int64, through lastSeq: Int64, fromMs: Int64, untilMs: Int64, limit: Int
    ) async throws -> [ArchivedMessage] {
        let decoder = JSONDecoder()
        return try await rows(
            """
            SELECT seq, topic, message_id, message, subject, attributes, per_protocol, published_at FROM archive
            WHERE topic = \(topic) AND seq > \(seq) AND seq <= \(lastSeq) AND published_at >= \(fromMs)
                AND published_at < \(untilMs)
            ORDER BY seq LIMIT \(Int64(max(0, limit)))
            """
        ).map { row in
            let (seq, topic, messageId, message, subject, attributes, perProtocol, publishedAt) = try row.decode(
                (Int64, String, String, String, String?, String, String, Int64).self)
            return ArchivedMessage(
                seq: seq, topic: topic, messageId: messageId, message: message, subject: subject,
                attributes: try decoder.decode([String: MessageAttribute].self, from: Data(attributes.utf8)),
                perProtocol: try decoder.decode([String: String].self, from: Data(perProtocol.utf8)),
                publishedAtMs: publishedAt)
        }
    }

    package func archiveExtent(of topic: String, fromMs: Int64, untilMs: Int64) async throws -> (
        count: Int, lastSeq: Int64
    ) {
        let row = try await rows(
            """
            SELECT (SELECT count(*) FROM archive WHERE topic = \(topic) AND published_at >= \(fromMs)
                    AND published_at < \(untilMs)),
                (SELECT coalesce(max(seq), 0) FROM archive)
            """
        ).first
        guard let row else { return (0, 0) }
        let (count, last) = try row.decode((Int64, Int64).self)
        return (Int(count), last)
    }

    package func pruneArchive(of topic: String, before ms: Int64) async throws -> Int {
        let deleted = try await rows(
            """
            WITH deleted AS (DELETE FROM archive WHERE topic = \(topic) AND published_at < \(ms) RETURNING 1)
            SELECT count(*) FROM deleted
            """
        ).first?.decode(Int64.self)
        return Int(deleted ?? 0)
    }

    package func putReplay(_ job: ReplayJob) async throws {
        try await withConnection { connection in
            try await self.put(job, connection)
            try await connection.query(
                "SELECT pg_notify('stratus', \(Self.notify("r", job.id, host: self.hostId)))", logger: self.logger)
        }
    }

    package func replays() async throws -> [ReplayJob] {
        let decoder = JSONDecoder()
        return try await rows("SELECT job FROM replay ORDER BY created_at, ord").map {
            try decoder.decode(ReplayJob.self, from: Data(try $0.decode(String.self).utf8))
        }
    }

    package func replay(id: String) async throws -> ReplayJob? {
        try await withConnection { try await self.replay(id, $0) }
    }

    package func runningReplayIds() async throws -> [String] {
        try await rows("SELECT id FROM replay WHERE status = 'running' ORDER BY ord").map { try $0.decode(String.self) }
    }

    func replay(_ id: String, _ connection: PostgresConnection) async throws -> ReplayJob? {
        try await connection.query("SELECT job FROM replay WHERE id = \(id)", logger: logger).collect().first.map {
            try JSONDecoder().decode(ReplayJob.self, from: Data(try $0.decode(String.self).utf8))
        }
    }

    func put(_ job: ReplayJob, _ connection: PostgresConnection) async throws {
        let text = String(decoding: try JSONEncoder().encode(job), as: UTF8.self)
        try await connection.query(
            """
            INSERT INTO replay (id, status, created_at, job) VALUES (\(job.id), \(job.status.rawValue),
                \(job.createdAtMs), \(text))
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, job = excluded.job
            """, logger: logger)
    }
}

/// A publish's fan-out as the PostgreSQL store writes it: queue messages grouped by queue (one insert each, in
/// publish order, encoded before the transaction), the deliveries (one insert), and the rest.
private struct FanOutBatch: Sendable {
    var queues: [(String, [NewMessage])] = []
    var deliveries: [PendingDelivery] = []
    var others: [FanOut] = []

    init(_ fanOut: [FanOut]) throws {
        var queueOrder: [String] = []
        var byQueue: [String: [OutgoingMessage]] = [:]
        for item in fanOut {
            switch item {
            case .queue(let name, let message):
                if byQueue[name] == nil { queueOrder.append(name) }
                byQueue[name, default: []].append(message)
            case .delivery(let delivery): deliveries.append(delivery)
            default: others.append(item)
            }
        }
        queues = try queueOrder.map { ($0, try NewMessage.encode(byQueue[$0] ?? [])) }
    }
}
