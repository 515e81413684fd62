import GRDB

extension SQLiteStore {
    /// The schema, one migration per change, in the order they shipped: a database from any earlier version
    /// is brought up to date when it is opened.
    static var migrator: DatabaseMigrator {
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
        // `message.seq` is the row id: receives order by `(visible_at, seq)` and a receipt handle ends with the
        // seq, so deletes and visibility changes find their row by primary key and compare the whole handle.
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
        migrator.registerMigration("v3-topics") { db in
            try db.execute(
                sql: """
                    CREATE TABLE topic (
                        name TEXT PRIMARY KEY NOT NULL
                    );
                    CREATE TABLE subscription (
                        id TEXT PRIMARY KEY NOT NULL,
                        topic TEXT NOT NULL,
                        endpoint_kind TEXT NOT NULL,
                        endpoint TEXT NOT NULL,
                        filter_policy TEXT,
                        filter_scope TEXT NOT NULL,
                        raw INTEGER NOT NULL,
                        dead_letter_queue TEXT
                    );
                    CREATE INDEX subscription_topic ON subscription(topic);
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        subscription_id TEXT NOT NULL,
                        target_kind TEXT NOT NULL,
                        target TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        next_attempt_at INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        dead_letter_queue TEXT
                    );
                    CREATE INDEX delivery_due ON delivery(next_attempt_at, id);
                    """)
        }
        migrator.registerMigration("v5-invocation-event") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN event_id TEXT")
            try db.execute(sql: "CREATE INDEX invocation_event ON invocation(event_id)")
        }
        // A delivery says what it is for in columns of its own, instead of an `invoke:<event id>` or
        // `<topic>:<index>` string in `subscription_id` (which subscriptions created at run time did not follow).
        migrator.registerMigration("v6-delivery-source") { db in
            try db.execute(
                sql: """
                    ALTER TABLE delivery ADD COLUMN topic TEXT;
                    ALTER TABLE delivery ADD COLUMN event_id TEXT;
                    UPDATE delivery SET event_id = substr(subscription_id, 8), subscription_id = ''
                        WHERE subscription_id LIKE 'invoke:%';
                    UPDATE delivery SET topic = substr(subscription_id, 1, instr(subscription_id, ':') - 1)
                        WHERE event_id IS NULL AND instr(subscription_id, ':') > 0;
                    UPDATE delivery SET topic = '' WHERE event_id IS NULL AND topic IS NULL;
                    """)
        }
        // The scheduler reads each target's due deliveries on its own, through this index, so that a backlog for
        // one function costs nothing to the others.
        migrator.registerMigration("v7-delivery-target-index") { db in
            try db.execute(sql: "CREATE INDEX delivery_target_due ON delivery(target, next_attempt_at, id)")
        }
        // Settings a client sets on a topic through SNS (`DisplayName`, `Policy`, …), as a JSON object.
        migrator.registerMigration("v8-topic-attributes") { db in
            try db.execute(sql: "ALTER TABLE topic ADD COLUMN attributes TEXT")
        }
        // What an HTTP delivery tells its endpoint in headers: the SNS message id and raw delivery.
        migrator.registerMigration("v9-delivery-message") { db in
            try db.execute(sql: "ALTER TABLE delivery ADD COLUMN message_id TEXT")
            try db.execute(sql: "ALTER TABLE delivery ADD COLUMN raw INTEGER NOT NULL DEFAULT 0")
        }
        // Which code revision served an invocation: reloads and deploys change it while the host runs.
        migrator.registerMigration("v10-invocation-revision") { db in
            try db.execute(sql: "ALTER TABLE invocation ADD COLUMN revision TEXT")
        }
        // Where each schedule stands: its next run, written with the firings it records.
        migrator.registerMigration("v11-schedule") { db in
            try db.execute(
                sql: """
                    CREATE TABLE schedule (
                        name TEXT PRIMARY KEY,
                        fingerprint TEXT NOT NULL,
                        anchor_ms INTEGER NOT NULL,
                        next_ms INTEGER,
                        last_ms INTEGER,
                        last_event_id TEXT
                    )
                    """)
        }
        // Archived topic messages (publish order), and replays of them.
        migrator.registerMigration("v12-archive-replay") { db in
            try db.execute(
                sql: """
                    CREATE TABLE archive (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        topic TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        message TEXT NOT NULL,
                        subject TEXT,
                        attributes TEXT NOT NULL,
                        per_protocol TEXT NOT NULL,
                        published_at INTEGER NOT NULL
                    );
                    CREATE INDEX archive_topic ON archive(topic, seq);
                    CREATE INDEX archive_time ON archive(topic, published_at);
                    CREATE TABLE replay (
                        id TEXT PRIMARY KEY,
                        job TEXT NOT NULL
                    );
                    """)
        }
        // FIFO queues: each message's group and deduplication id, and the deduplication ids of the last 5 minutes.
        migrator.registerMigration("v13-fifo") { db in
            try db.execute(
                sql: """
                    ALTER TABLE subscription ADD COLUMN group_from TEXT;
                    ALTER TABLE message ADD COLUMN group_id TEXT;
                    ALTER TABLE message ADD COLUMN dedup_id TEXT;
                    CREATE INDEX message_group ON message(queue, group_id, visible_at) WHERE group_id IS NOT NULL;
                    CREATE TABLE fifo_dedup (
                        queue TEXT NOT NULL,
                        dedup_id TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        expires_at INTEGER NOT NULL,
                        PRIMARY KEY (queue, dedup_id)
                    ) WITHOUT ROWID;
                    """)
        }
        // FIFO sequence numbers that only grow (row ids are reused once the newest row is deleted).
        migrator.registerMigration("v14-fifo-sequence") { db in
            try db.execute(
                sql: """
                    ALTER TABLE message ADD COLUMN sequence INTEGER;
                    CREATE TABLE fifo_sequence (queue TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
                    """)
        }
        // FIFO receives walk a queue in send order and stop at what they need.
        migrator.registerMigration("v15-message-order") { db in
            try db.execute(sql: "CREATE INDEX message_queue_seq ON message(queue, seq)")
        }
        // A duplicate FIFO send answers the first message's sequence number too.
        migrator.registerMigration("v16-dedup-sequence") { db in
            try db.execute(sql: "ALTER TABLE fifo_dedup ADD COLUMN sequence INTEGER")
        }
        return migrator
    }
}
