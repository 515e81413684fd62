import ArgumentParser
import Foundation

/// `--attr k=v` (a String attribute) or `--attr k:Number=5`.
func parseAttributes(_ values: [String]) throws -> [String: Any] {
    var attributes: [String: Any] = [:]
    for value in values {
        guard let equals = value.firstIndex(of: "=") else { throw ValidationError("--attr expects key=value (got '\(value)')") }
        var key = String(value[..<equals])
        let text = String(value[value.index(after: equals)...])
        var type = "String"
        if let colon = key.firstIndex(of: ":") {
            type = String(key[key.index(after: colon)...])
            key = String(key[..<colon])
        }
        guard !key.isEmpty else { throw ValidationError("--attr expects key=value (got '\(value)')") }
        attributes[key] = ["dataType": type, "stringValue": text]
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

func jsonData(_ object: [String: Any]) throws -> Data {
    try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
}

struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish a message to a topic.")

    @Argument(help: "Topic name.") var topic: String
    @Option(help: "The message, or @FILE.") var data: String
    @Option(help: "A message attribute, key=value or key:Number=value; repeatable.") var attr: [String] = []
    @Option(help: "Subject.") var subject: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        var body: [String: Any] = ["message": try readData(data), "attributes": try parseAttributes(attr)]
        if let subject { body["subject"] = subject }
        let answer = try await options.client.call("POST", "/v1/topics/\(topic.percentEncodedQuery)/publish", body: try jsonData(body))
        printMessageId(answer, json: options.json)
    }
}

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a message to a queue.")

    @Argument(help: "Queue name.") var queue: String
    @Option(help: "The message body, or @FILE.") var data: String
    @Option(help: "A message attribute, key=value or key:Number=value; repeatable.") var attr: [String] = []
    @Option(help: "Delay before the message becomes visible, e.g. 5s.") var delay: String?
    @OptionGroup var options: ClientOptions

    func run() async throws {
        var body: [String: Any] = ["body": try readData(data), "attributes": try parseAttributes(attr)]
        if let delay { body["delay"] = delay }
        let answer = try await options.client.call("POST", "/v1/queues/\(queue.percentEncodedQuery)/messages", body: try jsonData(body))
        printMessageId(answer, json: options.json)
    }
}

func printMessageId(_ answer: Data, json: Bool) {
    if json {
        print(String(decoding: answer, as: UTF8.self))
    } else {
        let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any]
        print(object?["messageId"] as? String ?? "")
    }
}

struct Queues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List queues: visible, in flight, delayed, dead-lettered.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = try await options.client.call("GET", "/v1/queues")
        if options.json { return print(String(decoding: body, as: UTF8.self)) }
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        printQueues(object?["queues"] as? [[String: Any]] ?? [])
    }
}

func printQueues(_ queues: [[String: Any]]) {
    print("QUEUE".padding(24) + "VISIBLE".padding(9) + "INFLIGHT".padding(9) + "DELAYED".padding(9) + "DLQ".padding(24) + "DEADLETTERED".padding(13) + "CONSUMER")
    for queue in queues {
        let counts = queue["counts"] as? [String: Any] ?? [:]
        let dlq = queue["deadLetterQueue"] as? String
        print(
            "\(queue["name"] ?? "")".padding(24) + "\(counts["visible"] ?? 0)".padding(9) + "\(counts["inFlight"] ?? 0)".padding(9)
                + "\(counts["delayed"] ?? 0)".padding(9) + (dlq ?? "-").padding(24)
                + (dlq == nil ? "-" : "\(queue["deadLettered"] ?? 0)").padding(13) + "\(queue["consumer"] as? String ?? "-")")
    }
}

struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List topics and their subscriptions.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let body = try await options.client.call("GET", "/v1/topics")
        if options.json { return print(String(decoding: body, as: UTF8.self)) }
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        printTopics(object?["topics"] as? [[String: Any]] ?? [])
    }
}

func printTopics(_ topics: [[String: Any]]) {
    for topic in topics {
        print("\(topic["name"] ?? "")")
        for subscription in topic["subscriptions"] as? [[String: Any]] ?? [] {
            var line = "  -> \(subscription["kind"] ?? "") \(subscription["target"] ?? "")"
            if let filter = subscription["filter"] as? String { line += "  filter(\(subscription["filterScope"] ?? "")) \(filter)" }
            if subscription["raw"] as? Bool == true { line += "  raw" }
            if let dlq = subscription["deadLetterQueue"] as? String { line += "  dlq \(dlq)" }
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
        var body: [String: Any] = [:]
        if let to { body["to"] = to }
        let answer = try await options.client.call(
            "POST", "/v1/queues/\(deadLetterQueue.percentEncodedQuery)/redrive", body: try jsonData(body))
        if options.json { return print(String(decoding: answer, as: UTF8.self)) }
        let object = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
        print("moved \(object?["moved"] ?? 0) messages")
    }
}
