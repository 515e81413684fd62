import Foundation
import GRDB
import StratusCore

/// A row of `message`. Attributes are kept as their JSON text and decoded off the writer.
package struct MessageRecord: FetchableRecord, TableRecord, Sendable {
    package static let databaseTableName = "message"

    package enum Columns {
        static let seq = Column("seq")
        static let id = Column("id")
        static let queue = Column("queue")
        static let body = Column("body")
        static let attributes = Column("attributes")
        static let sentAt = Column("sent_at")
        static let visibleAt = Column("visible_at")
        static let receiveCount = Column("receive_count")
        static let firstReceivedAt = Column("first_received_at")
        static let receiptHandle = Column("receipt_handle")
        static let sourceQueue = Column("source_queue")
        static let groupId = Column("group_id")
        static let deduplicationId = Column("dedup_id")
        static let sequence = Column("sequence")
    }

    package var seq: Int64
    package var id: String
    package var queue: String
    package var body: String
    package var attributes: String?
    package var sentAtMs: Int64
    package var firstReceivedAtMs: Int64?
    package var receiveCount: Int
    package var receiptHandle: String?
    package var sourceQueue: String?
    package var groupId: String?
    package var deduplicationId: String?
    package var sequence: Int64?

    package init(
        seq: Int64, id: String, queue: String, body: String, attributes: String?, sentAtMs: Int64,
        firstReceivedAtMs: Int64?, receiveCount: Int, receiptHandle: String?, sourceQueue: String?, groupId: String?,
        deduplicationId: String?, sequence: Int64?
    ) {
        self.seq = seq
        self.id = id
        self.queue = queue
        self.body = body
        self.attributes = attributes
        self.sentAtMs = sentAtMs
        self.firstReceivedAtMs = firstReceivedAtMs
        self.receiveCount = receiveCount
        self.receiptHandle = receiptHandle
        self.sourceQueue = sourceQueue
        self.groupId = groupId
        self.deduplicationId = deduplicationId
        self.sequence = sequence
    }

    /// The key under which the attributes' JSON keeps the trace header: a name no message attribute may have.
    static let traceHeaderKey = "AWS.TraceHeader"

    package init(row: Row) {
        seq = row[Columns.seq]
        id = row[Columns.id]
        queue = row[Columns.queue]
        body = row[Columns.body]
        attributes = row[Columns.attributes]
        sentAtMs = row[Columns.sentAt]
        firstReceivedAtMs = row[Columns.firstReceivedAt]
        receiveCount = row[Columns.receiveCount]
        receiptHandle = row[Columns.receiptHandle]
        sourceQueue = row[Columns.sourceQueue]
        groupId = row[Columns.groupId]
        deduplicationId = row[Columns.deduplicationId]
        sequence = row[Columns.sequence]
    }

    package func message() throws -> QueueMessage {
        var decoded = try attributes.map(Self.decodeAttributes) ?? [:]
        let traceHeader = decoded.removeValue(forKey: Self.traceHeaderKey)?.stringValue
        var message = QueueMessage(
            id: id, queue: queue, body: body, attributes: decoded, sentAtMs: sentAtMs,
            firstReceivedAtMs: firstReceivedAtMs, receiveCount: receiveCount, receiptHandle: receiptHandle)
        message.traceHeader = traceHeader
        message.sourceQueue = sourceQueue
        if let groupId {
            message.groupId = groupId
            message.deduplicationId = deduplicationId
            message.sequenceNumber = QueueMessage.sequenceNumber(sequence ?? seq)
        }
        return message
    }

    /// Attributes as `NewMessage.encode` writes them: `{"name":{"dataType":…,"stringValue":…}}`.
    static func decodeAttributes(_ text: String) throws -> [String: MessageAttribute] {
        guard let object = JSONValue.parseObject(text.utf8) else {
            throw StoreError(
                code: .invalidRecord, message: "Message attributes are not a JSON object: \(text.prefix(100))")
        }
        var attributes: [String: MessageAttribute] = [:]
        for (name, value) in object {
            guard case .object(let fields) = value, case .string(let type)? = fields["dataType"],
                case .string(let text)? = fields["stringValue"]
            else {
                throw StoreError(code: .invalidRecord, message: "Message attribute '\(name.prefix(100))' is malformed.")
            }
            attributes[name] = MessageAttribute(dataType: type, stringValue: text)
        }
        return attributes
    }

    /// The row id a receipt handle (`<random>.<seq>`) names, or `nil` for a handle this store never made.
    package static func seq(ofReceiptHandle handle: String) -> Int64? {
        guard let dot = handle.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return Int64(handle[handle.index(after: dot)...])
    }
}

