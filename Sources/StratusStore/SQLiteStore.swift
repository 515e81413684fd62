import Foundation
import GRDB
import StratusCore

/// The `Store` on one SQLite file in WAL mode, owned through a GRDB `DatabasePool`.
///
/// `synchronous = NORMAL`: in WAL mode a commit is durable against a process crash (the WAL is written
/// before the commit returns); only a power loss can roll back the last transactions.
public final class SQLiteStore: Store {
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-invocations") { db in
            try db.execute(
                sql: """
                    CREATE TABLE invocation (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL,
                        function TEXT NOT NULL,
                        version TEXT NOT NULL,
                        trigger TEXT NOT NULL,
                        source TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        start_ms INTEGER NOT NULL,
                        duration_ms REAL NOT NULL,
                        init_duration_ms REAL,
                        status TEXT NOT NULL,
                        error_type TEXT,
                        error_message TEXT,
                        memory_size_mb INTEGER NOT NULL,
                        max_memory_used_mb INTEGER NOT NULL,
                        output TEXT NOT NULL
                    );
                    CREATE INDEX invocation_function ON invocation(function, seq);
                    CREATE INDEX invocation_start ON invocation(start_ms);
                    CREATE INDEX invocation_id ON invocation(id);
                    """)
        }
        migrator.registerMigration("v2-events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE host_event (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        time_ms INTEGER NOT NULL,
                        function TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        message TEXT NOT NULL
                    );
                    CREATE INDEX host_event_time ON host_event(time_ms);
                    """)
        }
        registerQueueMigrations(&migrator)
        migrator.registerMigration("v5-invocation-event") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN event_id TEXT")
            try db.execute(sql: "CREATE INDEX invocation_event ON invocation(event_id)")
        }
        return migrator
    }

    public func append(events: [HostEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT INTO host_event (time_ms, function, kind, message) VALUES (?, ?, ?, ?)")
            for event in events {
                try statement.execute(arguments: [
                    Self.epochMs(event.time), event.function, event.kind.rawValue,
                    event.message,
                ])
            }
        }
    }

    public func events(matching query: InvocationQuery) async throws -> [HostEvent] {
        let (sql, arguments) = Self.select(from: "host_event", timeColumn: "time_ms", query, withStatus: false)
        let events = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row -> HostEvent in
                var event = HostEvent(
                    time: Date(timeIntervalSince1970: Double(row["time_ms"] as Int64) / 1000), function: row["function"],
                    kind: HostEvent.Kind(rawValue: row["kind"]) ?? .scaleUp, message: row["message"])
                event.sequence = row["seq"]
                return event
            }
        }
        return events.reversed()
    }

    public func append(_ records: [InvocationRecord]) async throws {
        guard !records.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO invocation (id, function, version, trigger, source, attempt, start_ms, duration_ms,
                        init_duration_ms, status, error_type, error_message, memory_size_mb, max_memory_used_mb, output,
                        event_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for r in records {
                try statement.execute(arguments: [
                    r.id, r.function, r.version, r.trigger, r.source, r.attempt,
                    Self.epochMs(r.start), r.durationMs, r.initDurationMs,
                    r.status.rawValue, r.errorType, r.errorMessage, r.memorySizeMB, r.maxMemoryUsedMB, r.output, r.eventId,
                ])
            }
        }
    }

    public func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord] {
        let (sql, arguments) = Self.select(from: "invocation", timeColumn: "start_ms", query, withStatus: true)
        let records = try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.record(from:))
        }
        return records.reversed()
    }

    /// The newest `query.limit` rows of `table` matching the query (with `afterSequence`, the oldest after it),
    /// newest first.
    private static func select(
        from table: String, timeColumn: String, _ query: InvocationQuery, withStatus: Bool
    ) -> (String, [DatabaseValue]) {
        var conditions: [String] = []
        var values: [DatabaseValue] = []
        if let function = query.function {
            conditions.append("function = ?")
            values.append(function.databaseValue)
        }
        if withStatus, let eventId = query.eventId {
            conditions.append("event_id = ?")
            values.append(eventId.databaseValue)
        }
        if withStatus, let status = query.status {
            conditions.append("status = ?")
            values.append(status.rawValue.databaseValue)
        }
        if let since = query.since {
            conditions.append("\(timeColumn) >= ?")
            values.append(Self.epochMs(since).databaseValue)
        }
        if let after = query.afterSequence {
            conditions.append("seq > ?")
            values.append(after.databaseValue)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(0, query.limit)
        if query.afterSequence != nil {
            // Paging forward (`logs --follow`): the oldest ones after the sequence, so none is skipped.
            return ("SELECT * FROM (SELECT * FROM \(table) \(whereClause) ORDER BY seq ASC LIMIT \(limit)) ORDER BY seq DESC", values)
        }
        return ("SELECT * FROM \(table) \(whereClause) ORDER BY seq DESC LIMIT \(limit)", values)
    }

    public func pruneInvocations(olderThan cutoff: Date, keepPerFunction: Int) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM invocation WHERE start_ms < ?", arguments: [Self.epochMs(cutoff)])
            var deleted = db.changesCount
            // Per function, through the (function, seq) index: everything older than its newest `keepPerFunction`.
            let functions = try String.fetchAll(db, sql: "SELECT DISTINCT function FROM invocation")
            let statement = try db.cachedStatement(
                sql: """
                    DELETE FROM invocation WHERE function = ?1 AND seq <= (
                        SELECT seq FROM invocation WHERE function = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)
                    """)
            for function in functions {
                try statement.execute(arguments: [function, keepPerFunction])
                deleted += db.changesCount
            }
            try db.execute(sql: "DELETE FROM host_event WHERE time_ms < ?", arguments: [Self.epochMs(cutoff)])
            return deleted
        }
    }

    /// Epoch milliseconds of `date`, pinned to ±10,000 years so that no date converts with a trap.
    static func epochMs(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite else { return 0 }
        return Int64(min(max(ms, -315_537_897_600_000), 315_537_897_600_000))
    }

    private static func record(from row: Row) -> InvocationRecord {
        var record = InvocationRecord(
            id: row["id"], function: row["function"], version: row["version"], trigger: row["trigger"],
            source: row["source"], attempt: row["attempt"],
            start: Date(timeIntervalSince1970: Double(row["start_ms"] as Int64) / 1000),
            durationMs: row["duration_ms"], initDurationMs: row["init_duration_ms"],
            status: InvocationRecord.Status(rawValue: row["status"]) ?? .error,
            errorType: row["error_type"], errorMessage: row["error_message"],
            memorySizeMB: row["memory_size_mb"], maxMemoryUsedMB: row["max_memory_used_mb"], output: row["output"])
        record.sequence = row["seq"]
        record.eventId = row["event_id"]
        return record
    }
}
