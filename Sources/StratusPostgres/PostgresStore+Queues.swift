import Foundation
import PostgresNIO
import StratusCore
import StratusStore

extension PostgresStore {
    /// The columns a message is read with, in `message(_:)`'s order.
    static let messageColumns = """
        seq, id, queue, body, attributes, sent_at, first_received_at, receive_count, receipt_handle, source_queue,
        group_id, dedup_id, sequence
        """

    static func message(_ row: PostgresRow) throws -> QueueMessage {
        try message(row.makeRandomAccess(), from: 0)
    }

    /// The message in `row`'s columns from `first` on, in `messageColumns`' order.
    static func message(_ r: PostgresRandomAccessRow, from first: Int) throws -> QueueMessage {
        try MessageRecord(
            seq: r[first].decode(Int64.self), id: r[first + 1].decode(String.self),
            queue: r[first + 2].decode(String.self), body: r[first + 3].decode(String.self),
            attributes: r[first + 4].decode(String?.self), sentAtMs: r[first + 5].decode(Int64.self),
            firstReceivedAtMs: r[first + 6].decode(Int64?.self), receiveCount: Int(r[first + 7].decode(Int64.self)),
            receiptHandle: r[first + 8].decode(String?.self), sourceQueue: r[first + 9].decode(String?.self),
            groupId: r[first + 10].decode(String?.self), deduplicationId: r[first + 11].decode(String?.self),
            sequence: r[first + 12].decode(Int64?.self)
        ).message()
    }

    /// A notification that `queue` has messages to look at, for the other hosts' receivers.
    func notifyQueue(_ queue: String) -> PostgresQuery {
        "SELECT pg_notify('stratus', \(Self.notify("q", queue, host: hostId)))"
    }

    func notifyDefinitions() -> PostgresQuery {
        "SELECT pg_notify('stratus', \(Self.notify("c", "definitions", host: hostId)))"
    }

    func queueExists(_ queue: String, _ connection: PostgresConnection? = nil) async throws -> Bool {
        let query: PostgresQuery = "SELECT 1 FROM queue WHERE name = \(queue)"
        if let connection { return try await !connection.query(query, logger: logger).collect().isEmpty }
        return try await !rows(query).isEmpty
    }

