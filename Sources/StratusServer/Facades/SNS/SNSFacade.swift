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

    // MARK: Tags

    /// SNS's limit on a topic's tags.
    static let maxTags = 50

    /// `Tags.member.N.Key` / `.Value`: keys of 1 to 128 characters, not starting with `aws:`, values of at most
    /// 256, in SNS's characters (letters, digits, spaces and `_ . : / = + - @`).
    static func tags(_ p: QueryParameters) throws -> [String: String] {
        var tags: [String: String] = [:]
        for (index, member) in try p.members("Tags.member").enumerated() {
            guard let key = member["Key"] else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Tags.member.\(index + 1).Key")
            }
            let value = member["Value"] ?? ""
            guard (1...128).contains(key.count), value.count <= 256, isTagText(key), isTagText(value) else {
                throw SNSError(
                    code: "InvalidParameter",
                    message:
                        "Invalid parameter: Tags Reason: tag '\(key.prefix(128))': keys have 1 to 128 characters and values at most 256, of letters, digits, spaces and _ . : / = + - @"
                )
            }
            guard !key.lowercased().hasPrefix("aws:") else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Tags Reason: tag keys starting with aws: are reserved for AWS")
            }
            tags[key] = value
        }
        guard tags.count <= maxTags else { throw SNSError.tagLimit }
        return tags
    }

    private static func isTagText(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || $0.properties.numericType != nil || " _.:/=+-@".unicodeScalars.contains($0)
        }
    }

    /// The topic `ResourceArn` names; `ResourceNotFound` (404) when there is none.
    private func taggedTopic(_ p: QueryParameters) throws -> String {
        guard let arn = p["ResourceArn"], !arn.isEmpty else { throw SNSError.invalid("ResourceArn") }
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "sns" else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: ResourceArn")
        }
        let name = String(parts[5])
        guard host.topics.tags(of: name) != nil else {
            throw SNSError(code: "ResourceNotFound", message: "Resource does not exist", status: .notFound)
        }
        return name
    }

    private func retag(_ topic: String, adding: [String: String], removing: [String]) async throws {
        do {
            try await host.topics.retag(topic, adding: adding, removing: removing, limit: Self.maxTags)
        } catch let error as TopicPublisher.TopicError where error.code == .overLimit {
            throw SNSError.tagLimit
        }
    }

    // MARK: Subscriptions

    private func subscribe(_ p: QueryParameters) async throws -> AWSShape {
        let topic = try topicName(p["TopicArn"])
        guard let protocolName = p["Protocol"]?.lowercased() else { throw SNSError.invalid("Protocol") }
        guard let target = p["Endpoint"], !target.isEmpty else { throw SNSError.invalid("Endpoint") }
        if TopicPublisher.isFIFO(topic), ["lambda", "http", "https"].contains(protocolName) {
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: Protocol Reason: FIFO topics deliver to SQS queues only (\(protocolName) is not supported)"
            )
        }
        let endpoint: Subscription.Endpoint
        switch protocolName {
        case "sqs":
            // An SQS ARN, of a queue that need not exist yet: SNS does not check, and delivers once it does.
            let parts = target.split(separator: ":", omittingEmptySubsequences: false)
            let queue = SQSOperations.name(ofArn: target)
            guard parts.count == 6, parts[0] == "arn", parts[2] == "sqs", QueueConfig.isValidQueueName(queue) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: SQS endpoint ARN")
            }
            if queue.hasSuffix(".fifo"), !TopicPublisher.isFIFO(topic) {
                throw SNSError(
                    code: "InvalidParameter",
                    message:
                        "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"
                )
            }
            endpoint = .queue(queue)
        case "lambda":
            let (name, _) = LambdaFacade.functionName(from: target)
            guard host.dispatcher.function(named: name) != nil else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Lambda endpoint ARN (no function '\(name.prefix(80))' is loaded)")
            }
            endpoint = .function(name)
        case "http", "https":
            guard target.lowercased().hasPrefix(protocolName + "://") else {
                throw SNSError(
                    code: "InvalidParameter", message: "Invalid parameter: Endpoint must match the specified protocol")
            }
            if let problem = Subscription.Endpoint.problem(withHTTPURL: target) {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Endpoint: \(problem)")
            }
            endpoint = .http(target)
        default:
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: Amazon SNS does not support this protocol string: \(protocolName.prefix(40)) (Stratus delivers to sqs, lambda, http and https)"
            )
        }
        var subscription = Subscription(id: RequestID.make(), topic: topic, endpoint: endpoint)
        let attributes = try Self.entries(p, "Attributes")
        try apply(attributes, to: &subscription)
        // Subscribing the same endpoint again answers the existing subscription, as SNS does, unless it asks for
        // other attributes; checked and created under one lock, so concurrent calls make one subscription.
        let kept = try await host.topics.subscribe(subscription, reusingEndpoint: true, queueMayBeMissing: true)
        guard kept.id == subscription.id || attributes.isEmpty || kept.hasSameSettings(as: subscription) else {
            throw SNSError(
                code: "InvalidParameter",
                message: "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
        }
        return .structure([("SubscriptionArn", .string(subscriptionArn(kept)))])
    }

    private func apply(_ attributes: [String: String], to subscription: inout Subscription) throws {
        var policy = subscription.filterPolicy
        var scope = subscription.filterScope
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "FilterPolicy": policy = value.isEmpty ? nil : value
            case "FilterPolicyScope":
                guard let parsed = FilterPolicy.Scope(rawValue: value) else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: FilterPolicyScope: Invalid value [\(value.prefix(40))]. Please use either MessageBody or MessageAttributes"
                    )
                }
                scope = parsed
            case "RawMessageDelivery":
                guard ["true", "false"].contains(value.lowercased()) else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [\(value.prefix(40))]. Must be true or false."
                    )
                }
                if case .function = subscription.endpoint {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Attributes Reason: Delivery protocol [lambda] does not support raw message delivery."
                    )
                }
                subscription.raw = value.lowercased() == "true"
            case "RedrivePolicy":
                if value.isEmpty {
                    subscription.deadLetterQueue = nil
                    continue
                }
                guard let parsed = JSONValue.parseObject(value.utf8),
                    let arn = try? AWSInput(parsed).string("deadLetterTargetArn"),
                    host.queues.config(SQSOperations.name(ofArn: arn)) != nil
                else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message: "Invalid parameter: RedrivePolicy: deadLetterTargetArn must name an existing queue")
                }
                subscription.deadLetterQueue = SQSOperations.name(ofArn: arn)
            case "DeliveryPolicy":
                continue  // accepted; Stratus retries HTTP deliveries with its own policy (see README)
            default:
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: AttributeName")
            }
        }
        if let policy {
            do {
                try subscription.setFilter(json: policy, scope: scope)
            } catch {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: FilterPolicy: \(error.message)")
            }
        } else {
            subscription.filterPolicy = nil
            subscription.filterScope = scope
        }
    }

    private func subscriptionAttributes(_ subscription: Subscription) -> [String: String] {
        var all: [String: String] = [
            "SubscriptionArn": subscriptionArn(subscription), "TopicArn": topicArn(subscription.topic),
            "Protocol": subscription.endpoint.protocolName, "Endpoint": endpoint(subscription.endpoint),
            "Owner": AWS.accountId, "PendingConfirmation": "false", "ConfirmationWasAuthenticated": "true",
            "RawMessageDelivery": subscription.raw ? "true" : "false",
            "SubscriptionPrincipal": "arn:aws:iam::\(AWS.accountId):user/stratus",
        ]
        if let policy = subscription.filterPolicy {
            all["FilterPolicy"] = policy
            all["FilterPolicyScope"] = subscription.filterScope.rawValue
        }
        if let dlq = subscription.deadLetterQueue {
            all["RedrivePolicy"] = #"{"deadLetterTargetArn":"arn:aws:sqs:\#(info.region):\#(AWS.accountId):\#(dlq)"}"#
        }
        return all
    }

    // MARK: Publishing

    private func publish(to topic: String, _ p: QueryParameters) async throws -> TopicPublisher.Published {
        guard let message = p["Message"] else {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: Message Reason: no value for required parameter")
        }
        guard !message.isEmpty else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Empty message")
        }
        let attributes = try Self.messageAttributes(p)
        guard message.utf8.count + MessageAttribute.size(of: attributes) <= TopicPublisher.maxMessageBytes else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Message too long")
        }
        var perProtocol: [String: String] = [:]
        var defaultMessage = message
        if let structure = p["MessageStructure"] {
            guard structure == "json" else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: MessageStructure")
            }
            guard let object = JSONValue.parseObject(message.utf8),
                case .string(let fallback)? = object["default"]
            else {
                throw SNSError(
                    code: "InvalidParameter",
                    message: "Invalid parameter: Message Structure - No default entry in JSON message body")
            }
            guard !fallback.isEmpty else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Empty message")
            }
            defaultMessage = fallback
            for (key, value) in object where key != "default" {
                guard case .string(let text) = value else {
                    throw SNSError(
                        code: "InvalidParameter",
                        message:
                            "Invalid parameter: Message Structure - the value for '\(key.prefix(40))' must be a string")
                }
                perProtocol[key] = text
            }
        }
        if let subject = p["Subject"] {
            guard !subject.isEmpty, subject.count <= 100, !subject.contains(where: \.isNewline) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Subject")
            }
        }
        return try await host.topics.publish(
            to: topic, message: defaultMessage, subject: p["Subject"], attributes: attributes, perProtocol: perProtocol,
            groupId: p["MessageGroupId"], deduplicationId: p["MessageDeduplicationId"])
    }

    private func publishBatch(_ p: QueryParameters) async throws -> AWSShape {
        let topic = try topicName(p["TopicArn"])
        let entries = try p.members("PublishBatchRequestEntries.member")
        guard !entries.isEmpty else {
            throw SNSError(code: "EmptyBatchRequest", message: "The batch request doesn't contain any entries.")
        }
        guard entries.count <= 10 else {
            throw SNSError(
                code: "TooManyEntriesInBatchRequest",
                message: "The batch request contains more entries than permissible.")
        }
        var ids: Set<String> = []
        var total = 0
        for entry in entries {
            let id = entry["Id"] ?? ""
            guard (1...80).contains(id.utf8.count),
                id.utf8.allSatisfy({
                    $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                })
            else {
                throw SNSError(
                    code: "InvalidBatchEntryId",
                    message: "The Id of a batch entry in a batch request doesn't abide by the specification.")
            }
            guard ids.insert(id).inserted else {
                throw SNSError(
                    code: "BatchEntryIdsNotDistinct",
                    message: "Two or more batch entries in the request have the same Id.")
            }
            let attributes = (try? Self.messageAttributes(entry)) ?? [:]
            total += (entry["Message"]?.utf8.count ?? 0) + MessageAttribute.size(of: attributes)
        }
        guard total <= TopicPublisher.maxMessageBytes else {
            throw SNSError(
                code: "BatchRequestTooLong",
                message: "The length of all the messages put together is more than the limit.")
        }
        var successful: [AWSShape] = []
        var failed: [AWSShape] = []
        for entry in entries {
            let id = entry["Id"] ?? ""
            do {
                let published = try await publish(to: topic, entry)
                var fields: [(String, AWSShape)] = [("Id", .string(id)), ("MessageId", .string(published.messageId))]
                if let sequence = published.sequenceNumber { fields.append(("SequenceNumber", .string(sequence))) }
                successful.append(.structure(fields))
            } catch {
                let failure = SNSError(error)
                guard failure.status.code < 500 || failure.code == "InternalError" else { throw error }
                failed.append(
                    .structure([
                        ("Id", .string(id)), ("Code", .string(failure.code)), ("Message", .string(failure.message)),
                        ("SenderFault", .bool(failure.status.code < 500)),
                    ]))
            }
        }
        return .structure([
            ("Successful", .list(member: "member", flattened: false, successful)),
            ("Failed", .list(member: "member", flattened: false, failed)),
        ])
    }

    /// `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` / `.Value.BinaryValue`.
    private static func messageAttributes(_ p: QueryParameters) throws -> [String: MessageAttribute] {
        var attributes: [String: MessageAttribute] = [:]
        for entry in try p.members("MessageAttributes.entry") {
            guard let name = entry["Name"] else { continue }
            guard let type = entry["Value.DataType"], !type.isEmpty else {
                throw SNSError(
                    code: "ParameterValueInvalid",
                    message:
                        "The message attribute '\(name.prefix(256))' must contain non-empty message attribute type.")
            }
            let value = type.hasPrefix("Binary") ? entry["Value.BinaryValue"] : entry["Value.StringValue"]
            guard let value else {
                throw SNSError(
                    code: "ParameterValueInvalid",
                    message:
                        "The message attribute '\(name.prefix(256))' must contain non-empty message attribute value for message attribute type '\(type.prefix(100))'."
                )
            }
            attributes[name] = MessageAttribute(dataType: type, stringValue: value)
        }
        if let problem = MessageAttribute.problem(in: attributes, maxCount: .max) {
            throw SNSError(code: "ParameterValueInvalid", message: problem)
        }
        return attributes
    }

    // MARK: Names, ARNs, pages

    private func topicAttributes(_ topic: String) -> [String: String] {
        let subscriptions = host.topics.all()[topic] ?? []
        var all: [String: String] = [
            "TopicArn": topicArn(topic), "Owner": AWS.accountId, "SubscriptionsConfirmed": String(subscriptions.count),
            "SubscriptionsPending": "0", "SubscriptionsDeleted": "0", "DisplayName": "",
            "Policy": Self.defaultPolicy(topicArn(topic)),
            "EffectiveDeliveryPolicy":
                #"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}"#,
        ]
        if TopicPublisher.isFIFO(topic) {
            all["FifoTopic"] = "true"
            all["ContentBasedDeduplication"] = "false"
        }
        all.merge(host.topics.attributes(of: topic) ?? [:]) { _, set in set }
        return all
    }

    /// The access policy SNS gives a new topic (Stratus does not enforce policies).
    private static func defaultPolicy(_ arn: String) -> String {
        #"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"\#(arn)","Condition":{"StringEquals":{"AWS:SourceOwner":"\#(AWS.accountId)"}}}]}"#
    }

    /// AddPermission / RemovePermission: a statement named by its label in the topic's `Policy`, kept and
    /// shown (Stratus does not enforce policies).
    private func permission(_ p: QueryParameters, add: Bool) async throws {
        let topic = try topicName(p["TopicArn"])
        guard let label = p["Label"], QueueConfig.isValidName(label, maxLength: 100) else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Label")
        }
        try refuseDeclared(topic: topic, "change")
        let accounts = try p.members("AWSAccountId.member").compactMap { $0[""] }.filter { !$0.isEmpty }
        let actions = try p.members("ActionName.member").compactMap { $0[""] }.filter { !$0.isEmpty }
        if add {
            guard !accounts.isEmpty else { throw SNSError.invalid("AWSAccountId") }
            guard !actions.isEmpty else { throw SNSError.invalid("ActionName") }
            guard actions.allSatisfy(Self.topicActions.contains) else {
                throw SNSError(code: "InvalidParameter", message: "Policy statement action out of service scope!")
            }
        }
        let arn = topicArn(topic)
        // Read, changed and written under the topics' lock: concurrent calls each keep their statement.
        try await host.topics.updateAttribute("Policy", of: topic) { current in
            guard case .object(var policy)? = JSONValue.parse((current ?? Self.defaultPolicy(arn)).utf8) else {
                throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Policy (the topic's is not JSON)")
            }
            // IAM allows one statement as an object as well as a list of them.
            var statements: [JSONValue]
            switch policy["Statement"] {
            case .array(let list)?: statements = list
            case .object(let one)?: statements = [.object(one)]
            default: statements = []
            }
            let index = statements.firstIndex { statement in
                if case .object(let fields) = statement, fields["Sid"] == .string(label) { return true }
                return false
            }
            if add {
                guard index == nil else {
                    throw SNSError(code: "InvalidParameter", message: "Invalid parameter: Statement already exists")
                }
                func one(_ values: [JSONValue]) -> JSONValue { values.count == 1 ? values[0] : .array(values) }
                statements.append(
                    .object([
                        "Sid": .string(label), "Effect": .string("Allow"),
                        "Principal": .object(["AWS": one(accounts.map { .string("arn:aws:iam::\($0):root") })]),
                        "Action": one(actions.map { .string("SNS:\($0)") }), "Resource": .string(arn),
                    ]))
            } else if let index {
                statements.remove(at: index)
            } else {
                return current  // As SNS: removing a label the policy does not have changes nothing.
            }
            policy["Statement"] = .array(statements)
            return JSONValue.object(policy).jsonText
        }
    }

    /// The actions a topic's policy may grant.
    private static let topicActions: Set<String> = [
        "GetTopicAttributes", "SetTopicAttributes", "AddPermission", "RemovePermission", "DeleteTopic", "Subscribe",
        "ListSubscriptionsByTopic", "Publish", "Receive",
    ]

    private static let topicSettable: Set<String> = [
        "DisplayName", "Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig", "SignatureVersion",
        "ArchivePolicy", "DataProtectionPolicy", "ContentBasedDeduplication",
    ]

    /// A settable topic attribute, its value within SNS's limits (a display name of at most 100 characters,
    /// others up to 30 KiB) and of the characters SNS allows.
    private func checkTopicAttribute(_ name: String, _ value: String) throws {
        guard Self.topicSettable.contains(name) else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: AttributeName")
        }
        let limit = name == "DisplayName" ? 100 : 30_720
        guard (name == "DisplayName" ? value.count : value.utf8.count) <= limit else {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: \(name) is longer than \(limit)")
        }
        guard MessageAttribute.hasAllowedCharacters(value) else {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: \(name) contains characters SNS does not allow")
        }
        // Policies are JSON documents (an empty value leaves the attribute unset).
        if ["Policy", "DeliveryPolicy", "DataProtectionPolicy", "ArchivePolicy"].contains(name), !value.isEmpty,
            JSONValue.parseObject(value.utf8) == nil
        {
            throw SNSError(code: "InvalidParameter", message: "Invalid parameter: \(name): the value is not JSON")
        }
        if name == "ContentBasedDeduplication", !["true", "false"].contains(value) {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: ContentBasedDeduplication must be true or false")
        }
        if name == "SignatureVersion", !["1", "2"].contains(value) {
            throw SNSError(
                code: "InvalidParameter", message: "Invalid parameter: SignatureVersion must be 1 or 2")
        }
    }

    private func topicArn(_ topic: String) -> String { "arn:aws:sns:\(info.region):\(AWS.accountId):\(topic)" }

    private func subscriptionArn(_ subscription: Subscription) -> String {
        "\(topicArn(subscription.topic)):\(subscription.id)"
    }

    private func endpoint(_ endpoint: Subscription.Endpoint) -> String {
        switch endpoint {
        case .queue(let name): "arn:aws:sqs:\(info.region):\(AWS.accountId):\(name)"
        case .function(let name): "arn:aws:lambda:\(info.region):\(AWS.accountId):function:\(name)"
        case .http(let url): url
        }
    }

    /// The topic an ARN names (its last segment), which must exist.
    private func topicName(_ arn: String?) throws -> String {
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
        let (topic, id) = (String(parts[5]), String(parts[6]))
        guard host.topics.subscription(id: id)?.topic == topic else {
            throw SNSError.notFound("Subscription does not exist")
        }
        return (topic, id)
    }

    private func refuseDeclared(topic: String, _ verb: String) throws {
        if let place = host.project.triggers.declaration(ofTopic: topic) {
            throw SNSError(
                code: "InvalidParameter",
                message:
                    "Invalid parameter: TopicArn Reason: topic '\(topic)' is declared in \(place); \(verb) it there (trigger files own the topics they declare)"
            )
        }
    }

    private func refuseDeclared(subscription id: String, topic: String, _ verb: String) throws {
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
