import Foundation
import GRDB
import StratusCore

/// A row of `message`. Attributes are kept as their JSON text and decoded off the writer.
struct MessageRecord: FetchableRecord, TableRecord, Sendable {
    static let databaseTableName = "message"

    enum Columns {
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
    }

    var seq: Int64
    var id: String
    var queue: String
    var body: String
    var attributes: String?
    var sentAtMs: Int64
    var firstReceivedAtMs: Int64?
    var receiveCount: Int
    var receiptHandle: String?
    var sourceQueue: String?

    /// The key under which the attributes' JSON keeps the trace header: a name no message attribute may have.
    static let traceHeaderKey = "AWS.TraceHeader"

    init(row: Row) {
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
    }

    func message(decoder: JSONDecoder) throws -> QueueMessage {
        var decoded =
            try attributes.map { try decoder.decode([String: MessageAttribute].self, from: Data($0.utf8)) } ?? [:]
        let traceHeader = decoded.removeValue(forKey: Self.traceHeaderKey)?.stringValue
        var message = QueueMessage(
            id: id, queue: queue, body: body, attributes: decoded, sentAtMs: sentAtMs,
            firstReceivedAtMs: firstReceivedAtMs, receiveCount: receiveCount, receiptHandle: receiptHandle)
        message.traceHeader = traceHeader
        message.sourceQueue = sourceQueue
        return message
    }

    /// The row id a receipt handle (`<random>.<seq>`) names, or `nil` for a handle this store never made.
    static func seq(ofReceiptHandle handle: String) -> Int64? {
        guard let dot = handle.utf8.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        return Int64(handle[handle.index(after: dot)...])
    }
}

/// A message to insert: its attributes already encoded, off the writer.
struct NewMessage: Sendable {
    var body: String
    var attributes: String?
    var delayMs: Int64?

    static func encode(_ messages: [OutgoingMessage]) throws -> [NewMessage] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try messages.map { message in
            var stored = message.attributes
            if let trace = message.traceHeader {
                stored[MessageRecord.traceHeaderKey] = MessageAttribute(dataType: "String", stringValue: trace)
            }
            let attributes = stored.isEmpty ? nil : String(decoding: try encoder.encode(stored), as: UTF8.self)
            return NewMessage(body: message.body, attributes: attributes, delayMs: message.delayMs)
        }
    }

    /// Inserts messages into `queue` on the writer; throws `QueueDoesNotExist` for an unknown queue.
    static func insert(_ messages: [NewMessage], into queue: String, nowMs: Int64, _ db: Database) throws -> [String] {
        let settings = try QueueRecord.find(queue, db)
        let statement = try db.cachedStatement(
            sql: "INSERT INTO message (id, queue, body, attributes, sent_at, visible_at) VALUES (?, ?, ?, ?, ?, ?)")
        var ids: [String] = []
        ids.reserveCapacity(messages.count)
        for message in messages {
            let id = RequestID.make()
            try statement.execute(arguments: [
                id, queue, message.body, message.attributes, nowMs,
                nowMs.saturatingAdd(message.delayMs ?? settings.delayMs),
            ])
            ids.append(id)
        }
        return ids
    }
}
