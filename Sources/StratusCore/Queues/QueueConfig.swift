/// A queue with SQS standard-queue semantics, declared in `triggers/*.yaml` or created through `/v1`.
package struct QueueConfig: Sendable, Equatable, Codable {
    /// An event source mapping: a function that consumes the queue in batches.
    package struct Consumer: Sendable, Equatable, Codable {
        package var function: String
        package var batchSize = 10
        /// How long to gather a batch before invoking (0: invoke with what is there).
        package var batchWindowMs: Int64 = 0
        /// Batches in flight at once.
        package var maxConcurrency = 4
        /// The event source mapping's id (Lambda's `UUID`); `nil` for a consumer declared in a trigger file.
        package var uuid: String?
        /// A disabled mapping takes nothing from the queue.
        package var enabled = true
        /// Whether a `batchItemFailures` answer keeps those messages (Lambda's `ReportBatchItemFailures`);
        /// without it any success deletes the whole batch. Declared consumers always report.
        package var reportBatchItemFailures = true
        /// Epoch milliseconds of the mapping's last change.
        package var modifiedAtMs: Int64 = 0
        /// Lambda's `FilterCriteria` patterns (see `EventFilter`): none, every message goes to the function.
        package var filterPatterns: [String] = []

        package init(function: String) {
            self.function = function
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            function = try c.decode(String.self, forKey: .function)
            batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
            batchWindowMs = try c.decodeIfPresent(Int64.self, forKey: .batchWindowMs) ?? batchWindowMs
            maxConcurrency = try c.decodeIfPresent(Int.self, forKey: .maxConcurrency) ?? maxConcurrency
            uuid = try c.decodeIfPresent(String.self, forKey: .uuid)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? enabled
            reportBatchItemFailures =
                try c.decodeIfPresent(Bool.self, forKey: .reportBatchItemFailures) ?? reportBatchItemFailures
            modifiedAtMs = try c.decodeIfPresent(Int64.self, forKey: .modifiedAtMs) ?? modifiedAtMs
            filterPatterns = try c.decodeIfPresent([String].self, forKey: .filterPatterns) ?? []
        }
    }

    package var name: String
    package var visibilityTimeoutMs: Int64 = 30_000
    /// Receives after which a message moves to `deadLetterQueue`; `nil`: never.
    package var maxReceiveCount: Int?
    package var deadLetterQueue: String?
    /// Messages older than this are deleted (SQS default 4 days).
    package var retentionMs: Int64 = 4 * 86_400_000
    /// Default delay before a new message becomes visible.
    package var delayMs: Int64 = 0
    /// The largest message body the queue takes (SQS `MaximumMessageSize`, 1 KiB to 1 MiB).
    package var maxMessageBytes = QueueConfig.maxMessageBytes
    /// How long a receive that names no wait waits (SQS `ReceiveMessageWaitTimeSeconds`).
    package var receiveWaitMs: Int64 = 0
    /// SQS `RedriveAllowPolicy` as the JSON text a client set; `nil`: allow all.
    package var redriveAllowPolicy: String?
    package var tags: [String: String] = [:]
    /// SQS attributes Stratus keeps and shows but does not act on (`Policy`, `KmsMasterKeyId`, …).
    package var otherAttributes: [String: String] = [:]

    /// `otherAttributes` as SQS shows them, with its defaults for those not set: SQS-managed encryption unless
    /// a KMS key is set (then the key's reuse period, shown only with a key), and a FIFO queue's throughput
    /// settings.
    package var keptAttributes: [String: String] {
        var all = otherAttributes
        if all["KmsMasterKeyId"] != nil {
            all["SqsManagedSseEnabled"] = "false"
            all["KmsDataKeyReusePeriodSeconds"] = all["KmsDataKeyReusePeriodSeconds"] ?? "300"
        } else {
            all["SqsManagedSseEnabled"] = all["SqsManagedSseEnabled"] ?? "true"
            all["KmsDataKeyReusePeriodSeconds"] = nil
        }
        if fifo {
            all["DeduplicationScope"] = all["DeduplicationScope"] ?? "queue"
            all["FifoThroughputLimit"] = all["FifoThroughputLimit"] ?? "perQueue"
        }
        return all
    }
    /// Epoch milliseconds of the creation and the last change of the settings (0: not known).
    package var createdAtMs: Int64 = 0
    package var modifiedAtMs: Int64 = 0
    package var consumer: Consumer?
    /// SQS FIFO semantics (the name ends in `.fifo`): ordered message groups, deduplication.
    package var fifo = false
    /// Deduplicate by the SHA-256 of the body when a send gives no deduplication id.
    package var contentBasedDeduplication = false

    package init(name: String) {
        self.name = name
        fifo = name.hasSuffix(".fifo")
    }

    /// Decodes a stored queue; keys written by later versions have their defaults when missing.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        visibilityTimeoutMs = try c.decodeIfPresent(Int64.self, forKey: .visibilityTimeoutMs) ?? visibilityTimeoutMs
        maxReceiveCount = try c.decodeIfPresent(Int.self, forKey: .maxReceiveCount)
        deadLetterQueue = try c.decodeIfPresent(String.self, forKey: .deadLetterQueue)
        retentionMs = try c.decodeIfPresent(Int64.self, forKey: .retentionMs) ?? retentionMs
        delayMs = try c.decodeIfPresent(Int64.self, forKey: .delayMs) ?? delayMs
        maxMessageBytes = try c.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? maxMessageBytes
        receiveWaitMs = try c.decodeIfPresent(Int64.self, forKey: .receiveWaitMs) ?? receiveWaitMs
        redriveAllowPolicy = try c.decodeIfPresent(String.self, forKey: .redriveAllowPolicy)
        tags = try c.decodeIfPresent([String: String].self, forKey: .tags) ?? tags
        otherAttributes = try c.decodeIfPresent([String: String].self, forKey: .otherAttributes) ?? otherAttributes
        createdAtMs = try c.decodeIfPresent(Int64.self, forKey: .createdAtMs) ?? createdAtMs
        modifiedAtMs = try c.decodeIfPresent(Int64.self, forKey: .modifiedAtMs) ?? modifiedAtMs
        consumer = try c.decodeIfPresent(Consumer.self, forKey: .consumer)
        fifo = try c.decodeIfPresent(Bool.self, forKey: .fifo) ?? false
        contentBasedDeduplication = try c.decodeIfPresent(Bool.self, forKey: .contentBasedDeduplication) ?? false
    }

    /// Whether `other` has the same settings a client can set (everything but the consumer and tags): creating
    /// a queue that exists with the same settings is a no-op, with others it is `QueueAlreadyExists`.
    package func hasSameAttributes(as other: QueueConfig) -> Bool {
        visibilityTimeoutMs == other.visibilityTimeoutMs && maxReceiveCount == other.maxReceiveCount
            && deadLetterQueue == other.deadLetterQueue && retentionMs == other.retentionMs && delayMs == other.delayMs
            && maxMessageBytes == other.maxMessageBytes && receiveWaitMs == other.receiveWaitMs
            && redriveAllowPolicy == other.redriveAllowPolicy && keptAttributes == other.keptAttributes
            && fifo == other.fifo && contentBasedDeduplication == other.contentBasedDeduplication
    }

    /// The settings pinned into `Limits`: a queue stored by an older version, or edited by hand, can never
    /// carry a value that makes time arithmetic overflow.
    package func clamped() -> QueueConfig {
        func clamp(_ ms: Int64, _ range: ClosedRange<Duration>) -> Int64 {
            Swift.min(Swift.max(ms, range.lowerBound.milliseconds), range.upperBound.milliseconds)
        }
        var queue = self
        queue.visibilityTimeoutMs = clamp(visibilityTimeoutMs, Limits.visibilityTimeout)
        queue.retentionMs = clamp(retentionMs, Limits.retention)
        queue.delayMs = clamp(delayMs, Limits.messageDelay)
        queue.receiveWaitMs = clamp(receiveWaitMs, Limits.receiveWait)
        queue.maxMessageBytes = Swift.min(Swift.max(maxMessageBytes, 1024), Self.maxMessageBytes)
        queue.maxReceiveCount = maxReceiveCount.map {
            Swift.min(Swift.max($0, Limits.maxReceiveCount.lowerBound), Limits.maxReceiveCount.upperBound)
        }
        if var consumer = queue.consumer {
            consumer.batchSize = Swift.min(
                Swift.max(consumer.batchSize, Limits.batchSize.lowerBound), Limits.batchSize.upperBound)
            consumer.batchWindowMs = clamp(consumer.batchWindowMs, Limits.batchWindow)
            consumer.maxConcurrency = Swift.min(
                Swift.max(consumer.maxConcurrency, Limits.consumerConcurrency.lowerBound),
                Limits.consumerConcurrency.upperBound)
            queue.consumer = consumer
        }
        return queue
    }

    /// SQS's limit on a message body: 1 MiB.
    package static let maxMessageBytes = 1_048_576

    /// The `maxReceiveCount` of a declared queue that names a `deadLetterQueue` and no count.
    package static let defaultMaxReceiveCount = 5

    /// SQS FIFO's deduplication interval: 5 minutes.
    package static let deduplicationIntervalMs: Int64 = 300_000

    /// Whether `name` is a valid queue name: SQS's 1–80 of `[A-Za-z0-9_-]`, the last five `.fifo` for a FIFO
    /// queue.
    package static func isValidQueueName(_ name: String) -> Bool {
        name.utf8.count <= 80 && isValidName(name.hasSuffix(".fifo") ? String(name.dropLast(5)) : name)
    }

    /// Whether `id` is a valid message group, deduplication or receive attempt id: 1 to 128 printable ASCII
    /// characters without spaces (letters, digits, punctuation), as SQS takes them.
    package static func isValidId(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count) && id.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// Whether `name` is a valid topic name, or queue name without `.fifo` (1–80 of `[A-Za-z0-9_-]`).
    package static func isValidName(_ name: String, maxLength: Int = 80) -> Bool {
        !name.isEmpty && name.utf8.count <= maxLength
            && name.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
                    || $0 == 0x5F
            }
    }
}

