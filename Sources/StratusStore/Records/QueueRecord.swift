import Foundation
import GRDB
import StratusCore

/// A row of `queue`: the settings the hot paths read as columns, and the whole `QueueConfig` (consumer
/// included) as JSON.
package struct QueueRecord: FetchableRecord, PersistableRecord {
    package static let databaseTableName = "queue"

    package enum Columns {
        static let name = Column("name")
        static let visibilityTimeoutMs = Column("visibility_timeout_ms")
        static let maxReceiveCount = Column("max_receive_count")
        static let deadLetterQueue = Column("dead_letter_queue")
        static let retentionMs = Column("retention_ms")
        static let delayMs = Column("delay_ms")
        static let config = Column("config")
    }

    package var name: String
    package var visibilityTimeoutMs: Int64
    package var maxReceiveCount: Int?
    package var deadLetterQueue: String?
    package var retentionMs: Int64
    package var delayMs: Int64
    package var config: String

    package init(_ queue: QueueConfig) throws {
        name = queue.name
        visibilityTimeoutMs = queue.visibilityTimeoutMs
        maxReceiveCount = queue.maxReceiveCount
        deadLetterQueue = queue.deadLetterQueue
        retentionMs = queue.retentionMs
        delayMs = queue.delayMs
        config = String(decoding: try JSONEncoder().encode(queue), as: UTF8.self)
    }

    package init(row: Row) {
        name = row[Columns.name]
        visibilityTimeoutMs = row[Columns.visibilityTimeoutMs]
        maxReceiveCount = row[Columns.maxReceiveCount]
        deadLetterQueue = row[Columns.deadLetterQueue]
        retentionMs = row[Columns.retentionMs]
        delayMs = row[Columns.delayMs]
        config = row[Columns.config]
    }

    package func encode(to container: inout PersistenceContainer) {
        container[Columns.name] = name
        container[Columns.visibilityTimeoutMs] = visibilityTimeoutMs
        container[Columns.maxReceiveCount] = maxReceiveCount
        container[Columns.deadLetterQueue] = deadLetterQueue
        container[Columns.retentionMs] = retentionMs
        container[Columns.delayMs] = delayMs
        container[Columns.config] = config
    }

    package func queueConfig() throws -> QueueConfig {
        do {
            return try JSONDecoder().decode(QueueConfig.self, from: Data(config.utf8))
        } catch {
            throw StoreError(
                code: .invalidRecord, message: "Queue '\(name)' has settings that no longer decode.", underlying: error)
        }
    }

    /// The settings of `queue`; throws `QueueDoesNotExist` for an unknown queue.
    static func find(_ queue: String, _ db: Database) throws -> QueueRecord {
        let statement = try db.cachedStatement(sql: "SELECT * FROM queue WHERE name = ?")
        guard let record = try QueueRecord.fetchOne(statement, arguments: [queue]) else {
            throw StoreError.queueDoesNotExist(queue)
        }
        return record
    }

    static func exists(_ queue: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM queue WHERE name = ?"), arguments: [queue]) ?? false
    }
}
