import ArgumentParser
import Foundation
import StratusCore

/// `--attr k=v` (a String attribute) or `--attr k:Number=5`.
func parseAttributes(_ values: [String]) throws -> [String: V1.AttributeValue] {
    var attributes: [String: V1.AttributeValue] = [:]
    for value in values {
        guard let equals = value.firstIndex(of: "=") else {
            throw ValidationError("--attr expects key=value (got '\(value)')")
        }
        var key = String(value[..<equals])
        let text = String(value[value.index(after: equals)...])
        var type = "String"
        if let colon = key.firstIndex(of: ":") {
            type = String(key[key.index(after: colon)...])
            key = String(key[..<colon])
        }
        guard !key.isEmpty else { throw ValidationError("--attr expects key=value (got '\(value)')") }
        attributes[key] = V1.AttributeValue(MessageAttribute(dataType: type, stringValue: text))
    }
    return attributes
}

/// `--data TEXT` or `--data @file`.
func readData(_ data: String) throws -> String {
    guard data.hasPrefix("@") else { return data }
    guard let contents = FileManager.default.contents(atPath: String(data.dropFirst())) else {
        throw ValidationError("cannot read '\(data.dropFirst())'")
    }
    return String(decoding: contents, as: UTF8.self)
}

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish a message to a topic.")

    @Argument(help: "Topic name.") var topic: String
    @Option(help: "The message, or @FILE.") var data: String
    @Option(help: "A message attribute, key=value or key:Number=value; repeatable.") var attr: [String] = []
    @Option(help: "Subject.") var subject: String?
    @Option(help: "FIFO topics: the message group (MessageGroupId).") var group: String?
    @Option(help: "FIFO topics: the deduplication id (MessageDeduplicationId).") var dedup: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = V1.Publish(
            message: try readData(data), subject: subject, attributes: try parseAttributes(attr), group: group,
            deduplicationId: dedup)
        options.show(
            try await options.client.post(
                "/v1/topics/\(topic.percentEncodedQuery)/publish", body, as: V1.MessageId.self)
        ) {
            print($0.messageId)
        }
    }
}

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a message to a queue.")

    @Argument(help: "Queue name.") var queue: String
    @Option(help: "The message body, or @FILE.") var data: String
    @Option(help: "A message attribute, key=value or key:Number=value; repeatable.") var attr: [String] = []
    @Option(help: "Delay before the message becomes visible, e.g. 5s.") var delay: String?
    @Option(help: "The message group (MessageGroupId): FIFO queues order by it; standard queues accept it.") var group:
        String?
    @Option(help: "FIFO queues: the deduplication id (MessageDeduplicationId).") var dedup: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = V1.SendMessage(
            body: try readData(data), attributes: try parseAttributes(attr), delay: delay.map { DurationValue($0) },
            group: group, deduplicationId: dedup)
        options.show(
            try await options.client.post(
                "/v1/queues/\(queue.percentEncodedQuery)/messages", body, as: V1.MessageId.self)
        ) {
            print($0.messageId)
        }
    }
}

struct Queues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List queues: visible, in flight, delayed, dead-lettered.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        options.show(try await options.client.get("/v1/queues", as: V1.QueueList.self)) { printQueues($0.queues) }
    }
}

func printQueues(_ queues: [V1.QueueSummary]) {
    print(
        "QUEUE".padding(24) + "VISIBLE".padding(9) + "INFLIGHT".padding(9) + "DELAYED".padding(9) + "DLQ".padding(24)
            + "DEADLETTERED".padding(13) + "CONSUMER")
    for queue in queues {
        print(
            queue.name.padding(24) + "\(queue.counts.visible)".padding(9) + "\(queue.counts.inFlight)".padding(9)
                + "\(queue.counts.delayed)".padding(9) + (queue.deadLetterQueue ?? "-").padding(24)
                + (queue.deadLetterQueue == nil ? "-" : "\(queue.deadLettered ?? 0)").padding(13)
                + (queue.consumer.map { queue.consumerEnabled == false ? "\($0) (disabled)" : $0 } ?? "-"))
    }
}

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List topics and their subscriptions.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        options.show(try await options.client.get("/v1/topics", as: V1.TopicList.self)) { printTopics($0.topics) }
    }
}

func printTopics(_ topics: [V1.TopicSummary]) {
    for topic in topics {
        print(topic.name)
        for subscription in topic.subscriptions {
            var line = "  -> \(subscription.kind) \(subscription.target)"
            if let filter = subscription.filter { line += "  filter(\(subscription.filterScope)) \(filter)" }
            if subscription.raw { line += "  raw" }
            if let dlq = subscription.deadLetterQueue { line += "  dlq \(dlq)" }
            print(line)
        }
    }
}

struct Redrive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move dead-lettered messages back to their source queue.")

    @Argument(help: "The dead-letter queue.") var deadLetterQueue: String
    @Option(help: "Move them to this queue instead of where each came from.") var to: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        let path = "/v1/queues/\(deadLetterQueue.percentEncodedQuery)/redrive"
        options.show(try await options.client.post(path, V1.Redrive(to: to), as: V1.Count.self)) {
            print("moved \($0.moved ?? 0) messages")
        }
    }
}
