import Foundation
import GRDB
import StratusCore

/// The `Store` on one SQLite file in WAL mode, owned through a GRDB `DatabasePool`.
///
/// `synchronous = NORMAL`: in WAL mode a commit is durable against a process crash (the WAL is written
/// before the commit returns); only a power loss can roll back the last transactions.
package final class SQLiteStore: Store {
    let pool: DatabasePool

    /// Opens (creating if needed) the database at `path` and migrates it.
    package init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    // MARK: Invocation log

    package func append(_ records: [InvocationRecord]) async throws {
        guard !records.isEmpty else { return }
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: InvocationRow.insertSQL)
            for record in records { try insert.execute(arguments: InvocationRow(record).insertArguments) }
        }
    }

    package func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord] {
        let (request, newestFirst) = Self.request(
            InvocationRow.self, query, time: InvocationRow.Columns.startMs, withStatus: true)
        let records = try await pool.read { db in try request.fetchAll(db).map(\.record) }
        return newestFirst ? records.reversed() : records
    }

    package func append(events: [HostEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.write { db in
            for event in events { try HostEventRow(event).insert(db) }
        }
    }

    package func events(matching query: InvocationQuery) async throws -> [HostEvent] {
        let (request, newestFirst) = Self.request(
            HostEventRow.self, query, time: HostEventRow.Columns.timeMs, withStatus: false)
        let events = try await pool.read { db in try request.fetchAll(db).map(\.event) }
        return newestFirst ? events.reversed() : events
    }

    /// The newest `query.limit` rows matching the query, newest first; or with `afterSequence` the oldest
    /// after it, oldest first. Callers show them oldest first.
    private static func request<Row: FetchableRecord & TableRecord>(
        _ type: Row.Type, _ query: InvocationQuery, time: Column, withStatus: Bool
    ) -> (request: QueryInterfaceRequest<Row>, newestFirst: Bool) {
        let seq = Column("seq")
        var request = Row.all()
        if let function = query.function { request = request.filter(Column("function") == function) }
        if withStatus, let eventId = query.eventId { request = request.filter(Column("event_id") == eventId) }
        if withStatus, let id = query.id { request = request.filter(Column("id") == id) }
        if withStatus, let status = query.status { request = request.filter(Column("status") == status.rawValue) }
        if let since = query.since { request = request.filter(time >= epochMs(since)) }
        let limit = max(0, query.limit)
        if let after = query.afterSequence {
            // Paging forward (`logs --follow`): the oldest ones after the sequence, so none is skipped.
            return (request.filter(seq > after).order(seq.asc).limit(limit), false)
        }
        return (request.order(seq.desc).limit(limit), true)
    }

    package func pruneInvocations(olderThan cutoff: Date, keepPerFunction: Int) async throws -> Int {
        try await pool.write { db in
            var deleted = try InvocationRow.filter(InvocationRow.Columns.startMs < Self.epochMs(cutoff)).deleteAll(db)
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
            try HostEventRow.filter(HostEventRow.Columns.timeMs < Self.epochMs(cutoff)).deleteAll(db)
            return deleted
        }
    }

    /// Epoch milliseconds of `date`, pinned to ±10,000 years so that no date converts with a trap.
    package static func epochMs(_ date: Date) -> Int64 {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        guard ms.isFinite else { return 0 }
        return Int64(min(max(ms, -315_537_897_600_000), 315_537_897_600_000))
    }
}
