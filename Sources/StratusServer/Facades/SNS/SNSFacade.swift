import Foundation
import HTTPTypes
import Hummingbird
import StratusCore
import StratusRuntime
import StratusStore

/// SNS on the control port: the query protocol with XML answers, on the host's one topic model (what it
/// creates is what `/v1/topics` and `stratus topics` show; topics declared in trigger files can be
/// published to and subscribed to, not deleted or changed here).
struct SNSFacade {
    static let namespace = "http://sns.amazonaws.com/doc/2010-03-31/"
    static let queryVersion = "2010-03-31"
    static let actions: Set<String> = [
        "CreateTopic", "ListTopics", "DeleteTopic", "GetTopicAttributes", "SetTopicAttributes", "Subscribe",
        "ConfirmSubscription", "Unsubscribe", "ListSubscriptions", "ListSubscriptionsByTopic",
        "GetSubscriptionAttributes", "SetSubscriptionAttributes", "Publish", "PublishBatch", "TagResource",
        "UntagResource", "ListTagsForResource",
    ]

    let host: StratusHost
    let info: AWSRequestInfo

    static func handle(_ request: Request, parameters: QueryParameters, host: StratusHost) async -> Response {
        let info = AWSRequestInfo(request)
        let action = parameters["Action"] ?? ""
        do {
            let result = try await SNSFacade(host: host, info: info).perform(action, parameters)
            return XML.response(action: action, namespace: namespace, result: result, requestId: info.requestId)
        } catch {
            let failure = SNSError(error)
            return XML.error(
                namespace: namespace, status: failure.status, code: failure.code, message: failure.message,
                sender: failure.status.code < 500, requestId: info.requestId)
        }
    }

