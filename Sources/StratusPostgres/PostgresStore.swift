import Foundation
import Logging
import PostgresNIO
import StratusCore
import StratusStore
import Synchronization

/// The `Store` on PostgreSQL, for several hosts on one database.
///
/// Every host reads and writes the same rows: queues are received with `FOR UPDATE SKIP LOCKED`, so two hosts
/// never hand out one message; a publish commits its fan-out in one transaction; deliveries are leased to the
/// host that runs them (`lease_owner`, `lease_until`), renewed by its heartbeat and taken over by another host
/// when it stops. Writes that other hosts must hear of send a notification on the `stratus` channel, which
/// `changes()` turns into wake-ups.
package final class PostgresStore: Store, Sendable {
    package let client: PostgresClient
    /// This host's name in leases, heartbeats and notifications.
    package let hostId: String
    /// How long a delivery stays leased to a host that stopped renewing it.
    package let leaseMs: Int64
    /// How long a call waits for a connection before it answers that the database is unavailable (the pool
    /// keeps trying to connect meanwhile; its own circuit breaker would wait a minute).
    let connectionWait: Duration
    let connectionConfiguration: PostgresConnection.Configuration
    let logger: Logger
    private let runner: Task<Void, Never>
    /// The other hosts alive (at the last heartbeat, and those that joined or left since), and a counter to hand
    /// unclaimed messages to them in turn.
    let peers = Mutex<(hosts: [String], next: Int)>(([], 0))

    /// Connects to `url` (`postgres://user:password@host:port/database`, `?host=/socket/dir` for a Unix socket,
    /// `?sslmode=disable|prefer|require`) and brings the schema up to date.
    package static func open(
        url: String, hostId: String, leaseMs: Int64 = 15_000, connectionWait: Duration = .seconds(10), logger: Logger
    ) async throws -> PostgresStore {
        let store = try PostgresStore(
            url: url, hostId: hostId, leaseMs: leaseMs, connectionWait: connectionWait, logger: logger)
        do {
            try await store.migrate()
        } catch let error as PSQLError {
            store.close()
            throw StoreError(
                code: isUnavailable(error) ? .unavailable : "DatabaseError",
                message: "PostgreSQL at \(url.prefix(200)): \(describe(error))", underlying: error)
        } catch {
            store.close()
            throw error
        }
        return store
    }

    init(url: String, hostId: String, leaseMs: Int64, connectionWait: Duration, logger: Logger) throws {
        self.connectionWait = connectionWait
        let endpoint = try Endpoint(url: url)
        connectionConfiguration = try endpoint.connection
        client = PostgresClient(configuration: endpoint.client, backgroundLogger: logger)
        self.hostId = hostId
        self.leaseMs = leaseMs
        self.logger = logger
        runner = Task { [client] in await client.run() }
    }

    deinit { runner.cancel() }

    /// Stops the connection pool; calls in flight fail.
    package func close() { runner.cancel() }

    /// What a `postgres://` URL names.
    struct Endpoint {
        var user: String
        var password: String?
        var database: String
        /// `host:port`, or the Unix socket's path.
        var host: String?
        var port: Int
        var socket: String?
        var tls: String

        init(url: String) throws {
            func bad(_ why: String) -> StoreError {
                StoreError(code: "InvalidStoreURL", message: "--store \(url.prefix(200)): \(why)")
            }
            guard let components = URLComponents(string: url), let scheme = components.scheme,
                ["postgres", "postgresql"].contains(scheme.lowercased())
            else { throw bad("expected postgres://user[:password]@host[:port]/database") }
            let query = Dictionary(
                (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            user = components.user.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
            password = components.password.flatMap { $0.removingPercentEncoding } ?? query["password"]
            database = String(components.path.drop(while: { $0 == "/" }))
            if database.isEmpty { database = query["dbname"] ?? user }
            port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
            guard (1...65_535).contains(port) else { throw bad("the port must be between 1 and 65535") }
            tls = query["sslmode"] ?? "prefer"
            guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(tls) else {
                throw bad("unknown sslmode '\(tls.prefix(40))' (expected disable, prefer or require)")
            }
            if let directory = query["host"], directory.hasPrefix("/") {
                socket = directory + "/.s.PGSQL.\(port)"
            } else {
                guard let host = components.host, !host.isEmpty else { throw bad("the URL names no host") }
                self.host = host
            }
        }

        /// Set on every session: the server drops the session of a host that vanished without closing it (cut off,
        /// frozen) within ~11 s, and a transaction left open by one within 30 s, so that its row locks do not
        /// hold the other hosts up.
        static let sessionSettings = [
            ("tcp_keepalives_idle", "5"), ("tcp_keepalives_interval", "2"), ("tcp_keepalives_count", "3"),
            ("idle_in_transaction_session_timeout", "30000"),
        ]

        var client: PostgresClient.Configuration {
            var configuration: PostgresClient.Configuration
            if let socket {
                configuration = .init(unixSocketPath: socket, username: user, password: password, database: database)
            } else {
                let tls: PostgresClient.Configuration.TLS =
                    switch self.tls {
                    case "disable": .disable
                    case "require", "verify-ca", "verify-full": .require(.makeClientConfiguration())
                    default: .prefer(.makeClientConfiguration())
                    }
                configuration = .init(
                    host: host ?? "localhost", port: port, username: user, password: password, database: database,
                    tls: tls)
            }
            configuration.options.connectTimeout = .seconds(5)
            configuration.options.additionalStartupParameters = Self.sessionSettings
            configuration.options.maximumConnections = 16
            configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
            return configuration
        }

        var connection: PostgresConnection.Configuration {
            get throws {
                var configuration: PostgresConnection.Configuration
                if let socket {
                    configuration = .init(
                        unixSocketPath: socket, username: user, password: password, database: database)
                } else {
                    let tls: PostgresConnection.Configuration.TLS =
                        switch self.tls {
                        case "disable": .disable
                        case "require", "verify-ca", "verify-full":
                            .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                        default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                        }
                    configuration = .init(
                        host: host ?? "localhost", port: port, username: user, password: password,
                        database: database, tls: tls)
                }
                configuration.options.connectTimeout = .seconds(5)
                configuration.options.additionalStartupParameters = Self.sessionSettings
                return configuration
            }
        }
    }

    // MARK: Running statements

    /// Runs `query` and collects its rows; an unreachable database is `StoreError.unavailable`.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { connection in try await connection.query(query, logger: self.logger).collect() }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        try await withConnection { connection in
            _ = try await connection.query("BEGIN", logger: self.logger)
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT", logger: self.logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: self.logger)
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection. A call that gets no connection within `connectionWait` fails with
    /// `StoreError.unavailable`; once it has one, it runs to its end.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T)
        async throws -> T
    {
        let leased = LeaseFlag()
        return try await mapped {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await self.client.withConnection { connection in
                        leased.set()
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: self.connectionWait)
                    guard leased.isSet else { return nil }
                    // Leased in time: the call takes as long as it takes (cancelled when it ends).
                    while true { try await Task.sleep(for: .seconds(3600)) }
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let value = first else {
                    throw StoreError(
                        code: .unavailable,
                        message: "The database cannot be reached: no connection within \(self.connectionWait).")
                }
                return value
            }
        }
    }

    /// `body`, with the errors of a database that cannot be reached turned into `StoreError.unavailable`.
    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            // PSQLError's own description hides the server's message: say what went wrong.
            throw Self.storeError(error)
        }
    }

    static func storeError(_ error: PSQLError) -> StoreError {
        isUnavailable(error)
            ? StoreError(
                code: .unavailable, message: "The database cannot be reached: \(describe(error))", underlying: error)
            : StoreError(code: "DatabaseError", message: "PostgreSQL: \(describe(error))", underlying: error)
    }

    static func isUnavailable(_ error: PSQLError) -> Bool {
        switch error.code {
        case .server:
            // Too many connections, shutting down, starting up: the database is there but will not serve.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
        case .queryCancelled, .tooManyParameters, .unexpectedBackendMessage, .unsupportedAuthMechanism,
            .authMechanismRequiresPassword, .saslError, .invalidCommandTag, .receivedUnencryptedDataAfterSSLRequest:
            return false
        default:
            return true
        }
    }

    /// What went wrong, as a line a user can read (PSQLError's own description hides the server's message).
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return "\(message) (\(error.serverInfo?[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    /// Sends `payload` on the `stratus` channel when the transaction commits: `<host> <kind> <name>`.
    static func notify(_ kind: String, _ name: String, host: String) -> String {
        "\(host) \(kind) \(name)"
    }

    /// The host the next messages no receiver here takes are handed to (the others in turn), `*` for every host
    /// when no other is known.
    func handOffTarget() -> String {
        peers.withLock { peers in
            guard !peers.hosts.isEmpty else { return "*" }
            peers.next = peers.next &+ 1
            return peers.hosts[Int(UInt(bitPattern: peers.next) % UInt(peers.hosts.count))]
        }
    }

    // MARK: Invocation log

    package func append(_ records: [InvocationRecord]) async throws {
        guard !records.isEmpty else { return }
        for chunk in records.chunked(200) {
            var sql = SQL(
                """
                INSERT INTO invocation (id, function, version, trigger, source, attempt, start_ms, duration_ms,
                    init_duration_ms, status, error_type, error_message, memory_size_mb, max_memory_used_mb, output,
                    event_id, revision, host) VALUES
                """)
            for (index, record) in chunk.enumerated() {
                if index > 0 { sql.append(",") }
                sql.append(
                    "(\(sql.bind(record.id)), \(sql.bind(record.function)), \(sql.bind(record.version)), "
                        + "\(sql.bind(record.trigger.rawValue)), \(sql.bind(record.source)), "
                        + "\(sql.bind(Int64(record.attempt))), \(sql.bind(SQLiteStore.epochMs(record.start))), "
                        + "\(sql.bind(record.durationMs)), \(sql.bind(record.initDurationMs)), "
                        + "\(sql.bind(record.status.rawValue)), \(sql.bind(record.errorType)), "
                        + "\(sql.bind(record.errorMessage)), \(sql.bind(Int64(record.memorySizeMB))), "
                        + "\(sql.bind(Int64(record.maxMemoryUsedMB))), \(sql.bind(record.output)), "
                        + "\(sql.bind(record.eventId)), \(sql.bind(record.revision)), \(sql.bind(record.host ?? hostId)))"
                )
            }
            try await rows(sql.query)
        }
    }

    package func invocations(matching query: InvocationQuery) async throws -> [InvocationRecord] {
        var sql = SQL(
            """
            SELECT seq, id, function, version, trigger, source, attempt, start_ms, duration_ms, init_duration_ms,
                status, error_type, error_message, memory_size_mb, max_memory_used_mb, output, event_id, revision, host
            FROM invocation WHERE true
            """)
        if let function = query.function { sql.append(" AND function = \(sql.bind(function))") }
        if let eventId = query.eventId { sql.append(" AND event_id = \(sql.bind(eventId))") }
        if let id = query.id { sql.append(" AND id = \(sql.bind(id))") }
        if let status = query.status { sql.append(" AND status = \(sql.bind(status.rawValue))") }
        if let since = query.since { sql.append(" AND start_ms >= \(sql.bind(SQLiteStore.epochMs(since)))") }
        let newestFirst = sql.page(query)
        var records: [InvocationRecord] = []
        for row in try await rows(sql.query) {
            let (seq, id, function, version, trigger, source, attempt, startMs, durationMs, initDurationMs) =
                try row.decode((Int64, String, String, String, String, String, Int64, Int64, Double, Double?).self)
            let r = row.makeRandomAccess()
            var record = InvocationRecord(
                id: id, function: function, version: version,
                trigger: InvocationRecord.Trigger(rawValue: trigger) ?? .cli, source: source, attempt: Int(attempt),
                start: Date(timeIntervalSince1970: Double(startMs) / 1000), durationMs: durationMs,
                initDurationMs: initDurationMs,
                status: InvocationRecord.Status(rawValue: try r[10].decode(String.self)) ?? .error,
                errorType: try r[11].decode(String?.self), errorMessage: try r[12].decode(String?.self),
                memorySizeMB: Int(try r[13].decode(Int64.self)), maxMemoryUsedMB: Int(try r[14].decode(Int64.self)),
                output: try r[15].decode(String.self))
            record.sequence = seq
            record.eventId = try r[16].decode(String?.self)
            record.revision = try r[17].decode(String?.self)
            record.host = try r[18].decode(String?.self)
            records.append(record)
        }
        return newestFirst ? records.reversed() : records
    }

    package func pruneInvocations(olderThan cutoff: Date, keepPerFunction: Int) async throws -> Int {
        let cutoffMs = SQLiteStore.epochMs(cutoff)
        let keep = Int64(max(0, keepPerFunction))
        return try await transaction { connection in
            var deleted = try await connection.query(
                "DELETE FROM invocation WHERE start_ms < \(cutoffMs) RETURNING 1", logger: self.logger
            ).collect().count
            deleted += try await connection.query(
                """
                DELETE FROM invocation i USING (
                    SELECT function, (SELECT seq FROM invocation WHERE function = f.function ORDER BY seq DESC
                        LIMIT 1 OFFSET \(keep)) AS last FROM (SELECT DISTINCT function FROM invocation) f
                ) k WHERE i.function = k.function AND i.seq <= k.last RETURNING 1
                """, logger: self.logger
            ).collect().count
            try await connection.query("DELETE FROM host_event WHERE time_ms < \(cutoffMs)", logger: self.logger)
            return deleted
        }
    }

    package func append(events: [HostEvent]) async throws {
        guard !events.isEmpty else { return }
        var sql = SQL("INSERT INTO host_event (time_ms, function, kind, message, host) VALUES ")
        for (index, event) in events.enumerated() {
            if index > 0 { sql.append(",") }
            sql.append(
                "(\(sql.bind(SQLiteStore.epochMs(event.time))), \(sql.bind(event.function)), "
                    + "\(sql.bind(event.kind.rawValue)), \(sql.bind(event.message)), \(sql.bind(hostId)))")
        }
        try await rows(sql.query)
    }

    package func events(matching query: InvocationQuery) async throws -> [HostEvent] {
        var sql = SQL("SELECT seq, time_ms, function, kind, message FROM host_event WHERE true")
        if let function = query.function { sql.append(" AND function = \(sql.bind(function))") }
        if let since = query.since { sql.append(" AND time_ms >= \(sql.bind(SQLiteStore.epochMs(since)))") }
        let newestFirst = sql.page(query)
        let events = try await rows(sql.query).map { row in
            let (seq, timeMs, function, kind, message) = try row.decode((Int64, Int64, String, String, String).self)
            var event = HostEvent(
                time: Date(timeIntervalSince1970: Double(timeMs) / 1000), function: function,
                kind: HostEvent.Kind(rawValue: kind) ?? .scaleUp, message: message)
            event.sequence = seq
            return event
        }
        return newestFirst ? events.reversed() : events
    }
}

/// A statement built piece by piece, with its values bound as `$1`, `$2`, … (never spliced into the text).
struct SQL {
    var text: String
    var binds = PostgresBindings()

    init(_ text: String) {
        self.text = text
    }

    mutating func append(_ more: String) {
        text += more
    }

    /// Binds `value` and returns its placeholder.
    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Orders and limits as the log's queries do: the newest `limit` (returned `true`: reverse them), or with
    /// `afterSequence` the oldest after it.
    mutating func page(_ query: InvocationQuery) -> Bool {
        let limit = Int64(max(0, query.limit))
        if let after = query.afterSequence {
            append(" AND seq > \(bind(after)) ORDER BY seq ASC LIMIT \(bind(limit))")
            return false
        }
        append(" ORDER BY seq DESC LIMIT \(bind(limit))")
        return true
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}

/// Set once a pooled call has its connection.
final class LeaseFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
