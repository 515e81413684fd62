import Foundation
import StratusCore
import StratusRuntime

/// Queue attributes: SQS's names and units (seconds, JSON policies as strings) on the host's `QueueConfig`.
extension SQSOperations {
    /// Every attribute `GetQueueAttributes` may name.
    static let readable: Set<String> = [
        "All", "QueueArn", "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "VisibilityTimeout",
        "MaximumMessageSize", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds",
        "RedrivePolicy", "RedriveAllowPolicy", "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds",
        "SqsManagedSseEnabled", "FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
    ]

    /// Kept as given and shown back; Stratus does not act on them (no IAM, no encryption at rest).
    static let keptAsGiven: Set<String> = [
        "Policy", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
        // FIFO high throughput (kept and shown; Stratus has one throughput).
        "DeduplicationScope", "FifoThroughputLimit",
    ]

    /// The queue's attributes, every value a string as SQS gives them.
    func attributes(of queue: QueueConfig) async throws -> [String: String] {
        let counts = try await host.queues.counts(queue.name)
        var all: [String: String] = [
            "QueueArn": arn(queue.name),
            "ApproximateNumberOfMessages": String(counts.visible),
            "ApproximateNumberOfMessagesNotVisible": String(counts.inFlight),
            "ApproximateNumberOfMessagesDelayed": String(counts.delayed),
            "CreatedTimestamp": String(queue.createdAtMs / 1000),
            "LastModifiedTimestamp": String(queue.modifiedAtMs / 1000),
            "VisibilityTimeout": String(queue.visibilityTimeoutMs / 1000),
            "MaximumMessageSize": String(queue.maxMessageBytes),
            "MessageRetentionPeriod": String(queue.retentionMs / 1000),
            "DelaySeconds": String(queue.delayMs / 1000),
            "ReceiveMessageWaitTimeSeconds": String(queue.receiveWaitMs / 1000),
        ]
        if let dlq = queue.deadLetterQueue, let count = queue.maxReceiveCount {
            var json = JSONWriter()
            json.beginObject()
            json.field("deadLetterTargetArn", arn(dlq))
            json.key("maxReceiveCount")
            json.number(Int64(count))
            json.endObject()
            all["RedrivePolicy"] = String(decoding: json.bytes, as: UTF8.self)
        }
        if let policy = queue.redriveAllowPolicy { all["RedriveAllowPolicy"] = policy }
        if queue.fifo {
            all["FifoQueue"] = "true"
            all["ContentBasedDeduplication"] = String(queue.contentBasedDeduplication)
        }
        all.merge(queue.keptAttributes) { _, kept in kept }
        return all
    }

