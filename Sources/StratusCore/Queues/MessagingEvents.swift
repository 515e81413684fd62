import Foundation

/// Builders for the payloads SNS and SQS deliver, byte for byte in AWS's shapes.
package enum MessagingEvents {
    /// A published message, before it is shaped for each subscription.
    package struct Publication: Sendable {
        package var messageId: String
        package var topic: String
        package var message: String
        package var subject: String?
        package var attributes: [String: MessageAttribute]
        package var timestamp: Date
        /// A FIFO topic's number for the message (SNS's `SequenceNumber`); `nil` on standard topics.
        package var sequenceNumber: String?

        package init(
            messageId: String, topic: String, message: String, subject: String?, attributes: [String: MessageAttribute],
            timestamp: Date, sequenceNumber: String? = nil
        ) {
            self.messageId = messageId
            self.topic = topic
            self.message = message
            self.subject = subject
            self.attributes = attributes
            self.timestamp = timestamp
            self.sequenceNumber = sequenceNumber
        }
    }

    /// The SNS JSON envelope delivered to queues and HTTP endpoints (raw delivery off).
    package static func envelope(_ p: Publication, subscriptionId: String) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("Type", "Notification")
        json.field("MessageId", p.messageId)
        if let sequence = p.sequenceNumber { json.field("SequenceNumber", sequence) }
        json.field("TopicArn", AWS.topicArn(p.topic))
        if let subject = p.subject { json.field("Subject", subject) }
        json.field("Message", p.message)
        json.field("Timestamp", isoTimestamp(p.timestamp))
        // A FIFO topic's envelope has no signature fields, as SNS's.
        if p.sequenceNumber == nil {
            json.field("SignatureVersion", "1")
            json.field("Signature", "EXAMPLE")
            json.field("SigningCertURL", "http://127.0.0.1/SimpleNotificationService-stratus.pem")
        }
        json.field(
            "UnsubscribeURL",
            "http://127.0.0.1/?Action=Unsubscribe&SubscriptionArn=\(AWS.subscriptionArn(topic: p.topic, id: subscriptionId))"
        )
        if !p.attributes.isEmpty { snsAttributes(p.attributes, into: &json) }
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// The event a function subscribed to a topic receives (`Records[0].Sns`).
    package static func snsEvent(_ p: Publication, subscriptionId: String) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("Records")
        json.beginArray()
        json.beginObject()
        json.field("EventSource", "aws:sns")
        json.field("EventVersion", "1.0")
        json.field("EventSubscriptionArn", "\(AWS.subscriptionArn(topic: p.topic, id: subscriptionId))")
        json.key("Sns")
        json.beginObject()
        json.field("Type", "Notification")
        json.field("MessageId", p.messageId)
        json.field("TopicArn", AWS.topicArn(p.topic))
        json.key("Subject")
        if let subject = p.subject { json.string(subject) } else { json.null() }
        json.field("Message", p.message)
        json.field("Timestamp", isoTimestamp(p.timestamp))
        json.field("SignatureVersion", "1")
        json.field("Signature", "EXAMPLE")
        json.field("SigningCertUrl", "http://127.0.0.1/SimpleNotificationService-stratus.pem")
        json.field(
            "UnsubscribeUrl",
            "http://127.0.0.1/?Action=Unsubscribe&SubscriptionArn=\(AWS.subscriptionArn(topic: p.topic, id: subscriptionId))"
        )
        snsAttributes(p.attributes, into: &json)
        json.endObject()
        json.endObject()
        json.endArray()
        json.endObject()
        return String(decoding: json.bytes, as: UTF8.self)
    }

    private static func snsAttributes(_ attributes: [String: MessageAttribute], into json: inout JSONWriter) {
        json.key("MessageAttributes")
        json.beginObject()
        for (name, attribute) in attributes.sorted(by: { $0.key < $1.key }) {
            json.key(name)
            json.beginObject()
            json.field("Type", attribute.dataType)
            json.field("Value", attribute.stringValue)
            json.endObject()
        }
        json.endObject()
    }

    /// The SQS event a queue consumer receives for a batch.
    package static func sqsEvent(_ messages: [QueueMessage]) -> [UInt8] {
        var json = JSONWriter(capacity: 512 * messages.count + messages.reduce(0) { $0 + $1.body.utf8.count })
        json.beginObject()
        json.key("Records")
        json.beginArray()
        for message in messages {
            json.beginObject()
            json.field("messageId", message.id)
            json.field("receiptHandle", message.receiptHandle ?? "")
            json.field("body", message.body)
            json.key("attributes")
            json.beginObject()
            json.field("ApproximateReceiveCount", String(message.receiveCount))
            json.field("SentTimestamp", String(message.sentAtMs))
            json.field("SenderId", AWS.accountId)
            json.field("ApproximateFirstReceiveTimestamp", String(message.firstReceivedAtMs ?? message.sentAtMs))
            if let trace = message.traceHeader { json.field("AWSTraceHeader", trace) }
            // A dead-lettered message says where it came from, as Lambda's records of a dead-letter queue do.
            if let source = message.sourceQueue { json.field("DeadLetterQueueSourceArn", AWS.queueArn(source)) }
            if let group = message.groupId {
                json.field("MessageGroupId", group)
                if let dedup = message.deduplicationId { json.field("MessageDeduplicationId", dedup) }
                if let sequence = message.sequenceNumber { json.field("SequenceNumber", sequence) }
            }
            json.endObject()
            json.key("messageAttributes")
            json.beginObject()
            for (name, attribute) in message.attributes.sorted(by: { $0.key < $1.key }) {
                json.key(name)
                json.beginObject()
                json.field(attribute.isBinary ? "binaryValue" : "stringValue", attribute.stringValue)
                json.key("stringListValues")
                json.beginArray()
                json.endArray()
                json.key("binaryListValues")
                json.beginArray()
                json.endArray()
                json.field("dataType", attribute.dataType)
                json.endObject()
            }
            json.endObject()
            json.key("md5OfMessageAttributes")
            if let digest = MessageDigest.attributes(message.attributes) { json.string(digest) } else { json.null() }
            json.field("md5OfBody", MessageDigest.body(message.body))
            json.field("eventSource", "aws:sqs")
            json.field("eventSourceARN", AWS.queueArn(message.queue))
            json.field("awsRegion", AWS.region)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }

    /// `2021-02-16T21:41:19.978Z`.
    package static func isoTimestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