    package func putQueue(_ queue: QueueConfig) async throws {
        let record = try QueueRecord(queue)
        let maxReceiveCount = record.maxReceiveCount.map(Int64.init)
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO queue (name, visibility_timeout_ms, max_receive_count, dead_letter_queue, retention_ms,
                    delay_ms, config)
                VALUES (\(record.name), \(record.visibilityTimeoutMs), \(maxReceiveCount), \(record.deadLetterQueue),
                    \(record.retentionMs), \(record.delayMs), \(record.config))
                ON CONFLICT (name) DO UPDATE SET visibility_timeout_ms = excluded.visibility_timeout_ms,
                    max_receive_count = excluded.max_receive_count, dead_letter_queue = excluded.dead_letter_queue,
                    retention_ms = excluded.retention_ms, delay_ms = excluded.delay_ms, config = excluded.config
                """, logger: self.logger)
            try await connection.query(self.notifyDefinitions(), logger: self.logger)
        }
    }

    package func queues() async throws -> [QueueConfig] {
        try await rows("SELECT name, config FROM queue ORDER BY name").map { row in
            let (name, config) = try row.decode((String, String).self)
            do {
                return try JSONDecoder().decode(QueueConfig.self, from: Data(config.utf8))
            } catch {
                throw StoreError(
                    code: .invalidRecord, message: "Queue '\(name)' has settings that no longer decode.",
                    underlying: error)
            }
        }
    }

    @discardableResult
    package func deleteQueue(_ name: String) async throws -> Bool {
        try await transaction { connection in
            try await connection.query("DELETE FROM message WHERE queue = \(name)", logger: self.logger)
            let deleted = try await connection.query(
                "DELETE FROM queue WHERE name = \(name) RETURNING 1", logger: self.logger
            ).collect()
            try await connection.query(self.notifyDefinitions(), logger: self.logger)
            return !deleted.isEmpty
        }
    }

    package func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64) async throws -> [SentMessage] {
        try await send(messages, to: queue, nowMs: nowMs, claimed: 0)
    }

    package func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64, claimed: Int) async throws
        -> [SentMessage]
    {
        guard !messages.isEmpty else {
            guard try await queueExists(queue) else { throw StoreError.queueDoesNotExist(queue) }
            return []
        }
        let rows = try NewMessage.encode(messages)
        if queue.hasSuffix(".fifo") { return try await sendFIFO(rows, to: queue, nowMs: nowMs) }
        let ids = rows.map { _ in RequestID.make() }
        // One statement: the rows, their delays from the queue's settings, and for the messages this host's own
        // receivers do not take, the wake-up of one other host's receivers (in turn: several hosts woken for one
        // batch would race for it, and all but one find nothing).
        let unclaimed = Swift.max(0, rows.count - Swift.max(0, claimed))
        var sql = SQL(
            """
            WITH inserted AS (
                INSERT INTO message (id, queue, body, attributes, sent_at, visible_at)
                SELECT v.id, q.name, v.body, v.attributes, $1, $1 + coalesce(v.delay, q.delay_ms)
                FROM queue q CROSS JOIN (VALUES
            """)
        _ = sql.bind(nowMs)
        let queueBind = sql.bind(queue)
        for (index, row) in rows.enumerated() {
            if index > 0 { sql.append(",") }
            sql.append(
                "(\(sql.bind(ids[index]))::text, \(sql.bind(row.body))::text, \(sql.bind(row.attributes))::text, "
                    + "\(sql.bind(row.delayMs))::bigint)")
        }
        sql.append(
            """
            ) AS v(id, body, attributes, delay) WHERE q.name = \(queueBind) RETURNING 1)
            SELECT (SELECT count(*) FROM inserted)
            """)
        if unclaimed > 0 {
            let payload = Self.notify("q", "\(queue) \(unclaimed) \(handOffTarget())", host: hostId)
            sql.append(", pg_notify('stratus', \(sql.bind(payload)))")
        }
        let inserted = try await self.rows(sql.query).first?.makeRandomAccess()[0].decode(Int64.self) ?? 0
        guard inserted == rows.count else { throw StoreError.queueDoesNotExist(queue) }
        return ids.map { SentMessage(id: $0) }
    }

    /// FIFO sends: one transaction (deduplication and sequence numbers as `insert` applies them).
    private func sendFIFO(_ messages: [NewMessage], to queue: String, nowMs: Int64) async throws -> [SentMessage] {
        try await transaction { connection in
            try await self.insert(messages, into: queue, nowMs: nowMs, connection)
        }
    }

    package func receive(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool
    ) async throws -> [QueueMessage] {
        try await receiveOrNextVisible(
            from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: oneGroup
        ).messages
    }

    package func receiveOrNextVisible(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?) {
        guard max > 0 else {
            guard try await queueExists(queue) else { throw StoreError.queueDoesNotExist(queue) }
            return ([], nil)
        }
        if queue.hasSuffix(".fifo") {
            let messages = try await receiveFIFO(
                from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: oneGroup)
            return (messages, messages.isEmpty ? try await nextVisibleAtMs(in: queue) : nil)
        }
        return try await receiveStandard(
            from: queue, deleting: [], max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs)
    }

    package func deleteAndReceive(
        from queue: String, deleting receiptHandles: [String], max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?) {
        guard max > 0, !queue.hasSuffix(".fifo") else {
            _ = try await delete(from: queue, receiptHandles: receiptHandles)
            return try await receiveOrNextVisible(
                from: queue, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs, oneGroup: false)
        }
        return try await receiveStandard(
            from: queue, deleting: receiptHandles, max: max, visibilityTimeoutMs: visibilityTimeoutMs, nowMs: nowMs)
    }

    /// A standard queue's receive, deleting `receiptHandles` first in the same statement.
    private func receiveStandard(
        from queue: String, deleting receiptHandles: [String], max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64
    ) async throws -> (messages: [QueueMessage], nextVisibleAtMs: Int64?) {
        // One statement: delete the finished batch, drop what outlived the queue's retention, lock the oldest
        // visible messages no other host holds, move those past the receive limit to the dead-letter queue, hand
        // out the rest. Only messages moved leave room to look again.
        var received: [QueueMessage] = []
        var next: Int64?
        var deleting = receiptHandles
        while received.count < max {
            let limit = Int64(max - received.count)
            let deletingSeqs = deleting.compactMap(MessageRecord.seq(ofReceiptHandle:))
            // A message received with a zero timeout is visible again: never hand it out twice in one call; nor one
            // being deleted (one statement must not change a row twice).
            let taken =
                received.compactMap { $0.receiptHandle.flatMap(MessageRecord.seq(ofReceiptHandle:)) } + deletingSeqs
            let rows = try await rows(
                """
                WITH q AS (
                    SELECT visibility_timeout_ms, max_receive_count, retention_ms,
                        CASE WHEN max_receive_count IS NOT NULL
                            AND EXISTS (SELECT 1 FROM queue d WHERE d.name = queue.dead_letter_queue)
                        THEN dead_letter_queue END AS dlq
                    FROM queue WHERE name = \(queue)),
                finished AS (
                    DELETE FROM message WHERE seq = ANY(\(deletingSeqs)) AND queue = \(queue)
                        AND receipt_handle = ANY(\(deleting))),
                expired AS (
                    DELETE FROM message m USING q WHERE m.queue = \(queue) AND m.sent_at < \(nowMs) - q.retention_ms),
                picked AS (
                    SELECT m.seq, m.receive_count + 1 > coalesce(q.max_receive_count, 9223372036854775807)
                        AND q.dlq IS NOT NULL AS dead
                    FROM message m, q
                    WHERE m.queue = \(queue) AND m.visible_at <= \(nowMs) AND m.sent_at >= \(nowMs) - q.retention_ms
                        AND m.seq <> ALL(\(taken))
                    ORDER BY m.visible_at, m.seq LIMIT \(limit) FOR UPDATE OF m SKIP LOCKED),
                moved AS (
                    UPDATE message m SET queue = q.dlq, source_queue = m.queue, receipt_handle = NULL,
                        visible_at = \(nowMs)
                    FROM picked, q WHERE m.seq = picked.seq AND picked.dead RETURNING m.seq),
                received AS (
                    UPDATE message m SET receive_count = m.receive_count + 1,
                        first_received_at = coalesce(m.first_received_at, \(nowMs)),
                        visible_at = \(nowMs) + coalesce(\(visibilityTimeoutMs), q.visibility_timeout_ms),
                        receipt_handle = substr(md5(random()::text), 1, 20) || '.' || \(nowMs) || '.' || m.seq
                    FROM picked, q WHERE m.seq = picked.seq AND NOT picked.dead
                    RETURNING m.seq, m.id, m.queue, m.body, m.attributes, m.sent_at, m.first_received_at,
                        m.receive_count, m.receipt_handle, m.source_queue, m.group_id, m.dedup_id, m.sequence)
                SELECT (SELECT count(*) FROM q), (SELECT count(*) FROM moved),
                    (SELECT min(m.visible_at) FROM message m, q WHERE m.queue = \(queue) AND m.seq <> ALL(\(taken))
                        AND m.seq NOT IN (SELECT seq FROM picked) AND m.sent_at >= \(nowMs) - q.retention_ms), r.*
                FROM (SELECT 1) AS one LEFT JOIN received r ON true
                """)
            deleting = []
            var moved: Int64 = 0
            var batch: [QueueMessage] = []
            for row in rows {
                let r = row.makeRandomAccess()
                guard try r[0].decode(Int64.self) > 0 else { throw StoreError.queueDoesNotExist(queue) }
                moved = try r[1].decode(Int64.self)
                next = try r[2].decode(Int64?.self)
                if try r[3].decode(Int64?.self) != nil { batch.append(try Self.message(r, from: 3)) }
            }
            received += batch.sorted { $0.sortKey < $1.sortKey }
            if moved == 0 || Int64(batch.count) + moved < limit { break }
        }
        // The smallest visible_at of what the statement left (neither deleted nor received).
        return (received, next)
    }

    /// FIFO receives, one transaction under the queue's advisory lock (two hosts must not each take the next
    /// message of one group): a group's messages in order, none of a group with one in flight.
    private func receiveFIFO(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool
    ) async throws -> [QueueMessage] {
        let limit = Int64(max)
        return try await transaction { connection in
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtext(\("fifo " + queue)))", logger: self.logger)
            guard
                let settings = try await connection.query(
                    """
                    SELECT visibility_timeout_ms, max_receive_count, retention_ms,
                        CASE WHEN EXISTS (SELECT 1 FROM queue d WHERE d.name = queue.dead_letter_queue)
                        THEN dead_letter_queue END
                    FROM queue WHERE name = \(queue)
                    """, logger: self.logger
                ).collect().first
            else { throw StoreError.queueDoesNotExist(queue) }
            let (visibility, maxReceiveCount, retention, deadLetterQueue) = try settings.decode(
                (Int64, Int64?, Int64, String?).self)
            let oldest = nowMs.saturatingSubtract(retention)
            try await connection.query(
                "DELETE FROM message WHERE queue = \(queue) AND sent_at < \(oldest)", logger: self.logger)
            var candidates = try await connection.query(
                """
                SELECT m.seq, m.receive_count, m.group_id FROM message m
                WHERE m.queue = \(queue) AND m.visible_at <= \(nowMs) AND m.sent_at >= \(oldest) AND NOT EXISTS (
                    SELECT 1 FROM message b WHERE b.queue = \(queue) AND b.group_id = m.group_id
                        AND b.visible_at > \(nowMs) AND (b.receive_count > 0 OR b.seq < m.seq))
                ORDER BY m.seq LIMIT \(oneGroup ? 1 : limit)
                """, logger: self.logger
            ).collect().map { try $0.decode((Int64, Int64, String?).self) }
            if oneGroup, let group = candidates.first?.2 {
                candidates = try await connection.query(
                    """
                    SELECT seq, receive_count, group_id FROM message
                    WHERE queue = \(queue) AND group_id = \(group) AND visible_at <= \(nowMs) AND sent_at >= \(oldest)
                    ORDER BY seq LIMIT \(limit)
                    """, logger: self.logger
                ).collect().map { try $0.decode((Int64, Int64, String?).self) }
            }
            var dead: [Int64] = []
            var live: [Int64] = []
            for (seq, receiveCount, _) in candidates {
                if let deadLetterQueue, !deadLetterQueue.isEmpty, let limit = maxReceiveCount, receiveCount + 1 > limit
                {
                    dead.append(seq)
                } else {
                    live.append(seq)
                }
            }
            // Enqueued anew in the FIFO dead-letter queue, as SQS does (`SQLiteStore.moveToDeadLetterQueue`).
            for seq in dead {
                guard let deadLetterQueue else { break }
                try await connection.query(
                    """
                    WITH next AS (
                        INSERT INTO fifo_sequence (queue, last) VALUES (\(deadLetterQueue), 1)
                        ON CONFLICT (queue) DO UPDATE SET last = fifo_sequence.last + 1 RETURNING last)
                    UPDATE message SET queue = \(deadLetterQueue), source_queue = queue, receipt_handle = NULL,
                        visible_at = \(nowMs), sent_at = \(nowMs), dedup_id = id, seq = DEFAULT,
                        sequence = (SELECT last FROM next)
                    WHERE seq = \(seq)
                    """, logger: self.logger)
            }
            guard !live.isEmpty else { return [] }
            let visibleAt = nowMs.saturatingAdd(visibilityTimeoutMs ?? visibility)
            return try await connection.query(
                """
                UPDATE message SET receive_count = receive_count + 1,
                    first_received_at = coalesce(first_received_at, \(nowMs)), visible_at = \(visibleAt),
                    receipt_handle = substr(md5(random()::text), 1, 20) || '.' || \(nowMs) || '.' || seq
                WHERE seq = ANY(\(live)) RETURNING \(unescaped: Self.messageColumns)
                """, logger: self.logger
            ).collect().map(Self.message).sorted { $0.sortKey < $1.sortKey }
        }
    }

    package func delete(from queue: String, receiptHandles: [String]) async throws -> Int {
        guard !receiptHandles.isEmpty else { return 0 }
        let seqs = receiptHandles.compactMap(MessageRecord.seq(ofReceiptHandle:))
        let deleted =
            try await rows(
                """
                WITH deleted AS (
                    DELETE FROM message WHERE seq = ANY(\(seqs)) AND queue = \(queue) AND receipt_handle = ANY(\(receiptHandles))
                    RETURNING 1)
                SELECT count(*) FROM deleted
                """
            ).first?.decode(Int64.self) ?? 0
        if deleted < receiptHandles.count, try await !queueExists(queue) { throw StoreError.queueDoesNotExist(queue) }
        // A FIFO group whose message left may hand out its next one: tell the other hosts' receivers.
        if deleted > 0, queue.hasSuffix(".fifo") { try await rows(notifyQueue(queue)) }
        return Int(deleted)
    }

    package func changeVisibility(
        in queue: String, receiptHandle: String, timeoutMs: Int64, nowMs: Int64
    ) async throws -> VisibilityChange {
        if let seq = MessageRecord.seq(ofReceiptHandle: receiptHandle) {
            let visibleAt = nowMs.saturatingAdd(timeoutMs)
            // One statement: a row when the handle is current, with 1 when it was still in flight and changed.
            let changed = try await rows(
                """
                WITH held AS (SELECT seq, visible_at FROM message
                    WHERE seq = \(seq) AND queue = \(queue) AND receipt_handle = \(receiptHandle) FOR UPDATE),
                changed AS (UPDATE message m SET visible_at = \(visibleAt) FROM held
                    WHERE m.seq = held.seq AND held.visible_at > \(nowMs) RETURNING 1)
                SELECT (SELECT count(*) FROM changed) FROM held
                """)
            if let row = changed.first {
                guard try row.decode(Int64.self) > 0 else { return .notInFlight }
                if timeoutMs == 0 { try await rows(notifyQueue(queue)) }
                return .changed
            }
        }
        guard try await queueExists(queue) else { throw StoreError.queueDoesNotExist(queue) }
        return .unknownHandle
    }

    package func returnUnprocessed(to queue: String, receiptHandles: [String], delayMs: Int64, nowMs: Int64)
        async throws
    {
        let seqs = receiptHandles.compactMap(MessageRecord.seq(ofReceiptHandle:))
        guard !seqs.isEmpty else { return }
        let visibleAt = nowMs.saturatingAdd(delayMs)
        try await rows(
            """
            WITH returned AS (
                UPDATE message SET visible_at = \(visibleAt), receive_count = greatest(0, receive_count - 1),
                    receipt_handle = NULL
                WHERE seq = ANY(\(seqs)) AND queue = \(queue) AND receipt_handle = ANY(\(receiptHandles)) RETURNING 1)
            SELECT count(*), pg_notify('stratus', \(Self.notify("q", queue, host: hostId))) FROM returned
            """)
    }

    package func purge(_ queue: String) async throws -> Int {
        guard try await queueExists(queue) else { throw StoreError.queueDoesNotExist(queue) }
        let deleted = try await rows(
            "WITH deleted AS (DELETE FROM message WHERE queue = \(queue) RETURNING 1) SELECT count(*) FROM deleted"
        ).first?.decode(Int64.self)
        return Int(deleted ?? 0)
    }

    package func counts(of queue: String, nowMs: Int64) async throws -> QueueCounts {
        guard try await queueExists(queue) else { throw StoreError.queueDoesNotExist(queue) }
        guard
            let row = try await rows(
                """
                SELECT count(*) FILTER (WHERE visible_at <= \(nowMs)),
                    count(*) FILTER (WHERE visible_at > \(nowMs) AND receive_count > 0),
                    count(*) FILTER (WHERE visible_at > \(nowMs) AND receive_count = 0)
                FROM message m JOIN queue q ON q.name = m.queue
                WHERE m.queue = \(queue) AND m.sent_at >= \(nowMs) - q.retention_ms
                """
            ).first
        else { return QueueCounts() }
        let (visible, inFlight, delayed) = try row.decode((Int64, Int64, Int64).self)
        return QueueCounts(visible: Int(visible), inFlight: Int(inFlight), delayed: Int(delayed))
    }

    package func countsOfAllQueues(nowMs: Int64) async throws -> [String: QueueCounts] {
        var counts: [String: QueueCounts] = [:]
        for row in try await rows(
            """
            SELECT m.queue, count(*) FILTER (WHERE visible_at <= \(nowMs)),
                count(*) FILTER (WHERE visible_at > \(nowMs) AND receive_count > 0),
                count(*) FILTER (WHERE visible_at > \(nowMs) AND receive_count = 0)
            FROM message m JOIN queue q ON q.name = m.queue
            WHERE m.sent_at >= \(nowMs) - q.retention_ms GROUP BY m.queue
            """)
        {
            let (queue, visible, inFlight, delayed) = try row.decode((String, Int64, Int64, Int64).self)
            counts[queue] = QueueCounts(visible: Int(visible), inFlight: Int(inFlight), delayed: Int(delayed))
        }
        return counts
    }

    package func nextVisibleAtMs(in queue: String) async throws -> Int64? {
        let row = try await rows(
            "SELECT (SELECT min(visible_at) FROM message WHERE queue = \(queue)) FROM queue WHERE name = \(queue)"
        ).first
        guard let row else { throw StoreError.queueDoesNotExist(queue) }
        return try row.decode(Int64?.self)
    }

    package func hasFreeGroup(in queue: String, _ groups: Set<String>, nowMs: Int64) async throws -> Bool {
        guard !groups.isEmpty else { return false }
        let names = Array(groups)
        return try await !rows(
            """
            SELECT 1 FROM unnest(\(names)::text[]) AS g(name) WHERE NOT EXISTS (
                SELECT 1 FROM message WHERE queue = \(queue) AND group_id = g.name AND visible_at > \(nowMs)
                    AND receive_count > 0)
            LIMIT 1
            """
        ).isEmpty
    }

    package func nextVisibleAtMs(in queue: String, after ms: Int64) async throws -> Int64? {
        try await rows("SELECT min(visible_at) FROM message WHERE queue = \(queue) AND visible_at > \(ms)").first?
            .decode(Int64?.self)
    }

    package func redrive(from deadLetterQueue: String, to target: String?, nowMs: Int64, limit: Int) async throws
        -> Int
    {
        try await transaction { connection in
            guard try await self.queueExists(deadLetterQueue, connection) else {
                throw StoreError.queueDoesNotExist(deadLetterQueue)
            }
            if let target, try await !self.queueExists(target, connection) {
                throw StoreError.queueDoesNotExist(target)
            }
            var seqs: [Int64] = []
            var destinations: [String] = []
            for row in try await connection.query(
                """
                SELECT seq, coalesce(\(target), source_queue) FROM message
                WHERE queue = \(deadLetterQueue) AND visible_at <= \(nowMs)
                    AND (\(target)::text IS NOT NULL OR source_queue IN (SELECT name FROM queue))
                ORDER BY seq LIMIT \(Int64(Swift.max(0, limit))) FOR UPDATE
                """, logger: self.logger
            ).collect() {
                let (seq, destination) = try row.decode((Int64, String).self)
                seqs.append(seq)
                destinations.append(destination)
            }
            guard !seqs.isEmpty else { return 0 }
            // New messages, as SQS's redrive makes them: new ids, and a FIFO destination's next sequence numbers
            // (0 for none), reserved in one statement per destination.
            var sequences = [Int64](repeating: 0, count: seqs.count)
            for (destination, indices) in Dictionary(grouping: seqs.indices, by: { destinations[$0] })
            where destination.hasSuffix(".fifo") {
                let count = Int64(indices.count)
                let last =
                    try await connection.query(
                        """
                        INSERT INTO fifo_sequence (queue, last) VALUES (\(destination), \(count))
                        ON CONFLICT (queue) DO UPDATE SET last = fifo_sequence.last + \(count) RETURNING last
                        """, logger: self.logger
                    ).collect().first?.decode(Int64.self) ?? count
                for (offset, index) in indices.enumerated() { sequences[index] = last - count + 1 + Int64(offset) }
            }
            let ids = seqs.map { _ in RequestID.make() }
            try await connection.query(
                """
                WITH v AS (
                    SELECT * FROM unnest(\(seqs)::bigint[], \(ids)::text[], \(destinations)::text[],
                        \(sequences)::bigint[]) WITH ORDINALITY AS v(seq, id, destination, sequence, n)),
                old AS (
                    DELETE FROM message m USING v WHERE m.seq = v.seq
                    RETURNING m.seq, m.body, m.attributes, m.group_id, m.dedup_id)
                INSERT INTO message (id, queue, body, attributes, sent_at, visible_at, group_id, dedup_id, sequence)
                SELECT v.id, v.destination, old.body, old.attributes, \(nowMs), \(nowMs), old.group_id, old.dedup_id,
                    nullif(v.sequence, 0)
                FROM v JOIN old ON old.seq = v.seq ORDER BY v.n
                """, logger: self.logger)
            for queue in Set(destinations) {
                try await connection.query(self.notifyQueue(queue), logger: self.logger)
            }
            return seqs.count
        }
    }

    package func expireMessages(nowMs: Int64) async throws -> Int {
        try await transaction { connection in
            let deleted = try await connection.query(
                """
                WITH deleted AS (
                    DELETE FROM message m USING queue q WHERE m.queue = q.name AND m.sent_at < \(nowMs) - q.retention_ms
                    RETURNING 1)
                SELECT count(*) FROM deleted
                """, logger: self.logger
            ).collect().first?.decode(Int64.self)
            try await connection.query("DELETE FROM fifo_dedup WHERE expires_at <= \(nowMs)", logger: self.logger)
            return Int(deleted ?? 0)
        }
    }
}

extension QueueMessage {
    /// Receive order: the sequence number in the receipt handle (what SQLite's receives return in).
    fileprivate var sortKey: Int64 { receiptHandle.flatMap(MessageRecord.seq(ofReceiptHandle:)) ?? 0 }
}