    private func perform(_ action: String, _ p: QueryParameters) async throws -> AWSShape? {
        switch action {
        case "CreateTopic":
            guard let name = p["Name"] else { throw SNSError.invalid("Name") }
            var attributes = try Self.entries(p, "Attributes")
            // FIFO topics: a name ending in .fifo and `FifoTopic: true`, both or neither (a standard topic may say
            // `FifoTopic: false`, as tools that always pass the flag do).
            let flag = attributes.removeValue(forKey: "FifoTopic")?.lowercased()
            guard flag == nil || flag == "true" || flag == "false" else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: FifoTopic must be true or false")
            }
            let fifo = flag == "true"
            guard TopicPublisher.isValidName(name), fifo == TopicPublisher.isFIFO(name) else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: fifo || name.hasSuffix(".fifo")
                        ? "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
                        : "Invalid parameter: Topic Name (1 to 256 letters, digits, hyphens or underscores)")
            }
            if attributes["ContentBasedDeduplication"] != nil, !fifo {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Attributes Reason: ContentBasedDeduplication is for FIFO topics only")
            }
            for (key, value) in attributes { try checkTopicAttribute(key, value) }
            let tags = try Self.tags(p)
            if host.topics.attributes(of: name) != nil {
                // As SNS: creating an existing topic answers it, unless the call asks for other settings or tags
                // than it shows.
                let shown = topicAttributes(name)
                if attributes.contains(where: { shown[$0.key, default: ""] != $0.value }) {
                    throw SNSError(
                        code: "InvalidParameter",
                        message: "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
                }
                if !tags.isEmpty, tags != host.topics.tags(of: name) {
                    throw SNSError(
                        code: "InvalidParameter",
                        message: "Invalid parameter: Tags Reason: Topic already exists with different tags")
                }
            } else {
                try await host.topics.create(name)
                for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
                    try await host.topics.setAttribute(key, value, of: name)
                }
                if !tags.isEmpty { try await retag(name, adding: tags, removing: []) }
            }
            return .structure([("TopicArn", .string(topicArn(name)))])
        case "ListTopics":
            let names = host.topics.all().keys.sorted()
            let (page, next) = try Self.page(names, token: p["NextToken"])
            var fields: [(String, AWSShape)] = [
                (
                    "Topics",
                    .list(
                        member: "member", flattened: false,
                        page.map { .structure([("TopicArn", .string(topicArn($0)))]) })
                )
            ]
            if let next { fields.append(("NextToken", .string(next))) }
            return .structure(fields)
        case "DeleteTopic":
            // Deleting a topic that does not exist succeeds, as in SNS.
            let topic: String
            do {
                topic = try topicName(p["TopicArn"])
            } catch let error as SNSError where error.code == "NotFound" {
                return nil
            }
            try refuseDeclared(topic: topic, "delete")
            try await host.topics.delete(topic)
            return nil
        case "GetTopicAttributes":
            let topic = try topicName(p["TopicArn"])
            return .structure([
                (
                    "Attributes",
                    .strings(topicAttributes(topic), entry: "entry", flattened: false, key: "key", value: "value")
                )
            ])
        case "SetTopicAttributes":
            let topic = try topicName(p["TopicArn"])
            guard let name = p["AttributeName"] else { throw SNSError.invalid("AttributeName") }
            try refuseDeclared(topic: topic, "change")
            if name == "ContentBasedDeduplication", !TopicPublisher.isFIFO(topic) {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Attributes Reason: ContentBasedDeduplication is for FIFO topics only")
            }
            try checkTopicAttribute(name, p["AttributeValue"] ?? "")
            try await host.topics.setAttribute(name, p["AttributeValue"].flatMap { $0.isEmpty ? nil : $0 }, of: topic)
            return nil
        case "AddPermission", "RemovePermission":
            try await permission(p, add: action == "AddPermission")
            return nil
        case "Subscribe":
            return try await subscribe(p)
        case "ConfirmSubscription":
            // Subscriptions are confirmed when they are made: a token names nothing to confirm.
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Token")
        case "Unsubscribe":
            // Removing a subscription that does not exist (any more) succeeds, as in SNS.
            let topic: String
            let id: String
            do {
                (topic, id) = try subscriptionId(p["SubscriptionArn"])
            } catch let error as SNSError where error.code == "NotFound" {
                return nil
            }
            try refuseDeclared(subscription: id, topic: topic, "remove")
            try await host.topics.unsubscribe(id)
            return nil
        case "ListSubscriptions", "ListSubscriptionsByTopic":
            var subscriptions = host.topics.all().sorted { $0.key < $1.key }.flatMap(\.value)
            if action == "ListSubscriptionsByTopic" {
                let topic = try topicName(p["TopicArn"])
                subscriptions = subscriptions.filter { $0.topic == topic }
            }
            let (page, next) = try Self.page(subscriptions.map(\.id), token: p["NextToken"])
            let byId = Dictionary(subscriptions.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let members = page.compactMap { byId[$0] }.map { subscription -> AWSShape in
                .structure([
                    ("SubscriptionArn", .string(subscriptionArn(subscription))), ("Owner", .string(AWS.accountId)),
                    ("Protocol", .string(subscription.endpoint.protocolName)),
                    ("Endpoint", .string(endpoint(subscription.endpoint))),
                    ("TopicArn", .string(topicArn(subscription.topic))),
                ])
            }
            var fields: [(String, AWSShape)] = [("Subscriptions", .list(member: "member", flattened: false, members))]
            if let next { fields.append(("NextToken", .string(next))) }
            return .structure(fields)
        case "GetSubscriptionAttributes":
            let (_, id) = try subscriptionId(p["SubscriptionArn"])
            guard let subscription = host.topics.subscription(id: id) else {
                throw SNSError.notFound("Subscription does not exist")
            }
            return .structure([
                (
                    "Attributes",
                    .strings(
                        subscriptionAttributes(subscription), entry: "entry", flattened: false, key: "key",
                        value: "value")
                )
            ])
        case "SetSubscriptionAttributes":
            let (topic, id) = try subscriptionId(p["SubscriptionArn"])
            guard var subscription = host.topics.subscription(id: id) else {
                throw SNSError.notFound("Subscription does not exist")
            }
            guard let name = p["AttributeName"] else { throw SNSError.invalid("AttributeName") }
            try refuseDeclared(subscription: id, topic: topic, "change")
            try apply([name: p["AttributeValue"] ?? ""], to: &subscription)
            try await host.topics.subscribe(subscription)
            return nil
        case "Publish":
            let topic: String
            if let target = p["TargetArn"] ?? p["TopicArn"] {
                topic = try topicName(target)
            } else if p["PhoneNumber"] != nil {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: PhoneNumber (SMS is not supported by Stratus)")
            } else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
            }
            let published = try await publish(to: topic, p)
            var fields: [(String, AWSShape)] = [("MessageId", .string(published.messageId))]
            if let sequence = published.sequenceNumber { fields.append(("SequenceNumber", .string(sequence))) }
            return .structure(fields)
        case "PublishBatch":
            return try await publishBatch(p)
        case "TagResource":
            let topic = try taggedTopic(p)
            try refuseDeclared(topic: topic, "tag")
            try await retag(topic, adding: try Self.tags(p), removing: [])
            return .structure([])  // an empty TagResourceResult, which botocore looks for
        case "UntagResource":
            let topic = try taggedTopic(p)
            try refuseDeclared(topic: topic, "tag")
            let keys = try p.members("TagKeys.member").compactMap { $0[""] }
            try await retag(topic, adding: [:], removing: keys)
            return .structure([])
        case "ListTagsForResource":
            let tags = host.topics.tags(of: try taggedTopic(p)) ?? [:]
            return .structure([
                (
                    "Tags",
                    .list(
                        member: "member", flattened: false,
                        tags.sorted { $0.key < $1.key }.map {
                            .structure([("Key", .string($0.key)), ("Value", .string($0.value))])
                        })
                )
            ])
        case "":
            throw SNSError(code: "MissingAction", message: "The request must name an Action.")
        default:
            throw SNSError(
                code: "InvalidAction", message: "The action \(action.prefix(100)) is not valid for this endpoint.")
        }
    }

    // MARK: Names, ARNs, pages

    func topicArn(_ topic: String) -> String { "arn:aws:sns:\(info.region):\(AWS.accountId):\(topic)" }

    func subscriptionArn(_ subscription: Subscription) -> String {
        "\(topicArn(subscription.topic)):\(Subscription.arnId(subscription.id))"
    }

    func endpoint(_ endpoint: Subscription.Endpoint) -> String {
        switch endpoint {
        case .queue(let name): "arn:aws:sqs:\(info.region):\(AWS.accountId):\(name)"
        case .function(let name): "arn:aws:lambda:\(info.region):\(AWS.accountId):function:\(name)"
        case .http(let url): url
        }
    }

    /// The topic an ARN names (its last segment), which must exist.
    func topicName(_ arn: String?) throws -> String {
        guard let arn, !arn.isEmpty else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: TopicArn")
        }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sns" else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: TopicArn")
        }
        let name = String(parts[5])
        guard host.topics.attributes(of: name) != nil else { throw SNSError.notFound("Topic does not exist") }
        return name
    }

    /// The topic and subscription id an ARN `arn:aws:sns:<region>:<account>:<topic>:<id>` names: a
    /// subscription of that topic, or `NotFound`.
    private func subscriptionId(_ arn: String?) throws -> (topic: String, id: String) {
        let parts = (arn ?? "").split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "arn", parts[2] == "sns" else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: SubscriptionArn")
        }
        let (topic, last) = (String(parts[5]), String(parts[6]))
        // The last part is the id, or a declared subscription's UUID (`Subscription.arnId`).
        let id =
            host.topics.subscription(id: last)?.id
            ?? host.topics.all()[topic]?.first { Subscription.arnId($0.id) == last }?.id
        guard let id, host.topics.subscription(id: id)?.topic == topic else {
            throw SNSError.notFound("Subscription does not exist")
        }
        return (topic, id)
    }

    func refuseDeclared(topic: String, _ verb: String) throws {
        if let place = host.project.triggers.declaration(ofTopic: topic) {
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: TopicArn Reason: topic '\(topic)' is declared in \(place); \(verb) it there (trigger files own the topics they declare)"
            )
        }
    }

    func refuseDeclared(subscription id: String, topic: String, _ verb: String) throws {
        if let place = host.project.triggers.declaration(ofTopic: topic),
            host.project.triggers.topics[topic]?.contains(where: { $0.id == id }) == true
        {
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: SubscriptionArn Reason: this subscription is declared with topic '\(topic)' in \(place); \(verb) it there"
            )
        }
    }

    /// `Attributes.entry.N.key` / `.value`.
    static func entries(_ p: QueryParameters, _ prefix: String) throws(QueryParameters.Malformed) -> [String: String] {
        var map: [String: String] = [:]
        for (index, entry) in try p.members("\(prefix).entry").enumerated() {
            guard let key = entry["key"] else {
                throw QueryParameters.Malformed(message: "\(prefix).entry.\(index + 1).key is required.")
            }
            map[key] = entry["value"] ?? ""
        }
        return map
    }

    /// Pages of 100, the token being the last item of the previous page.
    static func page(_ items: [String], token: String?) throws -> (page: [String], next: String?) {
        // In order, and after the token by value: a token stays good when its item is deleted meanwhile (a
        // script deleting what it lists, page by page).
        var rest = items.sorted()[...]
        if let token {
            guard let after = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: NextToken")
            }
            rest = rest.drop { $0 <= after }
        }
        let page = Array(rest.prefix(100))
        let next = rest.count > 100 ? page.last.map { Data($0.utf8).base64EncodedString() } : nil
        return (page, next)
    }
}

