import Foundation
import GRDB
import StratusCore

extension SQLiteStore {
    /// A short write of the request path (send, receive, delete, visibility), run on the caller's thread
    /// (an event loop): handing it to GRDB's writer queue and resuming afterwards costs two thread switches,
    /// more than the write itself (an SQS drain runs 11% faster this way). It waits, without spinning, while
    /// another write holds the database. Long writes (purges, prunes, migrations) keep the async path.
    func writeNow<T>(_ body: (Database) throws -> T) throws -> T { try pool.write(body) }

    package func putQueue(_ queue: QueueConfig) async throws {
        let record = try QueueRecord(queue)
        try await pool.write { db in try record.upsert(db) }
    }

    package func queues() async throws -> [QueueConfig] {
        let records = try await pool.read { db in try QueueRecord.order(QueueRecord.Columns.name).fetchAll(db) }
        return try records.map { try $0.queueConfig() }
    }

    /// Deletes a queue and its messages; returns whether it existed.
    @discardableResult
    package func deleteQueue(_ name: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM message WHERE queue = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM queue WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    package func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64) async throws -> [SentMessage] {
        let rows = try NewMessage.encode(messages)
        return try writeNow { db in try NewMessage.insert(rows, into: queue, nowMs: nowMs, db) }
    }

    package func receive(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64, oneGroup: Bool
    ) async throws -> [QueueMessage] {
        let received = try writeNow { db -> [MessageRecord] in
            let settings = try QueueRecord.find(queue, db)
            try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND sent_at < ?")
                .execute(arguments: [queue, nowMs.saturatingSubtract(settings.retentionMs)])
            guard max > 0 else { return [] }
            var deadLetterQueue: String?
            if settings.maxReceiveCount != nil, let name = settings.deadLetterQueue, try QueueRecord.exists(name, db) {
                deadLetterQueue = name
            }
            // A FIFO queue hands out a group's messages in order, and none of a group with one in flight.
            let fifo = queue.hasSuffix(".fifo")
            let select = try db.cachedStatement(
                sql: fifo
                    ? """
                    SELECT * FROM message m INDEXED BY message_queue_seq
                    WHERE m.queue = ?1 AND m.visible_at <= ?2 AND NOT EXISTS (
                        SELECT 1 FROM message b WHERE b.queue = ?1 AND b.group_id = m.group_id AND b.visible_at > ?2
                            AND (b.receive_count > 0 OR b.seq < m.seq))
                    ORDER BY m.seq LIMIT ?3
                    """
                    : "SELECT * FROM message WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?")
            let markReceived = try db.cachedStatement(
                sql: """
                    UPDATE message SET receive_count = receive_count + 1,
                        first_received_at = coalesce(first_received_at, ?), visible_at = ?, receipt_handle = ?
                    WHERE seq = ?
                    """)
            let visibleAt = nowMs.saturatingAdd(visibilityTimeoutMs ?? settings.visibilityTimeoutMs)
            var received: [MessageRecord] = []
            var receivedSeqs: Set<Int64> = []
            var onlyGroup: String?
            // One group per receive (what a FIFO consumer runs as one batch): the group of the first message that
            // may be received, then that group's messages in order (a free group has none in flight).
            let groupSelect = try db.cachedStatement(
                sql: """
                    SELECT * FROM message WHERE queue = ? AND group_id = ? AND visible_at <= ? ORDER BY seq LIMIT ?
                    """)
            while received.count < max {
                let wanted = max - received.count
                var rows: [MessageRecord]
                if oneGroup, fifo {
                    if onlyGroup == nil {
                        onlyGroup = try MessageRecord.fetchOne(select, arguments: [queue, nowMs, 1])?.groupId
                    }
                    guard let group = onlyGroup else { break }
                    rows = try MessageRecord.fetchAll(groupSelect, arguments: [queue, group, nowMs, wanted])
                } else {
                    rows = try MessageRecord.fetchAll(select, arguments: [queue, nowMs, wanted])
                }
                var movedAny = false
                // A message received with a zero timeout is visible again: never hand it out twice in one call.
                for var message in rows where !receivedSeqs.contains(message.seq) {
                    if let deadLetterQueue, let limit = settings.maxReceiveCount, message.receiveCount + 1 > limit {
                        try Self.moveToDeadLetterQueue(
                            seq: message.seq, from: queue, to: deadLetterQueue, nowMs: nowMs, db)
                        movedAny = true
                        continue
                    }
                    message.receiveCount += 1
                    message.firstReceivedAtMs = message.firstReceivedAtMs ?? nowMs
                    message.receiptHandle = QueueMessage.receiptHandle(
                        random: RequestID.make(), receivedAtMs: nowMs, seq: message.seq)
                    try markReceived.execute(arguments: [nowMs, visibleAt, message.receiptHandle, message.seq])
                    received.append(message)
                    receivedSeqs.insert(message.seq)
                }
                // Only messages moved to the dead-letter queue leave room to look again.
                if !movedAny || rows.count < wanted { break }
            }
            return received
        }
        return try received.map { try $0.message() }
    }

