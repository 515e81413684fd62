import Foundation
import GRDB
import StratusCore

/// A store operation that failed for a reason the caller can act on: a queue or topic that does not exist,
/// or a record the store cannot read back.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable name for the kind of failure, e.g. `QueueDoesNotExist`; facades map it to their protocol's error.
    public struct Code: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
        public var rawValue: String

        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        public init(stringLiteral value: String) {
            rawValue = value
        }

        public var description: String { rawValue }

        /// A queue named by the call (or by a queue's dead-letter settings) was never created.
        public static let queueDoesNotExist: Code = "QueueDoesNotExist"
        /// A topic named by the call was never created.
        public static let topicDoesNotExist: Code = "TopicDoesNotExist"
        /// A stored row could not be turned back into its value (for example a filter policy the parser rejects).
        public static let invalidRecord: Code = "InvalidRecord"
    }

    public var code: Code
    /// What went wrong, naming the queue, topic or id.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// `<code>: <message>`.
    public var description: String { "\(code): \(message)" }

    static func queueDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .queueDoesNotExist, message: "The queue '\(name)' does not exist.")
    }

    static func topicDoesNotExist(_ name: String) -> StoreError {
        StoreError(code: .topicDoesNotExist, message: "The topic '\(name)' does not exist.")
    }
}

// MARK: - Schema

extension SQLiteStore {
    /// Registers the queue, message, topic, subscription and delivery tables.
    ///
    /// `message.seq` is the row id: receives order by `(visible_at, seq)` and a receipt handle ends with the
    /// seq, so deletes and visibility changes find their row by primary key and compare the whole handle.
    static func registerQueueMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3-queues") { db in
            try db.execute(
                sql: """
                    CREATE TABLE queue (
                        name TEXT PRIMARY KEY NOT NULL,
                        visibility_timeout_ms INTEGER NOT NULL,
                        max_receive_count INTEGER,
                        dead_letter_queue TEXT,
                        retention_ms INTEGER NOT NULL,
                        delay_ms INTEGER NOT NULL,
                        config TEXT NOT NULL
                    );
                    CREATE TABLE message (
                        seq INTEGER PRIMARY KEY,
                        id TEXT NOT NULL,
                        queue TEXT NOT NULL,
                        body TEXT NOT NULL,
                        attributes TEXT,
                        sent_at INTEGER NOT NULL,
                        visible_at INTEGER NOT NULL,
                        receive_count INTEGER NOT NULL DEFAULT 0,
                        first_received_at INTEGER,
                        receipt_handle TEXT,
                        source_queue TEXT
                    );
                    CREATE INDEX message_visible ON message(queue, visible_at, seq);
                    CREATE INDEX message_sent ON message(queue, sent_at);
                    """)
        }
        registerTopicMigrations(&migrator)
    }
}

// MARK: - Queues

/// The columns of a queue the hot paths need, read without decoding the JSON config.
struct QueueSettings {
    var visibilityTimeoutMs: Int64
    var maxReceiveCount: Int?
    var deadLetterQueue: String?
    var retentionMs: Int64
    var delayMs: Int64
}