/// A message to insert: its attributes already encoded, off the writer.
package struct NewMessage: Sendable {
    package var body: String
    package var attributes: String?
    package var delayMs: Int64?
    package var groupId: String?
    package var deduplicationId: String?
    /// The key the deduplication interval applies to (`OutgoingMessage.deduplicationKey`).
    package var deduplicationKey: String?

    package static func encode(_ messages: [OutgoingMessage]) throws -> [NewMessage] {
        messages.map { message in
            var stored = message.attributes
            if let trace = message.traceHeader {
                stored[MessageRecord.traceHeaderKey] = MessageAttribute(dataType: "String", stringValue: trace)
            }
            var attributes: String?
            if !stored.isEmpty {
                var json = JSONWriter()
                json.beginObject()
                for (name, attribute) in stored.sorted(by: { $0.key < $1.key }) {
                    json.key(name)
                    json.beginObject()
                    json.field("dataType", attribute.dataType)
                    json.field("stringValue", attribute.stringValue)
                    json.endObject()
                }
                json.endObject()
                attributes = String(decoding: json.bytes, as: UTF8.self)
            }
            return NewMessage(
                body: message.body, attributes: attributes, delayMs: message.delayMs, groupId: message.groupId,
                deduplicationId: message.deduplicationId,
                deduplicationKey: message.deduplicationKey ?? message.deduplicationId)
        }
    }

    /// Inserts messages into `queue` on the writer; throws `QueueDoesNotExist` for an unknown queue. In a FIFO
    /// queue a message whose deduplication id was sent in the last 5 minutes is not inserted again: its id
    /// is the first one's, as SQS answers.
    static func insert(_ messages: [NewMessage], into queue: String, nowMs: Int64, _ db: Database) throws
        -> [SentMessage]
    {
        let settings = try QueueRecord.find(queue, db)
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO message (id, queue, body, attributes, sent_at, visible_at, group_id, dedup_id, sequence)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let fifo = queue.hasSuffix(".fifo")
        var sent: [SentMessage] = []
        sent.reserveCapacity(messages.count)
        for message in messages {
            if fifo, let dedup = message.deduplicationKey {
                if let first = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT message_id, coalesce(sequence, (SELECT m.sequence FROM message m
                                WHERE m.queue = fifo_dedup.queue AND m.id = fifo_dedup.message_id)) AS sequence
                            FROM fifo_dedup WHERE queue = ? AND dedup_id = ? AND expires_at > ?
                            """),
                    arguments: [queue, dedup, nowMs])
                {
                    sent.append(SentMessage(id: first["message_id"], sequence: first["sequence"]))
                    continue
                }
            }
            let id = RequestID.make()
            let sequence = try nextSequence(of: queue, db)
            try statement.execute(arguments: [
                id, queue, message.body, message.attributes, nowMs,
                nowMs.saturatingAdd(message.delayMs ?? settings.delayMs), fifo ? message.groupId : nil,
                fifo ? message.deduplicationId : nil, sequence,
            ])
            if fifo, let dedup = message.deduplicationKey {
                try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO fifo_dedup (queue, dedup_id, message_id, expires_at, sequence)
                        VALUES (?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    queue, dedup, id, nowMs.saturatingAdd(QueueConfig.deduplicationIntervalMs), sequence,
                ])
            }
            sent.append(SentMessage(id: id, sequence: sequence))
        }
        return sent
    }

    /// The next sequence number of a FIFO queue (they grow and need not be consecutive); `nil` for a standard queue.
    static func nextSequence(of queue: String, _ db: Database) throws -> Int64? {
        guard queue.hasSuffix(".fifo") else { return nil }
        return try takeSequence(queue, db)
    }

    /// The next number of sequence `key` (a FIFO queue's name, or `FIFOPublish.key` of a FIFO topic).
    static func takeSequence(_ key: String, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO fifo_sequence (queue, last) VALUES (?, 1)
                    ON CONFLICT(queue) DO UPDATE SET last = last + 1 RETURNING last
                    """), arguments: [key]) ?? 1
    }
}