/// An SNS error: its code, HTTP status and message.
struct SNSError: Error {
    var code: String
    var message: String
    var status: HTTPResponse.Status = .badRequest

    static func notFound(_ message: String) -> SNSError {
        SNSError(code: "NotFound", message: message, status: .notFound)
    }

    static let tagLimit = SNSError(
        code: "TagLimitExceeded", message: "Could not complete request: tag quota of per resource exceeded")

    static func invalid(_ parameter: String) -> SNSError {
        SNSError(
            code: "InvalidParameter", message: "Invalid parameter: \(parameter) Reason: no value for required parameter"
        )
    }
}

extension SNSError {
    init(_ error: any Error) {
        switch error {
        case let error as SNSError: self = error
        case let error as QueryParameters.Malformed:
            self = SNSError(code: "InvalidParameter", message: "Invalid parameter: \(error.message)")
        case let error as TopicPublisher.TopicError:
            switch error.code {
            case .notFound: self = .notFound("Topic does not exist")
            case .tooLarge: self = SNSError(code: "InvalidParameter", message: "Invalid parameter: Message too long")
            case .invalid: self = SNSError(code: "InvalidParameter", message: "Invalid parameter: \(error.message)")
            case .overLimit:
                self = SNSError(
                    code: error.message.contains("subscriptions") ? "SubscriptionLimitExceeded" : "TopicLimitExceeded",
                    message: error.message, status: .forbidden)
            }
        case let error as QueueService.QueueError:
            self = SNSError(code: "InvalidParameter", message: "Invalid parameter: \(error.message)")
        case let error as StoreError where error.code == .topicDoesNotExist:
            self = .notFound("Topic does not exist")
        case let error as StoreError where error.code == .unavailable:
            self = SNSError(code: "ServiceUnavailable", message: error.message, status: .serviceUnavailable)
        default:
            self = SNSError(code: "InternalError", message: "\(error)", status: .internalServerError)
        }
    }
}
