import PostgresNIO

extension PostgresStore {
    /// The schema, one migration per change, in the order they shipped. Each runs in its own transaction under an
    /// advisory lock, so that hosts starting together on a new database migrate it once.
    static let migrations: [(version: Int, name: String, sql: [String])] = [
        (
            1, "initial",
            [
                """
                CREATE TABLE invocation (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL,
                    function TEXT NOT NULL,
                    version TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    source TEXT NOT NULL,
                    attempt BIGINT NOT NULL,
                    start_ms BIGINT NOT NULL,
                    duration_ms DOUBLE PRECISION NOT NULL,
                    init_duration_ms DOUBLE PRECISION,
                    status TEXT NOT NULL,
                    error_type TEXT,
                    error_message TEXT,
                    memory_size_mb BIGINT NOT NULL,
                    max_memory_used_mb BIGINT NOT NULL,
                    output TEXT NOT NULL,
                    event_id TEXT,
                    revision TEXT,
                    host TEXT
                )
                """,
                "CREATE INDEX invocation_function ON invocation(function, seq)",
                "CREATE INDEX invocation_start ON invocation(start_ms)",
                "CREATE INDEX invocation_id ON invocation(id)",
                "CREATE INDEX invocation_event ON invocation(event_id)",
                """
                CREATE TABLE host_event (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    time_ms BIGINT NOT NULL,
                    function TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL,
                    host TEXT
                )
                """,
                "CREATE INDEX host_event_time ON host_event(time_ms)",
                """
                CREATE TABLE queue (
                    name TEXT PRIMARY KEY,
                    visibility_timeout_ms BIGINT NOT NULL,
                    max_receive_count BIGINT,
                    dead_letter_queue TEXT,
                    retention_ms BIGINT NOT NULL,
                    delay_ms BIGINT NOT NULL,
                    config TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE message (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    body TEXT NOT NULL,
                    attributes TEXT,
                    sent_at BIGINT NOT NULL,
                    visible_at BIGINT NOT NULL,
                    receive_count BIGINT NOT NULL DEFAULT 0,
                    first_received_at BIGINT,
                    receipt_handle TEXT,
                    source_queue TEXT,
                    group_id TEXT,
                    dedup_id TEXT,
                    sequence BIGINT
                )
                """,
                "CREATE INDEX message_visible ON message(queue, visible_at, seq)",
                "CREATE INDEX message_sent ON message(queue, sent_at)",
                "CREATE INDEX message_queue_seq ON message(queue, seq)",
                "CREATE INDEX message_group ON message(queue, group_id, visible_at) WHERE group_id IS NOT NULL",
                """
                CREATE TABLE fifo_dedup (
                    queue TEXT NOT NULL,
                    dedup_id TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    PRIMARY KEY (queue, dedup_id)
                )
                """,
                "CREATE TABLE fifo_sequence (queue TEXT PRIMARY KEY, last BIGINT NOT NULL)",
                "CREATE TABLE topic (name TEXT PRIMARY KEY, attributes TEXT)",
                """
                CREATE TABLE subscription (
                    ord BIGINT GENERATED ALWAYS AS IDENTITY,
                    id TEXT PRIMARY KEY,
                    topic TEXT NOT NULL,
                    endpoint_kind TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    filter_policy TEXT,
                    filter_scope TEXT NOT NULL,
                    raw BOOLEAN NOT NULL,
                    dead_letter_queue TEXT,
                    group_from TEXT
                )
                """,
                "CREATE INDEX subscription_topic ON subscription(topic, ord)",
                """
                CREATE TABLE delivery (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    subscription_id TEXT NOT NULL,
                    topic TEXT,
                    event_id TEXT,
                    message_id TEXT,
                    raw BOOLEAN NOT NULL DEFAULT false,
                    target_kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    attempts BIGINT NOT NULL,
                    next_attempt_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    dead_letter_queue TEXT,
                    lease_owner TEXT,
                    lease_until BIGINT
                )
                """,
                "CREATE INDEX delivery_due ON delivery(next_attempt_at, id)",
                "CREATE INDEX delivery_target_due ON delivery(target, next_attempt_at, id)",
                "CREATE INDEX delivery_lease ON delivery(lease_owner) WHERE lease_owner IS NOT NULL",
                """
                CREATE TABLE schedule (
                    name TEXT PRIMARY KEY,
                    fingerprint TEXT NOT NULL,
                    anchor_ms BIGINT NOT NULL,
                    next_ms BIGINT,
                    last_ms BIGINT,
                    last_event_id TEXT
                )
                """,
                """
                CREATE TABLE archive (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    topic TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    message TEXT NOT NULL,
                    subject TEXT,
                    attributes TEXT NOT NULL,
                    per_protocol TEXT NOT NULL,
                    published_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX archive_topic ON archive(topic, seq)",
                "CREATE INDEX archive_time ON archive(topic, published_at)",
                """
                CREATE TABLE replay (
                    ord BIGINT GENERATED ALWAYS AS IDENTITY,
                    id TEXT PRIMARY KEY,
                    status TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    job TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE host (
                    id TEXT PRIMARY KEY,
                    started_at BIGINT NOT NULL,
                    heartbeat_at BIGINT NOT NULL,
                    leader BOOLEAN NOT NULL DEFAULT false,
                    control TEXT
                )
                """,
            ]
        ),
        (
            2, "deployments",
            [
                """
                CREATE TABLE deployment (
                    name TEXT NOT NULL,
                    revision TEXT NOT NULL,
                    archive BYTEA NOT NULL,
                    source TEXT NOT NULL,
                    deployed_at BIGINT NOT NULL,
                    PRIMARY KEY (name, revision)
                )
                """,
                "CREATE TABLE deployment_live (name TEXT PRIMARY KEY, revision TEXT NOT NULL, changed_at BIGINT NOT NULL)",
            ]
        ),
        // A duplicate FIFO send answers the first message's sequence number too.
        (3, "dedup-sequence", ["ALTER TABLE fifo_dedup ADD COLUMN sequence BIGINT"]),
    ]

    /// The advisory lock key migrations run under (a constant of Stratus's own: "stratus" in ASCII).
    static let migrationLock: Int64 = 0x7374_7261_7475_73

    /// Brings the schema up to date: every migration the database has not recorded, in order.
    func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS stratus_migration (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: self.logger)
            let applied = Set(
                try await connection.query("SELECT version FROM stratus_migration", logger: self.logger).collect()
                    .map { try $0.decode(Int64.self) })
            for migration in Self.migrations where !applied.contains(Int64(migration.version)) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO stratus_migration (version, name) VALUES (\(Int64(migration.version)), \(migration.name))",
                    logger: self.logger)
            }
        }
    }
}