extension SQLiteStore {
    public func putQueue(_ queue: QueueConfig) async throws {
        let config = String(decoding: try JSONEncoder().encode(queue), as: UTF8.self)
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO queue (name, visibility_timeout_ms, max_receive_count, dead_letter_queue, retention_ms,
                        delay_ms, config)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET visibility_timeout_ms = excluded.visibility_timeout_ms,
                        max_receive_count = excluded.max_receive_count, dead_letter_queue = excluded.dead_letter_queue,
                        retention_ms = excluded.retention_ms, delay_ms = excluded.delay_ms, config = excluded.config
                    """,
                arguments: [
                    queue.name, queue.visibilityTimeoutMs, queue.maxReceiveCount, queue.deadLetterQueue,
                    queue.retentionMs, queue.delayMs, config,
                ])
        }
    }

    public func queues() async throws -> [QueueConfig] {
        let configs = try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT config FROM queue ORDER BY name")
        }
        let decoder = JSONDecoder()
        return try configs.map { try decoder.decode(QueueConfig.self, from: Data($0.utf8)) }
    }

    public func send(_ messages: [OutgoingMessage], to queue: String, nowMs: Int64) async throws -> [String] {
        let rows = try Self.encode(messages)
        return try await pool.write { db in
            try Self.insert(rows, into: queue, nowMs: nowMs, db)
        }
    }

    public func receive(
        from queue: String, max: Int, visibilityTimeoutMs: Int64?, nowMs: Int64
    ) async throws -> [QueueMessage] {
        let candidates = try await pool.write { db -> [MessageRow] in
            let settings = try Self.settings(of: queue, db)
            try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND sent_at < ?")
                .execute(arguments: [queue, nowMs.saturatingSubtract(settings.retentionMs)])
            guard max > 0 else { return [] }
            var deadLetterQueue: String?
            if settings.maxReceiveCount != nil, let name = settings.deadLetterQueue, try Self.queueExists(name, db) {
                deadLetterQueue = name
            }
            let select = try db.cachedStatement(
                sql: """
                    SELECT seq, id, body, attributes, sent_at, first_received_at, receive_count FROM message
                    WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?
                    """)
            let markReceived = try db.cachedStatement(
                sql: """
                    UPDATE message SET receive_count = receive_count + 1,
                        first_received_at = coalesce(first_received_at, ?), visible_at = ?, receipt_handle = ?
                    WHERE seq = ?
                    """)
            let visibleAt = nowMs.saturatingAdd(visibilityTimeoutMs ?? settings.visibilityTimeoutMs)
            var received: [MessageRow] = []
            var receivedSeqs: Set<Int64> = []
            while received.count < max {
                let wanted = max - received.count
                let rows = try Row.fetchAll(select, arguments: [queue, nowMs, wanted]).map(MessageRow.init(row:))
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
                    let handle = RequestID.make() + "." + String(message.seq)
                    message.receiptHandle = handle
                    try markReceived.execute(arguments: [nowMs, visibleAt, handle, message.seq])
                    received.append(message)
                    receivedSeqs.insert(message.seq)
                }
                // Only messages moved to the dead-letter queue leave room to look again.
                if !movedAny || rows.count < wanted { break }
            }
            return received
        }
        let decoder = JSONDecoder()
        return try candidates.map { try $0.message(in: queue, decoder: decoder) }
    }

    public func delete(from queue: String, receiptHandles: [String]) async throws -> Int {
        guard !receiptHandles.isEmpty else { return 0 }
        return try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "DELETE FROM message WHERE seq = ? AND queue = ? AND receipt_handle = ?")
            var deleted = 0
            for handle in receiptHandles {
                guard let seq = Self.seq(ofReceiptHandle: handle) else { continue }
                try statement.execute(arguments: [seq, queue, handle])
                deleted += db.changesCount
            }
            if deleted < receiptHandles.count, !(try Self.queueExists(queue, db)) {
                throw StoreError.queueDoesNotExist(queue)
            }
            return deleted
        }
    }

    public func changeVisibility(
        in queue: String, receiptHandle: String, timeoutMs: Int64, nowMs: Int64
    ) async throws -> Bool {
        try await pool.write { db in
            if let seq = Self.seq(ofReceiptHandle: receiptHandle) {
                try db.cachedStatement(
                    sql: "UPDATE message SET visible_at = ? WHERE seq = ? AND queue = ? AND receipt_handle = ?"
                ).execute(arguments: [nowMs.saturatingAdd(timeoutMs), seq, queue, receiptHandle])
                if db.changesCount > 0 { return true }
            }
            guard try Self.queueExists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            return false
        }
    }

    public func returnUnprocessed(to queue: String, receiptHandles: [String], delayMs: Int64, nowMs: Int64) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE message SET visible_at = ?, receive_count = max(0, receive_count - 1), receipt_handle = NULL
                    WHERE seq = ? AND queue = ? AND receipt_handle = ?
                    """)
            for handle in receiptHandles {
                guard let seq = Self.seq(ofReceiptHandle: handle) else { continue }
                try statement.execute(arguments: [nowMs.saturatingAdd(delayMs), seq, queue, handle])
            }
        }
    }

    public func purge(_ queue: String) async throws -> Int {
        try await pool.write { db in
            guard try Self.queueExists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            try db.execute(sql: "DELETE FROM message WHERE queue = ?", arguments: [queue])
            return db.changesCount
        }
    }

    public func counts(of queue: String, nowMs: Int64) async throws -> QueueCounts {
        try await pool.read { db in
            guard try Self.queueExists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(*) FILTER (WHERE visible_at <= ?1),
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count > 0),
                        count(*) FILTER (WHERE visible_at > ?1 AND receive_count = 0)
                    FROM message WHERE queue = ?2
                    """, arguments: [nowMs, queue])
            return QueueCounts(visible: row?[0] ?? 0, inFlight: row?[1] ?? 0, delayed: row?[2] ?? 0)
        }
    }

    /// The smallest `visible_at` of the queue's messages: in the future when none is visible, at or before
    /// now when some is (so a poller that reads it never sleeps past a visible message); `nil` when empty.
    public func nextVisibleAtMs(in queue: String) async throws -> Int64? {
        try await pool.read { db in
            guard try Self.queueExists(queue, db) else { throw StoreError.queueDoesNotExist(queue) }
            return try Int64.fetchOne(
                db, sql: "SELECT min(visible_at) FROM message WHERE queue = ?", arguments: [queue])
        }
    }

    /// Moves the dead-letter queue's messages back, visible now, with receive counts and sent times starting
    /// again (SQS's redrive creates new messages). Without `target`, a message goes back to the queue it was
    /// moved from; messages sent to the dead-letter queue directly, or whose source queue is gone, stay.
    public func redrive(from deadLetterQueue: String, to target: String?, nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            guard try Self.queueExists(deadLetterQueue, db) else {
                throw StoreError.queueDoesNotExist(deadLetterQueue)
            }
            let reset = """
                receive_count = 0, first_received_at = NULL, receipt_handle = NULL, source_queue = NULL,
                visible_at = ?, sent_at = ?
                """
            if let target {
                guard try Self.queueExists(target, db) else { throw StoreError.queueDoesNotExist(target) }
                try db.execute(
                    sql: "UPDATE message SET queue = ?, \(reset) WHERE queue = ?",
                    arguments: [target, nowMs, nowMs, deadLetterQueue])
            } else {
                try db.execute(
                    sql: """
                        UPDATE message SET queue = source_queue, \(reset)
                        WHERE queue = ? AND source_queue IN (SELECT name FROM queue)
                        """, arguments: [nowMs, nowMs, deadLetterQueue])
            }
            return db.changesCount
        }
    }

    public func expireMessages(nowMs: Int64) async throws -> Int {
        try await pool.write { db in
            let queues = try Row.fetchAll(db, sql: "SELECT name, retention_ms FROM queue").map {
                (name: $0[0] as String, retentionMs: $0[1] as Int64)
            }
            let statement = try db.cachedStatement(sql: "DELETE FROM message WHERE queue = ? AND sent_at < ?")
            var deleted = 0
            for queue in queues {
                try statement.execute(arguments: [queue.name, nowMs.saturatingSubtract(queue.retentionMs)])
                deleted += db.changesCount
            }
            return deleted
        }
    }
}

// MARK: - Shared helpers (also used by topics)

extension SQLiteStore {
    /// An outgoing message with its attributes already encoded, ready to insert on the writer.
    struct EncodedMessage: Sendable {
        var body: String
        var attributes: String?
        var delayMs: Int64?
    }

    static func encode(_ messages: [OutgoingMessage]) throws -> [EncodedMessage] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try messages.map { message in
            let attributes =
                message.attributes.isEmpty
                ? nil : String(decoding: try encoder.encode(message.attributes), as: UTF8.self)
            return EncodedMessage(body: message.body, attributes: attributes, delayMs: message.delayMs)
        }
    }

    /// Inserts messages into `queue` on the writer; throws `QueueDoesNotExist` for an unknown queue.
    static func insert(_ messages: [EncodedMessage], into queue: String, nowMs: Int64, _ db: Database) throws
        -> [String]
    {
        let settings = try settings(of: queue, db)
        let statement = try db.cachedStatement(
            sql: "INSERT INTO message (id, queue, body, attributes, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)")
        var ids: [String] = []
        ids.reserveCapacity(messages.count)
        for message in messages {
            let id = RequestID.make()
            try statement.execute(arguments: [
                id, queue, message.body, message.attributes, nowMs, nowMs.saturatingAdd(message.delayMs ?? settings.delayMs),
            ])
            ids.append(id)
        }
        return ids
    }

    static func settings(of queue: String, _ db: Database) throws -> QueueSettings {
        let statement = try db.cachedStatement(
            sql: """
                SELECT visibility_timeout_ms, max_receive_count, dead_letter_queue, retention_ms, delay_ms
                FROM queue WHERE name = ?
                """)
        guard let row = try Row.fetchOne(statement, arguments: [queue]) else {
            throw StoreError.queueDoesNotExist(queue)
        }
        return QueueSettings(
            visibilityTimeoutMs: row[0], maxReceiveCount: row[1], deadLetterQueue: row[2], retentionMs: row[3],
            delayMs: row[4])
    }

    static func queueExists(_ queue: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM queue WHERE name = ?"), arguments: [queue]) ?? false
    }

    /// Moves one message to a dead-letter queue: same id, visible now, receive count reset, source remembered.
    static func moveToDeadLetterQueue(
        seq: Int64, from queue: String, to deadLetterQueue: String, nowMs: Int64, _ db: Database
    ) throws {
        try db.cachedStatement(
            sql: """
                UPDATE message SET queue = ?, source_queue = ?, receive_count = 0, first_received_at = NULL,
                    receipt_handle = NULL, visible_at = ?
                WHERE seq = ?
                """
        ).execute(arguments: [deadLetterQueue, queue, nowMs, seq])
    }

    /// The row id a receipt handle (`<random>.<seq>`) names, or `nil` for a handle this store never made.
    static func seq(ofReceiptHandle handle: String) -> Int64? {
        guard let dot = handle.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return Int64(handle[handle.index(after: dot)...])
    }
}

/// A message row read on the writer, turned into a `QueueMessage` (decoding attributes) off it.
struct MessageRow: Sendable {
    var seq: Int64
    var id: String
    var body: String
    var attributes: String?
    var sentAtMs: Int64
    var firstReceivedAtMs: Int64?
    var receiveCount: Int
    var receiptHandle: String?

    init(row: Row) {
        seq = row[0]
        id = row[1]
        body = row[2]
        attributes = row[3]
        sentAtMs = row[4]
        firstReceivedAtMs = row[5]
        receiveCount = row[6]
    }

    func message(in queue: String, decoder: JSONDecoder) throws -> QueueMessage {
        let decoded = try attributes.map { try decoder.decode([String: MessageAttribute].self, from: Data($0.utf8)) }
        return QueueMessage(
            id: id, queue: queue, body: body, attributes: decoded ?? [:], sentAtMs: sentAtMs,
            firstReceivedAtMs: firstReceivedAtMs, receiveCount: receiveCount, receiptHandle: receiptHandle)
    }
}
