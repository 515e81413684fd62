extension V1 {
    /// `POST /v1/queues` (create) and `PATCH /v1/queues/{name}` (update): every field but `name` optional.
    package struct QueueSettings: Sendable, Codable, StrictlyDecodable, Clearable {
        package static let clearableKeys: Set<String> = ["deadLetterQueue"]

        package var name: String?
        package var visibilityTimeout: DurationValue?
        package var retention: DurationValue?
        package var delay: DurationValue?
        package var maxReceiveCount: Int?
        /// A queue name; `null` (in an update) removes it.
        package var deadLetterQueue: Nullable<String>?
        /// A FIFO queue (its name ends in `.fifo`), and its content-based deduplication.
        package var fifo: Bool?
        package var contentBasedDeduplication: Bool?

        package enum Keys: String, CodingKey, CaseIterable {
            case name, visibilityTimeout, retention, delay, maxReceiveCount, deadLetterQueue, fifo
            case contentBasedDeduplication
        }

        package init(
            name: String? = nil, visibilityTimeout: DurationValue? = nil, retention: DurationValue? = nil,
            delay: DurationValue? = nil, maxReceiveCount: Int? = nil, deadLetterQueue: Nullable<String>? = nil
        ) {
            self.name = name
            self.visibilityTimeout = visibilityTimeout
            self.retention = retention
            self.delay = delay
            self.maxReceiveCount = maxReceiveCount
            self.deadLetterQueue = deadLetterQueue
        }

        package init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownKeys(Keys.self)
            let container = try decoder.container(keyedBy: Keys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            visibilityTimeout = try container.decodeIfPresent(DurationValue.self, forKey: .visibilityTimeout)
            retention = try container.decodeIfPresent(DurationValue.self, forKey: .retention)
            delay = try container.decodeIfPresent(DurationValue.self, forKey: .delay)
            maxReceiveCount = try container.decodeIfPresent(Int.self, forKey: .maxReceiveCount)
            fifo = try container.decodeIfPresent(Bool.self, forKey: .fifo)
            contentBasedDeduplication = try container.decodeIfPresent(Bool.self, forKey: .contentBasedDeduplication)
            if container.contains(.deadLetterQueue) {
                deadLetterQueue =
                    try container.decodeNil(forKey: .deadLetterQueue)
                    ? .null : .value(try container.decode(String.self, forKey: .deadLetterQueue))
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encodeIfPresent(name, forKey: .name)
            try container.encodeIfPresent(visibilityTimeout, forKey: .visibilityTimeout)
            try container.encodeIfPresent(retention, forKey: .retention)
            try container.encodeIfPresent(delay, forKey: .delay)
            try container.encodeIfPresent(maxReceiveCount, forKey: .maxReceiveCount)
            try container.encodeIfPresent(fifo, forKey: .fifo)
            try container.encodeIfPresent(contentBasedDeduplication, forKey: .contentBasedDeduplication)
            switch deadLetterQueue {
            case .none: break
            case .null?: try container.encodeNil(forKey: .deadLetterQueue)
            case .value(let name)?: try container.encode(name, forKey: .deadLetterQueue)
            }
        }
    }

    /// A value a request may set or clear with `null`.
    package enum Nullable<Wrapped: Sendable & Codable>: Sendable, Codable {
        case null
        case value(Wrapped)
    }

    /// `POST /v1/queues` answers the queue's name.
    package struct QueueName: Sendable, Codable {
        package var queue: String

        package init(queue: String) {
            self.queue = queue
        }
    }

    /// `PATCH /v1/queues/{name}` answers the queue as it now is.
    package struct QueueSettingsAnswer: Sendable, Codable {
        package var name: String
        package var visibilityTimeoutMs: Int64
        package var retentionMs: Int64
        package var delayMs: Int64
        package var maxReceiveCount: Int?
        package var deadLetterQueue: String?
        package var consumer: String?
        package var fifo: Bool
        package var contentBasedDeduplication: Bool

        package init(_ queue: QueueConfig) {
            name = queue.name
            fifo = queue.fifo
            contentBasedDeduplication = queue.contentBasedDeduplication
            visibilityTimeoutMs = queue.visibilityTimeoutMs
            retentionMs = queue.retentionMs
            delayMs = queue.delayMs
            maxReceiveCount = queue.maxReceiveCount
            deadLetterQueue = queue.deadLetterQueue
            consumer = queue.consumer?.function
        }
    }

    /// One queue in `GET /v1/queues` and `GET /v1/status`.
    package struct QueueSummary: Sendable, Codable {
        package var name: String
        package var counts: QueueCounts
        /// Messages in its dead-letter queue.
        package var deadLettered: Int?
        package var deadLetterQueue: String?
        package var maxReceiveCount: Int?
        package var visibilityTimeoutMs: Int64
        /// The consumer function.
        package var consumer: String?
        /// Whether the consumer runs (a Lambda mapping may be disabled); `nil` without a consumer.
        package var consumerEnabled: Bool?

        package init(
            name: String, counts: QueueCounts, deadLettered: Int?, deadLetterQueue: String?, maxReceiveCount: Int?,
            visibilityTimeoutMs: Int64, consumer: String?, consumerEnabled: Bool? = nil
        ) {
            self.name = name
            self.counts = counts
            self.deadLettered = deadLettered
            self.deadLetterQueue = deadLetterQueue
            self.maxReceiveCount = maxReceiveCount
            self.visibilityTimeoutMs = visibilityTimeoutMs
            self.consumer = consumer
            self.consumerEnabled = consumerEnabled
        }
    }

    /// `GET /v1/queues`.
    package struct QueueList: Sendable, Codable {
        package var queues: [QueueSummary]

        package init(queues: [QueueSummary]) {
            self.queues = queues
        }
    }

    /// A message attribute as `/v1` takes it: a string, a number, or `{dataType, stringValue}`.
    package struct AttributeValue: Sendable, Codable, Equatable {
        package var attribute: MessageAttribute

        package init(_ attribute: MessageAttribute) {
            self.attribute = attribute
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                attribute = MessageAttribute(dataType: "String", stringValue: text)
            } else if let integer = try? container.decode(Int64.self) {
                attribute = MessageAttribute(dataType: "Number", stringValue: String(integer))
            } else if let number = try? container.decode(Double.self), number.isFinite {
                attribute = MessageAttribute(dataType: "Number", stringValue: String(number))
            } else if let typed = try? container.decode(MessageAttribute.self) {
                attribute = typed
            } else {
                throw DecodingError.typeMismatch(
                    AttributeValue.self,
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "expected a string, a number or {dataType, stringValue}"))
            }
        }

        package func encode(to encoder: any Encoder) throws {
            try attribute.encode(to: encoder)
        }
    }

    /// `POST /v1/queues/{name}/messages`.
    package struct SendMessage: Sendable, Codable {
        package var body: String
        package var attributes: [String: AttributeValue]?
        package var delay: DurationValue?
        /// FIFO queues: the message group, and a deduplication id (else the queue's content-based one).
        package var group: String?
        package var deduplicationId: String?

        package init(
            body: String, attributes: [String: AttributeValue]? = nil, delay: DurationValue? = nil,
            group: String? = nil, deduplicationId: String? = nil
        ) {
            self.body = body
            self.attributes = attributes
            self.delay = delay
            self.group = group
            self.deduplicationId = deduplicationId
        }
    }

    /// `POST /v1/queues/{name}/messages` and `POST /v1/topics/{name}/publish` answer the message id.
    package struct MessageId: Sendable, Codable {
        package var messageId: String
        /// A FIFO topic's sequence number of the message.
        package var sequenceNumber: String?

        package init(messageId: String, sequenceNumber: String? = nil) {
            self.messageId = messageId
            self.sequenceNumber = sequenceNumber
        }
    }

    /// `POST /v1/queues/{name}/receive`.
    package struct Receive: Sendable, Codable {
        package var max: Int?
        package var visibilityTimeout: DurationValue?
        package var wait: DurationValue?

        package init(max: Int? = nil, visibilityTimeout: DurationValue? = nil, wait: DurationValue? = nil) {
            self.max = max
            self.visibilityTimeout = visibilityTimeout
            self.wait = wait
        }
    }

    /// `POST /v1/queues/{name}/receive` answers what was received.
    package struct Messages: Sendable, Codable {
        package var messages: [QueueMessage]

        package init(messages: [QueueMessage]) {
            self.messages = messages
        }
    }

    /// `POST /v1/queues/{name}/delete`.
    package struct DeleteMessages: Sendable, Codable {
        package var receiptHandles: [String]

        package init(receiptHandles: [String]) {
            self.receiptHandles = receiptHandles
        }
    }

    /// `POST /v1/queues/{name}/visibility`.
    package struct ChangeVisibility: Sendable, Codable {
        package var receiptHandle: String
        package var timeout: DurationValue

        package init(receiptHandle: String, timeout: DurationValue) {
            self.receiptHandle = receiptHandle
            self.timeout = timeout
        }
    }

    /// `POST /v1/queues/{name}/redrive`: back to each message's source queue, or to `to`.
    package struct Redrive: Sendable, Codable {
        package var to: String?

        package init(to: String? = nil) {
            self.to = to
        }
    }

    /// How many messages an operation touched: `{"deleted": n}`, `{"purged": n}`, `{"moved": n}`.
    package struct Count: Sendable, Codable {
        package var deleted: Int?
        package var purged: Int?
        package var moved: Int?

        package static func deleted(_ n: Int) -> Count { Count(deleted: n) }
        package static func purged(_ n: Int) -> Count { Count(purged: n) }
        package static func moved(_ n: Int) -> Count { Count(moved: n) }
    }

    /// `POST /v1/queues/{name}/visibility` answers `{"changed": true}`.
    package struct Changed: Sendable, Codable {
        package var changed: Bool

        package init() {
            changed = true
        }
    }
}
