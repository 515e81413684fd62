import Foundation
import GRDB
import StratusCore

/// A row of `invocation`.
struct InvocationRow: FetchableRecord, TableRecord {
    static let databaseTableName = "invocation"

    enum Columns {
        static let seq = Column("seq")
        static let id = Column("id")
        static let function = Column("function")
        static let version = Column("version")
        static let trigger = Column("trigger")
        static let source = Column("source")
        static let attempt = Column("attempt")
        static let startMs = Column("start_ms")
        static let durationMs = Column("duration_ms")
        static let initDurationMs = Column("init_duration_ms")
        static let status = Column("status")
        static let errorType = Column("error_type")
        static let errorMessage = Column("error_message")
        static let memorySizeMB = Column("memory_size_mb")
        static let maxMemoryUsedMB = Column("max_memory_used_mb")
        static let output = Column("output")
        static let eventId = Column("event_id")
        static let revision = Column("revision")
    }

    var record: InvocationRecord

    init(_ record: InvocationRecord) {
        self.record = record
    }

    init(row: Row) {
        record = InvocationRecord(
            id: row[Columns.id], function: row[Columns.function], version: row[Columns.version],
            trigger: InvocationRecord.Trigger(rawValue: row[Columns.trigger]) ?? .cli, source: row[Columns.source],
            attempt: row[Columns.attempt],
            start: Date(timeIntervalSince1970: Double(row[Columns.startMs] as Int64) / 1000),
            durationMs: row[Columns.durationMs], initDurationMs: row[Columns.initDurationMs],
            status: InvocationRecord.Status(rawValue: row[Columns.status]) ?? .error,
            errorType: row[Columns.errorType], errorMessage: row[Columns.errorMessage],
            memorySizeMB: row[Columns.memorySizeMB], maxMemoryUsedMB: row[Columns.maxMemoryUsedMB],
            output: row[Columns.output])
        record.sequence = row[Columns.seq]
        record.eventId = row[Columns.eventId]
        record.revision = row[Columns.revision]
    }

    /// The write-behind log's insert, one cached statement for every row: a record insert would build its SQL
    /// and a container per row, which the log pays for every invocation.
    static let insertSQL = """
        INSERT INTO invocation (id, function, version, trigger, source, attempt, start_ms, duration_ms,
            init_duration_ms, status, error_type, error_message, memory_size_mb, max_memory_used_mb, output, event_id,
            revision)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// The values of `insertSQL`, in its order.
    var insertArguments: StatementArguments {
        [
            record.id, record.function, record.version, record.trigger.rawValue, record.source, record.attempt,
            SQLiteStore.epochMs(record.start), record.durationMs, record.initDurationMs, record.status.rawValue,
            record.errorType, record.errorMessage, record.memorySizeMB, record.maxMemoryUsedMB, record.output,
            record.eventId, record.revision,
        ]
    }
}

/// A row of `host_event`.
struct HostEventRow: FetchableRecord, PersistableRecord {
    static let databaseTableName = "host_event"

    enum Columns {
        static let seq = Column("seq")
        static let timeMs = Column("time_ms")
        static let function = Column("function")
        static let kind = Column("kind")
        static let message = Column("message")
    }

    var event: HostEvent

    init(_ event: HostEvent) {
        self.event = event
    }

    init(row: Row) {
        event = HostEvent(
            time: Date(timeIntervalSince1970: Double(row[Columns.timeMs] as Int64) / 1000),
            function: row[Columns.function],
            kind: HostEvent.Kind(rawValue: row[Columns.kind]) ?? .scaleUp, message: row[Columns.message])
        event.sequence = row[Columns.seq]
    }

    func encode(to container: inout PersistenceContainer) {
        container[Columns.timeMs] = SQLiteStore.epochMs(event.time)
        container[Columns.function] = event.function
        container[Columns.kind] = event.kind.rawValue
        container[Columns.message] = event.message
    }
}