/// A message to put on a queue.
package struct OutgoingMessage: Sendable, Equatable {
    package var body: String
    package var attributes: [String: MessageAttribute]
    /// Delay before it becomes visible; `nil`: the queue's default.
    package var delayMs: Int64?
    /// The X-Ray trace header, SQS's one message system attribute (`AWSTraceHeader`).
    package var traceHeader: String?
    /// FIFO queues: the message group (`MessageGroupId`) and deduplication id (`MessageDeduplicationId`).
    package var groupId: String?
    package var deduplicationId: String?
    /// What deduplicates the message: its deduplication id, or with `DeduplicationScope: messageGroup` the id
    /// within its group (`nil`: the deduplication id).
    package var deduplicationKey: String?

    package init(
        body: String, attributes: [String: MessageAttribute] = [:], delayMs: Int64? = nil, traceHeader: String? = nil,
        groupId: String? = nil, deduplicationId: String? = nil
    ) {
        self.body = body
        self.attributes = attributes
        self.delayMs = delayMs
        self.traceHeader = traceHeader
        self.groupId = groupId
        self.deduplicationId = deduplicationId
    }
}

/// A message as a receiver gets it.
package struct QueueMessage: Sendable, Equatable, Codable {
    package var id: String
    package var queue: String
    package var body: String
    package var attributes: [String: MessageAttribute]
    /// Epoch milliseconds of the send.
    package var sentAtMs: Int64
    /// Epoch milliseconds of the first receive.
    package var firstReceivedAtMs: Int64?
    package var receiveCount: Int
    /// Set by a receive; needed to delete the message or change its visibility.
    package var receiptHandle: String?
    /// The sender's X-Ray trace header (`AWSTraceHeader`).
    package var traceHeader: String?
    /// The queue a dead-lettered message was moved from.
    package var sourceQueue: String?
    /// FIFO queues: the message group, the deduplication id and the sequence number (SQS's
    /// `MessageGroupId`, `MessageDeduplicationId`, `SequenceNumber`).
    package var groupId: String?
    package var deduplicationId: String?
    package var sequenceNumber: String?

    package init(
        id: String, queue: String, body: String, attributes: [String: MessageAttribute], sentAtMs: Int64,
        firstReceivedAtMs: Int64?, receiveCount: Int, receiptHandle: String?
    ) {
        self.id = id
        self.queue = queue
        self.body = body
        self.attributes = attributes
        self.sentAtMs = sentAtMs
        self.firstReceivedAtMs = firstReceivedAtMs
        self.receiveCount = receiveCount
        self.receiptHandle = receiptHandle
    }
}

