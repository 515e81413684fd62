extension V1 {
    /// `POST /v1/queues` (create) and `PATCH /v1/queues/{name}` (update): every field but `name` optional.
    public struct QueueSettings: Sendable, Codable, StrictlyDecodable, Clearable {
        public static let clearableKeys: Set<String> = ["deadLetterQueue"]

        public var name: String?
        public var visibilityTimeout: DurationValue?
        public var retention: DurationValue?
        public var delay: DurationValue?
        public var maxReceiveCount: Int?
        /// A queue name; `null` (in an update) removes it.
        public var deadLetterQueue: Nullable<String>?

        public enum Keys: String, CodingKey, CaseIterable {
            case name, visibilityTimeout, retention, delay, maxReceiveCount, deadLetterQueue
        }

        public init(
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

        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownKeys(Keys.self)
            let container = try decoder.container(keyedBy: Keys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            visibilityTimeout = try container.decodeIfPresent(DurationValue.self, forKey: .visibilityTimeout)
            retention = try container.decodeIfPresent(DurationValue.self, forKey: .retention)
            delay = try container.decodeIfPresent(DurationValue.self, forKey: .delay)
            maxReceiveCount = try container.decodeIfPresent(Int.self, forKey: .maxReceiveCount)
            if container.contains(.deadLetterQueue) {
                deadLetterQueue = try container.decodeNil(forKey: .deadLetterQueue)
                    ? .null : .value(try container.decode(String.self, forKey: .deadLetterQueue))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encodeIfPresent(name, forKey: .name)
            try container.encodeIfPresent(visibilityTimeout, forKey: .visibilityTimeout)
            try container.encodeIfPresent(retention, forKey: .retention)
            try container.encodeIfPresent(delay, forKey: .delay)
            try container.encodeIfPresent(maxReceiveCount, forKey: .maxReceiveCount)
            switch deadLetterQueue {
            case .none: break
            case .null?: try container.encodeNil(forKey: .deadLetterQueue)
            case .value(let name)?: try container.encode(name, forKey: .deadLetterQueue)
            }
        }
    }

    /// A value a request may set or clear with `null`.
    public enum Nullable<Wrapped: Sendable & Codable>: Sendable, Codable {
        case null
        case value(Wrapped)
    }

    /// `POST /v1/queues` answers the queue's name.
    public struct QueueName: Sendable, Codable {
        public var queue: String

        public init(queue: String) {
            self.queue = queue
        }
    }

    /// `PATCH /v1/queues/{name}` answers the queue as it now is.
    public struct QueueSettingsAnswer: Sendable, Codable {
        public var name: String
        public var visibilityTimeoutMs: Int64
        public var retentionMs: Int64
        public var delayMs: Int64
        public var maxReceiveCount: Int?
        public var deadLetterQueue: String?
        public var consumer: String?

        public init(_ queue: QueueConfig) {
            name = queue.name
            visibilityTimeoutMs = queue.visibilityTimeoutMs
            retentionMs = queue.retentionMs
            delayMs = queue.delayMs
            maxReceiveCount = queue.maxReceiveCount
            deadLetterQueue = queue.deadLetterQueue
            consumer = queue.consumer?.function
        }
    }

    /// One queue in `GET /v1/queues` and `GET /v1/status`.
    public struct QueueSummary: Sendable, Codable {
        public var name: String
        public var counts: QueueCounts
        /// Messages in its dead-letter queue.
        public var deadLettered: Int?
        public var deadLetterQueue: String?
        public var maxReceiveCount: Int?
        public var visibilityTimeoutMs: Int64
        /// The consumer function.
        public var consumer: String?

        public init(
            name: String, counts: QueueCounts, deadLettered: Int?, deadLetterQueue: String?, maxReceiveCount: Int?,
            visibilityTimeoutMs: Int64, consumer: String?
        ) {
            self.name = name
            self.counts = counts
            self.deadLettered = deadLettered
            self.deadLetterQueue = deadLetterQueue
            self.maxReceiveCount = maxReceiveCount
            self.visibilityTimeoutMs = visibilityTimeoutMs
            self.consumer = consumer
        }
    }

    /// `GET /v1/queues`.
    public struct QueueList: Sendable, Codable {
        public var queues: [QueueSummary]

        public init(queues: [QueueSummary]) {
            self.queues = queues
        }
    }

    /// A message attribute as `/v1` takes it: a string, a number, or `{dataType, stringValue}`.
    public struct AttributeValue: Sendable, Codable, Equatable {
        public var attribute: MessageAttribute

        public init(_ attribute: MessageAttribute) {
            self.attribute = attribute
        }

        public init(from decoder: any Decoder) throws {
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
                    .init(codingPath: decoder.codingPath, debugDescription: "expected a string, a number or {dataType, stringValue}"))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            try attribute.encode(to: encoder)
        }
    }

    /// `POST /v1/queues/{name}/messages`.
    public struct SendMessage: Sendable, Codable {
        public var body: String
        public var attributes: [String: AttributeValue]?
        public var delay: DurationValue?

        public init(body: String, attributes: [String: AttributeValue]? = nil, delay: DurationValue? = nil) {
            self.body = body
            self.attributes = attributes
            self.delay = delay
        }
    }

    /// `POST /v1/queues/{name}/messages` and `POST /v1/topics/{name}/publish` answer the message id.
    public struct MessageId: Sendable, Codable {
        public var messageId: String

        public init(messageId: String) {
            self.messageId = messageId
        }
    }

    /// `POST /v1/queues/{name}/receive`.
    public struct Receive: Sendable, Codable {
        public var max: Int?
        public var visibilityTimeout: DurationValue?
        public var wait: DurationValue?

        public init(max: Int? = nil, visibilityTimeout: DurationValue? = nil, wait: DurationValue? = nil) {
            self.max = max
            self.visibilityTimeout = visibilityTimeout
            self.wait = wait
        }
    }

    /// `POST /v1/queues/{name}/receive` answers what was received.
    public struct Messages: Sendable, Codable {
        public var messages: [QueueMessage]

        public init(messages: [QueueMessage]) {
            self.messages = messages
        }
    }

    /// `POST /v1/queues/{name}/delete`.
    public struct DeleteMessages: Sendable, Codable {
        public var receiptHandles: [String]

        public init(receiptHandles: [String]) {
            self.receiptHandles = receiptHandles
        }
    }

    /// `POST /v1/queues/{name}/visibility`.
    public struct ChangeVisibility: Sendable, Codable {
        public var receiptHandle: String
        public var timeout: DurationValue

        public init(receiptHandle: String, timeout: DurationValue) {
            self.receiptHandle = receiptHandle
            self.timeout = timeout
        }
    }

    /// `POST /v1/queues/{name}/redrive`: back to each message's source queue, or to `to`.
    public struct Redrive: Sendable, Codable {
        public var to: String?

        public init(to: String? = nil) {
            self.to = to
        }
    }

    /// How many messages an operation touched: `{"deleted": n}`, `{"purged": n}`, `{"moved": n}`.
    public struct Count: Sendable, Codable {
        public var deleted: Int?
        public var purged: Int?
        public var moved: Int?

        public static func deleted(_ n: Int) -> Count { Count(deleted: n) }
        public static func purged(_ n: Int) -> Count { Count(purged: n) }
        public static func moved(_ n: Int) -> Count { Count(moved: n) }
    }

    /// `POST /v1/queues/{name}/visibility` answers `{"changed": true}`.
    public struct Changed: Sendable, Codable {
        public var changed: Bool

        public init() {
            changed = true
        }
    }
}