    package func delete(from queue: String, receiptHandles: [String]) async throws -> Int {
        guard !receiptHandles.isEmpty else { return 0 }
        return try writeNow { db in
            let statement = try db.cachedStatement(
                sql: "DELETE FROM message WHERE seq = ? AND queue = ? AND receipt_handle = ?")
            var deleted = 0
            for handle in receiptHandles {
                guard let seq = MessageRecord.seq(ofReceiptHandle: handle) else { continue }
                try statement.execute(arguments: [seq, queue, handle])
                deleted += db.changesCount
            }
            if deleted < receiptHandles.count, !(try QueueRecord.exists(queue, db)) {
                throw StoreError.queueDoesNotExist(queue)
            }
            return deleted
        }
    }

    package func changeVisibility(
        in queue: String, receiptHandle: String, timeoutMs: Int64, nowMs: Int64
    ) async throws -> VisibilityChange {
        try writeNow { db in
            if let seq = MessageRecord.seq(ofReceiptHandle: receiptHandle) {
                try db.cachedStatement(
                    sql: """
                        UPDATE message SET visible_at = ? WHERE seq = ? AND queue = ? AND receipt_handle = ?
                            AND visible_at > ?
                        """
                )
                .execute(arguments: [nowMs.saturatingAdd(timeoutMs), seq, queue, receiptHandle, nowMs])
                if db.changesCount > 0 { return .changed }
                let held = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM message WHERE seq = ? AND queue = ? AND receipt_handle = ?",
                    arguments: [seq, queue, receiptHandle])
                if held != nil { return .notInFlight }
            }
            guard try QueueRecord.exists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            return .unknownHandle
        }
    }

    package func returnUnprocessed(to queue: String, receiptHandles: [String], delayMs: Int64, nowMs: Int64)
        async throws
    {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE message SET visible_at = ?, receive_count = max(0, receive_count - 1), receipt_handle = NULL
                    WHERE seq = ? AND queue = ? AND receipt_handle = ?
                    """)
            for handle in receiptHandles {
                guard let seq = MessageRecord.seq(ofReceiptHandle: handle) else { continue }
                try statement.execute(arguments: [nowMs.saturatingAdd(delayMs), seq, queue, handle])
            }
        }
    }

    package func purge(_ queue: String) async throws -> Int {
        try await pool.write { db in
            guard try QueueRecord.exists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            return try MessageRecord.filter(MessageRecord.Columns.queue == queue).deleteAll(db)
        }
    }

    package func counts(of queue: String, nowMs: Int64) async throws -> QueueCounts {
        try await pool.read { db in
            guard try QueueRecord.exists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) FILTER (WHERE visible_at <= ?1) AS visible,
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count > 0) AS in_flight,
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count = 0) AS delayed
                    FROM message m JOIN queue q ON q.name = m.queue
                    WHERE m.queue = ?2 AND m.sent_at >= ?1 - q.retention_ms
                    """, arguments: [nowMs, queue])
            return QueueCounts(
                visible: row?["visible"] ?? 0, inFlight: row?["in_flight"] ?? 0, delayed: row?["delayed"] ?? 0)
        }
    }

    /// Every queue's counts in one read (queues without messages are absent).
    package func countsOfAllQueues(nowMs: Int64) async throws -> [String: QueueCounts] {
        try await pool.read { db in
            var counts: [String: QueueCounts] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT m.queue AS queue, count(*) FILTER (WHERE visible_at <= ?1) AS visible,
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count > 0) AS in_flight,
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count = 0) AS delayed
                    FROM message m JOIN queue q ON q.name = m.queue
                    WHERE m.sent_at >= ?1 - q.retention_ms GROUP BY m.queue
                    """, arguments: [nowMs])
            {
                counts[row["queue"]] = QueueCounts(
                    visible: row["visible"] ?? 0, inFlight: row["in_flight"] ?? 0, delayed: row["delayed"] ?? 0)
            }
            return counts
        }
    }

    package func hasFreeGroup(in queue: String, _ groups: Set<String>, nowMs: Int64) async throws -> Bool {
        try await pool.read { db in
            let busy = try db.cachedStatement(
                sql: """
                    SELECT 1 FROM message WHERE queue = ? AND group_id = ? AND visible_at > ? AND receive_count > 0
                    LIMIT 1
                    """)
            for group in groups where try Bool.fetchOne(busy, arguments: [queue, group, nowMs]) == nil {
                return true
            }
            return false
        }
    }

    /// The smallest `visible_at` after `ms` of the queue's messages: when the next one becomes visible again.
    package func nextVisibleAtMs(in queue: String, after ms: Int64) async throws -> Int64? {
        try await pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(visible_at) FROM message WHERE queue = ? AND visible_at > ?",
                arguments: [queue, ms])
        }
    }

    /// The smallest `visible_at` of the queue's messages: in the future when none is visible, at or before
    /// now when some is (so a poller that reads it never sleeps past a visible message); `nil` when empty.
    package func nextVisibleAtMs(in queue: String) async throws -> Int64? {
        try await pool.read { db in
            guard try QueueRecord.exists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            return try Int64.fetchOne(
                db, sql: "SELECT min(visible_at) FROM message WHERE queue = ?", arguments: [queue])
        }
    }

    /// Moves the dead-letter queue's oldest `limit` visible messages back as new messages, in the order they reached
    /// it: each gets a new id, goes after what the destination holds (a FIFO destination's next sequence numbers), visible now,
    /// its receive count and sent time starting again (SQS's redrive); those in flight stay with their receiver.
    /// Without `target`, a message goes back to the queue it was moved from; messages sent to the dead-letter queue
    /// directly, or whose source queue is gone, stay.
    package func redrive(from deadLetterQueue: String, to target: String?, nowMs: Int64, limit: Int) async throws
        -> Int
    {
        try await pool.write { db in
            guard try QueueRecord.exists(deadLetterQueue, db) else {
                throw StoreError.queueDoesNotExist(deadLetterQueue)
            }
            if let target, try !QueueRecord.exists(target, db) { throw StoreError.queueDoesNotExist(target) }
            let moving = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, coalesce(?1, source_queue) AS destination FROM message
                    WHERE queue = ?2 AND visible_at <= ?3 AND (?1 IS NOT NULL OR source_queue IN (SELECT name FROM queue))
                    ORDER BY seq LIMIT ?4
                    """, arguments: [target, deadLetterQueue, nowMs, Swift.max(0, limit)]
            ).map { (seq: $0["seq"] as Int64, destination: $0["destination"] as String) }
            let copy = try db.cachedStatement(
                sql: """
                    INSERT INTO message (id, queue, body, attributes, sent_at, visible_at, group_id, dedup_id, sequence)
                    SELECT ?1, ?2, body, attributes, ?3, ?3, group_id, dedup_id, ?4 FROM message WHERE seq = ?5
                    """)
            let delete = try db.cachedStatement(sql: "DELETE FROM message WHERE seq = ?")
            for message in moving {
                let sequence = try NewMessage.nextSequence(of: message.destination, db)
                try copy.execute(arguments: [RequestID.make(), message.destination, nowMs, sequence, message.seq])
                try delete.execute(arguments: [message.seq])
            }
            return moving.count
        }
    }

    package func expireMessages(nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND sent_at < ?")
            var deleted = 0
            for queue in try QueueRecord.fetchAll(db) {
                try statement.execute(arguments: [queue.name, nowMs.saturatingSubtract(queue.retentionMs)])
                deleted += db.changesCount
            }
            try db.execute(sql: "DELETE FROM fifo_dedup WHERE expires_at <= ?", arguments: [nowMs])
            return deleted
        }
    }

    /// Moves one message to a dead-letter queue: same id, visible now, source remembered, its receive count and first
    /// receive kept (as SQS: a dead-lettered message shows how often it was received before). Into a FIFO
    /// dead-letter queue it is enqueued anew, as SQS does: after what the queue holds, with its next sequence
    /// number, its retention starting again, and its message id as deduplication id (so that two messages that
    /// shared one are both kept).
    static func moveToDeadLetterQueue(
        seq: Int64, from queue: String, to deadLetterQueue: String, nowMs: Int64, _ db: Database
    ) throws {
        guard let sequence = try NewMessage.nextSequence(of: deadLetterQueue, db) else {
            try db.cachedStatement(
                sql: """
                    UPDATE message SET queue = ?, source_queue = ?, receipt_handle = NULL, visible_at = ?
                    WHERE seq = ?
                    """
            ).execute(arguments: [deadLetterQueue, queue, nowMs, seq])
            return
        }
        try db.cachedStatement(
            sql: """
                UPDATE message SET queue = ?, source_queue = ?, receipt_handle = NULL, visible_at = ?, sent_at = ?,
                    dedup_id = id, sequence = ?, seq = (SELECT max(seq) FROM message) + 1
                WHERE seq = ?
                """
        ).execute(arguments: [deadLetterQueue, queue, nowMs, nowMs, sequence, seq])
    }
}