    /// Applies attributes a client sets (CreateQueue, SetQueueAttributes), each checked against SQS's range.
    func apply(_ attributes: [String: String], to queue: inout QueueConfig) throws {
        func seconds(_ name: String, _ value: String, _ range: ClosedRange<Int64>) throws -> Int64 {
            guard let number = Int64(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
                throw SQSError.invalidAttributeValue(
                    "Invalid value for the parameter \(name). Reason: must be an integer between \(range.lowerBound) and \(range.upperBound)."
                )
            }
            return number
        }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "VisibilityTimeout": queue.visibilityTimeoutMs = try seconds(name, value, 0...43_200) * 1000
            case "MessageRetentionPeriod": queue.retentionMs = try seconds(name, value, 60...1_209_600) * 1000
            case "MaximumMessageSize": queue.maxMessageBytes = Int(try seconds(name, value, 1024...1_048_576))
            case "DelaySeconds": queue.delayMs = try seconds(name, value, 0...900) * 1000
            case "ReceiveMessageWaitTimeSeconds": queue.receiveWaitMs = try seconds(name, value, 0...20) * 1000
            case "RedrivePolicy": try applyRedrivePolicy(value, to: &queue)
            case "RedriveAllowPolicy": try applyRedriveAllowPolicy(value, to: &queue)
            case "FifoQueue":
                // Only at creation, and it must agree with the name (as SQS: a .fifo name needs FifoQueue=true).
                guard let fifo = Bool(value.lowercased()), fifo == queue.name.hasSuffix(".fifo") else {
                    throw SQSError.invalidParameter(
                        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length"
                    )
                }
                queue.fifo = fifo
            case "ContentBasedDeduplication":
                let fifo = queue.fifo || attributes["FifoQueue"]?.lowercased() == "true"
                guard fifo, let enabled = Bool(value.lowercased()) else {
                    throw SQSError.invalidAttributeName(name)
                }
                queue.contentBasedDeduplication = enabled
            case _ where Self.keptAsGiven.contains(name):
                let fifo = queue.fifo || attributes["FifoQueue"] == "true"
                queue.otherAttributes[name] = try kept(name, value, fifo: fifo)
            default:
                throw SQSError.invalidAttributeName(name)
            }
        }
        // As SQS: one kind of server-side encryption at a time; setting one replaces the other.
        let kms = attributes["KmsMasterKeyId"].map { !$0.isEmpty } ?? false
        if kms && attributes["SqsManagedSseEnabled"]?.lowercased() == "true" {
            throw SQSError.invalidAttributeValue(
                "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."
            )
        }
        if kms {
            queue.otherAttributes["SqsManagedSseEnabled"] = nil
        } else if attributes["SqsManagedSseEnabled"]?.lowercased() == "true" || attributes["KmsMasterKeyId"] == "" {
            // No KMS key any more: nor its reuse period.
            queue.otherAttributes["KmsMasterKeyId"] = nil
            queue.otherAttributes["KmsDataKeyReusePeriodSeconds"] = nil
        }
        // A visibility timeout below the consumer's function timeout is accepted, as SQS accepts it (Lambda
        // checks only when a mapping is made): a batch still running may then be received again.
    }

    /// An attribute Stratus keeps without acting on it, checked as SQS checks it; `nil` (an empty value)
    /// removes it.
    private func kept(_ name: String, _ value: String, fifo: Bool) throws -> String? {
        let invalid = SQSError.invalidAttributeValue("Invalid value for the parameter \(name).")
        switch name {
        case "Policy", "KmsMasterKeyId":
            if value.isEmpty { return nil }
            guard value.utf8.count <= 20_480, MessageAttribute.hasAllowedCharacters(value) else { throw invalid }
            if name == "Policy", JSONValue.parseObject(value.utf8) == nil { throw invalid }
        case "KmsDataKeyReusePeriodSeconds":
            guard let seconds = Int(value), (60...86_400).contains(seconds) else {
                throw SQSError.invalidAttributeValue(
                    "Invalid value for the parameter KmsDataKeyReusePeriodSeconds. Reason: must be an integer between 60 and 86400."
                )
            }
        case "SqsManagedSseEnabled":
            guard let enabled = Bool(value.lowercased()) else { throw invalid }
            return String(enabled)
        case "DeduplicationScope", "FifoThroughputLimit":
            guard fifo else { throw SQSError.invalidAttributeName(name) }
            let allowed = name == "DeduplicationScope" ? ["messageGroup", "queue"] : ["perQueue", "perMessageGroupId"]
            guard allowed.contains(value) else { throw invalid }
        default:
            break
        }
        return value
    }

    private func applyRedrivePolicy(_ value: String, to queue: inout QueueConfig) throws {
        if value.isEmpty {
            queue.deadLetterQueue = nil
            queue.maxReceiveCount = nil
            return
        }
        let invalid = { (reason: String) in
            SQSError.invalidAttributeValue(
                "Value \(value.prefix(300)) for parameter RedrivePolicy is invalid. Reason: \(reason)")
        }
        guard let policy = JSONValue.parseObject(value.utf8) else {
            throw invalid("Invalid JSON.")
        }
        let fields = AWSInput(policy)
        let count: Int?
        do {
            count = try fields.int("maxReceiveCount")
        } catch {
            throw invalid("Invalid value for maxReceiveCount: valid values are integers from 1 to 1000 both inclusive.")
        }
        guard let target = try? fields.string("deadLetterTargetArn"), let count else {
            throw invalid(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn and maxReceiveCount.")
        }
        guard (1...1000).contains(count) else {
            throw invalid(
                "Invalid value for maxReceiveCount: \(count), valid values are from 1 to 1000 both inclusive.")
        }
        let dlq = Self.name(ofArn: target)
        guard let deadLetter = host.queues.config(dlq) else { throw invalid("Dead letter target does not exist.") }
        guard dlq != queue.name else { throw invalid("A queue cannot be its own dead-letter queue.") }
        if let allow = deadLetter.redriveAllowPolicy,
            let parsed = JSONValue.parseObject(allow.utf8)
        {
            let permission = try? AWSInput(parsed).string("redrivePermission")
            let sources = ((try? AWSInput(parsed).strings("sourceQueueArns")) ?? []).map(Self.name(ofArn:))
            if permission == "denyAll" || (permission == "byQueue" && !sources.contains(queue.name)) {
                throw invalid("Dead letter target's RedriveAllowPolicy does not allow this queue.")
            }
        }
        queue.deadLetterQueue = dlq
        queue.maxReceiveCount = count
    }

    private func applyRedriveAllowPolicy(_ value: String, to queue: inout QueueConfig) throws {
        if value.isEmpty {
            queue.redriveAllowPolicy = nil
            return
        }
        let invalid = { (reason: String) in
            SQSError.invalidAttributeValue(
                "Value \(value.prefix(300)) for parameter RedriveAllowPolicy is invalid. Reason: \(reason)")
        }
        guard let policy = JSONValue.parseObject(value.utf8) else {
            throw invalid("Invalid JSON.")
        }
        let fields = AWSInput(policy)
        switch try fields.string("redrivePermission") {
        case "allowAll", "denyAll": break
        case "byQueue":
            let sources = try fields.strings("sourceQueueArns")
            guard (1...10).contains(sources.count) else {
                throw invalid("byQueue needs between 1 and 10 sourceQueueArns.")
            }
        default:
            throw invalid("redrivePermission must be one of allowAll, denyAll, byQueue.")
        }
        queue.redriveAllowPolicy = value
    }
}
