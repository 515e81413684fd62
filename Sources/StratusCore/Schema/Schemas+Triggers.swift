extension Schemas {
    /// `triggers/*.yaml`.
    package static let triggers: Schema = .object(
        "A trigger file: triggers/*.yaml. All files are merged; a route, queue or topic may be declared once.",
        [
            (
                "http",
                Schema.array(
                    of: route,
                    "HTTP routes, served on the gateway with API Gateway HTTP API semantics (payload format 2.0). "
                        + "The most specific route wins."
                ).orNull()
            ),
            (
                "topics",
                Schema.map(
                    of: topic, "Topics by name, with SNS semantics.",
                    names: name(Limits.topicNameLength, "a topic name"), maxProperties: Limits.topics
                ).orNull()
            ),
            (
                "queues",
                Schema.map(
                    of: queue(fifo: false),
                    "Queues by name, with SQS semantics: standard, or FIFO for a name ending in .fifo.",
                    names: queueName, maxProperties: Limits.queues
                ).suffixed(".fifo", queue(fifo: true)).orNull()
            ),
            (
                "schedules",
                Schema.map(
                    of: schedule,
                    "Schedules by name, as EventBridge Scheduler runs them: each firing is committed, then invokes its "
                        + "function asynchronously (retries, onFailure and the breaker apply).",
                    names: Schema.Text(
                        pattern: "^[A-Za-z0-9_.-]{1,\(Limits.scheduleNameLength)}$",
                        expected: "a schedule name of 1-\(Limits.scheduleNameLength) letters, digits, '-', '_' or '.'"),
                    maxProperties: Limits.schedules
                ).orNull()
            ),
        ])

    private static var schedule: Schema {
        .object(
            "One schedule.",
            [
                (
                    "expression",
                    .string(
                        "rate(VALUE UNIT), unit second(s), minute(s), hour(s) or day(s) (1 takes the singular); or "
                            + "cron(MINUTES HOURS DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR) as EventBridge reads it, with "
                            + "? in one of the two day fields, L, W and #.",
                        pattern: #"^\s*(rate|cron)\(.*\)\s*$"#,
                        expected: "rate(5 minutes) or cron(0 2 * * ? *)")
                ),
                (
                    "timezone",
                    Schema.string(
                        "The IANA time zone a cron is evaluated in, such as Europe/Paris. A local time skipped when "
                            + "clocks go forward does not fire; one repeated when they go back fires once."
                    ).defaulting(to: .string("UTC"))
                ),
                ("function", function("The function each firing invokes, asynchronously.")),
                (
                    "input",
                    Schema(
                        .any,
                        description: "A constant event for every firing. Default: EventBridge's Scheduled Event "
                            + "(detail-type \"Scheduled Event\", source aws.events, the scheduled time).")
                ),
                (
                    "missed",
                    Schema.enumeration(
                        ScheduleConfig.Missed.allCases.map { .string($0.rawValue) },
                        "Firings that fell while the host was down (or more than a minute late): skip them, deliver "
                            + "once for the first, or all of them (at most \(Limits.missedFirings), oldest first)."
                    ).defaulting(to: .string(ScheduleConfig.Missed.once.rawValue))
                ),
            ], required: ["expression", "function"])
    }

    /// A queue or topic name: SQS's and SNS's letters, digits, `-` and `_`.
    private static func name(_ maxLength: Int, _ what: String) -> Schema.Text {
        Schema.Text(
            pattern: "^[A-Za-z0-9_-]{1,\(maxLength)}$",
            expected: "\(what) of 1-\(maxLength) letters, digits, '-' or '_'")
    }

    /// SQS's queue names: letters, digits, `-` and `_`, the last five `.fifo` for a FIFO queue.
    private static var queueName: Schema.Text {
        let length = Limits.queueNameLength
        return Schema.Text(
            pattern: "^(?:[A-Za-z0-9_-]{1,\(length)}|[A-Za-z0-9_-]{1,\(length - 5)}\\.fifo)$",
            expected: "a queue name of 1-\(length) letters, digits, '-' or '_' (ending in .fifo for a FIFO queue)")
    }

    private static func queueReference(_ description: String) -> Schema {
        .string(description, pattern: queueName.pattern, expected: queueName.expected)
    }

    private static func function(_ description: String) -> Schema {
        .string(description + " A directory under functions/.")
    }

    /// `METHOD /path` with well-formed `{name}` and `{name+}` segments, or `$default`.
    static var routePattern: String {
        let methods = Triggers.methods.map(SchemaPattern.anyCase).joined(separator: "|")
        let plain = "[^/ {}]|[^/ {][^/ ]*[^/ }]"
        let parameter = #"\{[^/ ]*[^/ +]\}"#
        let greedy = #"\{[^/ ]+\}"#
        let path = "/+(?:(?:\(plain)|\(parameter))/+)*(?:(?:\(plain)|\(greedy))/*)?"
        return #"^(?:\$default| *(?:"# + methods + ") +" + path + " *)$"
    }

    private static var route: Schema {
        .object(
            "One HTTP route.",
            [
                (
                    "route",
                    .string(
                        "METHOD /path (GET /hello/{name}): {name} matches one segment, {name+} the rest of the path "
                            + "(last segment only), ANY every method; or $default for everything unmatched.",
                        pattern: routePattern,
                        expected: "'METHOD /path' (\(Schema.list(Triggers.methods))) with {name} parameters and "
                            + "{name+} only as the last segment, or $default")
                ),
                ("function", function("The function that handles the route.")),
                ("cors", cors),
                (
                    "auth",
                    .object(
                        "Requires an x-api-key header: missing 401, wrong 403.",
                        [
                            (
                                "apiKeys",
                                .array(
                                    of: .string("A key, or env:NAME for the value of the host's variable NAME."),
                                    "The keys accepted.")
                            )
                        ])
                ),
            ],
            required: ["route", "function"])
    }

    private static var cors: Schema {
        let defaults = HTTPRoute.CORS()
        func list(_ header: String, _ item: String, _ defaults: [String]) -> Schema {
            Schema.array(of: .string(item), "\(header).").defaulting(to: .array(defaults.map(JSONValue.string)))
        }
        return .object(
            "CORS: the gateway answers preflights (OPTIONS with Origin and Access-Control-Request-Method) itself "
                + "and adds these headers to responses.",
            [
                ("allowOrigins", list("Access-Control-Allow-Origin", "An origin, or *.", defaults.allowOrigins)),
                ("allowMethods", list("Access-Control-Allow-Methods", "A method, or *.", defaults.allowMethods)),
                ("allowHeaders", list("Access-Control-Allow-Headers", "A header name, or *.", defaults.allowHeaders)),
                ("exposeHeaders", list("Access-Control-Expose-Headers", "A header name.", defaults.exposeHeaders)),
                ("maxAge", .integer(Limits.corsMaxAge, "Access-Control-Max-Age, in seconds.")),
                (
                    "allowCredentials",
                    .boolean("Access-Control-Allow-Credentials.", default: defaults.allowCredentials)
                ),
            ])
    }

    private static var topic: Schema {
        Schema.object(
            "A topic.",
            [
                (
                    "subscriptions",
                    Schema.array(
                        of: subscription, "Where each message published to the topic goes.",
                        maxItems: Limits.subscriptionsPerTopic
                    ).expecting("a list of at most \(Limits.subscriptionsPerTopic) subscriptions").orNull()
                ),
                (
                    "archive",
                    Schema.duration(
                        Limits.archiveRetention,
                        "Keep every published message (body, attributes, subject, message id, time) this long, for "
                            + "`stratus replay`. Default: no archive.")
                ),
            ]
        ).orNull()
    }

    private static var subscription: Schema {
        .object(
            "A subscription: exactly one of function, queue or http.",
            [
                ("function", function("A function: it gets an SNS event (Records[].Sns), retried per its async.")),
                ("queue", queueReference("A queue: it gets the SNS JSON envelope, or with raw the bare message.")),
                (
                    "http",
                    .string(
                        "An endpoint that gets a POST of the envelope, retried 3 times (1 s, 2 s, 3 s).",
                        pattern: "^" + SchemaPattern.anyCase("http") + "[Ss]?://[^/?#]" + #"[\s\S]*$"#,
                        expected: "an http:// or https:// URL with a host")
                ),
                (
                    "filter",
                    Schema.map(
                        of: Schema(.any, description: ""),
                        "A filter policy, as SNS's: exact strings and numbers, prefix, suffix, equals-ignore-case, "
                            + "anything-but, numeric, exists, cidr, $or."
                    ).expecting("a filter policy mapping")
                ),
                (
                    "filterScope",
                    .enumeration(
                        ["attributes", "body", "MessageAttributes", "MessageBody"].map(JSONValue.string),
                        "What filter matches: the message attributes (default) or the JSON message body.")
                ),
                (
                    "raw",
                    .boolean(
                        "Deliver the bare message to a queue, attributes as message attributes, instead of the "
                            + "SNS envelope.", default: false)
                ),
                (
                    "deadLetterQueue",
                    queueReference("Where a delivery goes once its retries run out; without one it is dropped.")
                ),
                (
                    "groupFrom",
                    .string(
                        "A FIFO queue's subscription: the message attribute whose value is the message group "
                            + "(default: the topic's name, one group).", maxLength: 256)
                ),
            ], exactlyOneOf: ["function", "queue", "http"])
    }

    /// A standard queue, or (`fifo`) a FIFO queue, whose name ends in .fifo.
    private static func queue(fifo: Bool) -> Schema {
        let defaults = QueueConfig(name: "x")
        let consumer = QueueConfig.Consumer(function: "x")
        let standardKeys: [(name: String, schema: Schema)] = [
            (
                "fifo",
                Schema.enumeration([.bool(false)], "Only a queue whose name ends in .fifo is a FIFO queue.")
                    .expecting("false: a FIFO queue's name ends in .fifo")
            )
        ]
        let fifoKeys: [(name: String, schema: Schema)] = [
            (
                "fifo",
                Schema.enumeration(
                    [.bool(true)],
                    "SQS FIFO semantics: messages need a group, are received in order within it, and a group with a "
                        + "message in flight gives no other."
                ).expecting("fifo: true, as SQS's FifoQueue for a name ending in .fifo")
            ),
            (
                "contentBasedDeduplication",
                .boolean(
                    "A send without a deduplication id is deduplicated by the SHA-256 of its body (within 5 minutes).",
                    default: false)
            ),
        ]
        return Schema.object(
            fifo ? "A FIFO queue (its name ends in .fifo)." : "A standard queue.",
            (fifo ? fifoKeys : standardKeys) + [
                (
                    "visibilityTimeout",
                    .duration(
                        Limits.visibilityTimeout,
                        "How long a received message stays hidden before it is shown again; at least the "
                            + "consumer's timeout.", default: .milliseconds(defaults.visibilityTimeoutMs))
                ),
                (
                    "maxReceiveCount",
                    .integer(
                        Limits.maxReceiveCount,
                        "Receives after which a message moves to deadLetterQueue (default "
                            + "\(QueueConfig.defaultMaxReceiveCount) when deadLetterQueue is set).")
                ),
                ("deadLetterQueue", queueReference("The queue a message moves to; declared under queues.")),
                (
                    "retention",
                    .duration(
                        Limits.retention, "How long a message is kept.", default: .milliseconds(defaults.retentionMs))
                ),
                (
                    "delay",
                    .duration(
                        Limits.messageDelay, "How long a new message stays hidden.",
                        default: .milliseconds(defaults.delayMs))
                ),
                (
                    "consumer",
                    .object(
                        "The function that consumes the queue in batches (an event source mapping).",
                        [
                            (
                                "function",
                                function(
                                    "The function: it gets an SQS event (Records[]) and may answer batchItemFailures.")
                            ),
                            (
                                "batchSize",
                                .integer(
                                    Limits.batchSize,
                                    "Messages per batch; above \(Limits.batchSizeWithoutWindow) needs a batchWindow "
                                        + "of at least \(DurationParser.format(Limits.largeBatchWindow)) (a FIFO "
                                        + "queue: at most \(Limits.batchSizeWithoutWindow), no batchWindow).",
                                    default: consumer.batchSize)
                            ),
                            (
                                "batchWindow",
                                .duration(
                                    Limits.batchWindow, "How long to gather a batch.",
                                    default: .milliseconds(consumer.batchWindowMs))
                            ),
                            (
                                "maxConcurrency",
                                .integer(
                                    Limits.consumerConcurrency, "Batches in flight at once.",
                                    default: consumer.maxConcurrency)
                            ),
                            (
                                "filters",
                                Schema.array(
                                    of: .object(
                                        "A pattern on the record's body key (SQS mappings filter on nothing else).",
                                        [
                                            (
                                                "body",
                                                Schema(
                                                    .any,
                                                    description:
                                                        "What the body must be: a mapping for a JSON body's fields, or a list of values and operators."
                                                )
                                            )
                                        ], required: ["body"]),
                                    "Lambda's event filtering: patterns (SNS filter policy language) on the record's "
                                        + "body key, e.g. {body: {kind: [order]}}; a message none matches is "
                                        + "deleted without invoking the function.",
                                    maxItems: EventFilter.maximumPatterns)
                            ),
                        ], required: ["function"])
                ),
            ], required: fifo ? ["fifo"] : []
        ).orNull()
    }
}