/// What a send answers for one message: its id and, in a FIFO queue, its sequence number (a duplicate within
/// the deduplication interval answers the first message's).
package struct SentMessage: Sendable, Equatable {
    package var id: String
    package var sequence: Int64?

    package init(id: String, sequence: Int64? = nil) {
        self.id = id
        self.sequence = sequence
    }

    /// SQS's `SequenceNumber`: 20 decimal digits that grow within a queue.
    package var sequenceNumber: String? { sequence.map(QueueMessage.sequenceNumber) }
}

extension QueueMessage {
    /// SQS's `SequenceNumber` of a FIFO message: its sequence as 20 decimal digits.
    package static func sequenceNumber(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// A receipt handle: `<random>.<when it was received, epoch ms>.<seq>`. The store finds the message by its
    /// sequence number (the last part) and checks the whole handle; the time bounds its visibility (12 hours).
    package static func receiptHandle(random: String, receivedAtMs: Int64, seq: Int64) -> String {
        "\(random).\(receivedAtMs).\(seq)"
    }

    /// When the receive that issued `handle` happened; `nil` for handles without the time (older versions).
    package static func receivedAtMs(ofReceiptHandle handle: String) -> Int64? {
        let parts = handle.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return Int64(parts[1])
    }
}

/// How a change of a received message's visibility ended.
package enum VisibilityChange: Sendable, Equatable {
    case changed
    /// The handle is the message's latest, but its visibility timeout has run out (or was set to 0): it is
    /// visible again, not in flight (SQS's `MessageNotInflight`).
    case notInFlight
    /// No message carries this handle: deleted, received again since, or never issued.
    case unknownHandle
}

/// What a user sees of a queue's depth.
package struct QueueCounts: Sendable, Equatable, Codable {
    /// Ready to be received now.
    package var visible = 0
    /// Received and not yet deleted, within their visibility timeout.
    package var inFlight = 0
    /// Sent with a delay that has not passed yet.
    package var delayed = 0

    package init(visible: Int = 0, inFlight: Int = 0, delayed: Int = 0) {
        self.visible = visible
        self.inFlight = inFlight
        self.delayed = delayed
    }
}
